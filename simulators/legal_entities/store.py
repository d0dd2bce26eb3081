"""The registry's data: organizations loaded from fixtures into a read-only in-memory index.

Registry data does not change in this simulator, so there is no write path; persistence can
replace this class later behind the same ``find`` method.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from types import MappingProxyType

from pydantic import TypeAdapter

from simulators.kit.fixtures import load_json
from simulators.legal_entities.models import Organization

FIXTURES = Path(__file__).parent / "fixtures" / "organizations.json"
_ORGANIZATIONS = TypeAdapter(list[Organization])


class OrganizationStore:
    """Organizations indexed by BIN; read-only after construction."""

    def __init__(self, organizations: Iterable[Organization]) -> None:
        index: dict[str, Organization] = {}
        for org in organizations:
            if org.bin in index:
                raise ValueError(f"duplicate BIN in registry data: {org.bin}")
            index[org.bin] = org
        self._by_bin = MappingProxyType(index)

    @classmethod
    def from_json(cls, path: Path) -> OrganizationStore:
        return cls(_ORGANIZATIONS.validate_json(path.read_bytes()))

    def find(self, bin: str) -> Organization | None:
        return self._by_bin.get(bin)

    def __len__(self) -> int:
        return len(self._by_bin)

    def __iter__(self) -> Iterator[Organization]:
        return iter(self._by_bin.values())


@cache
def default_store() -> OrganizationStore:
    """The store over the shipped fixtures, loaded once (it is immutable, so sharing is safe)."""
    return OrganizationStore(load_json(f"{__package__}.fixtures", FIXTURES.name, _ORGANIZATIONS))
