"""The committees' staff (fixture ``fixtures/officers.json``): each committee's head and officers,
and the heads' personal signing keys issued once from the test CA.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors import TransportKey
from connectors.wsse.pki import ensure_personal_certificate
from simulators.elicensing.export_pilot.goods import Committee
from simulators.kit.fixtures import load_json

__all__ = ["Person", "Staff", "head_keys", "load_staff"]


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    position: str = ""


@dataclass(frozen=True)
class Staff:
    head: Person
    officers: tuple[Person, ...]


def load_staff() -> dict[Committee, Staff]:
    raw = load_json("simulators.elicensing.export_pilot", "fixtures/officers.json", dict[str, Any])
    staff = {}
    for name, entry in raw["committees"].items():
        staff[Committee(name)] = Staff(
            head=Person(**entry["head"]),
            officers=tuple(Person(o["id"], o["name"], "officer") for o in entry["officers"]),
        )
    return staff


def head_keys(pki_dir: Path, staff: dict[Committee, Staff]) -> dict[Committee, TransportKey]:
    """Each head's personal key pair (issued once from the test CA into ``pki/personal``)."""
    keys = {}
    for committee, people in staff.items():
        cert, key = ensure_personal_certificate(
            pki_dir, people.head.id, people.head.name, people.head.position, unit=committee.value
        )
        keys[committee] = TransportKey.from_files(cert, key)
    return keys
