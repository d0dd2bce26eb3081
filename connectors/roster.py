"""The roster of the state systems this deployment connects: one entry per system, read by all.

Each entry says what the rest of the project would otherwise write down again: the system's id
(its senderId and the CN of its transport certificate), the package that simulates it, where
``kzgate up`` runs that simulator (``simulator_base_port + port_offset``), the path at which it
takes AsyncChannel pushes (``None``: it polls with ``getMessages``), the WSDL its endpoint serves
at ``?wsdl`` and its working hours (``None``: an automated registry that answers around the
clock).

Its readers: the test PKI issues one certificate per entry (``connectors.wsse.pki``), the
gateway's catalogue takes ports and push endpoints from it (``gateway.registry``), the launcher
starts one simulator process per entry (``kzgate up``: ``python -m <package>``), and each
simulator names itself by its entry. Adding a system is one entry here plus its package; the
catalogue (``gateway/registry/catalogue.toml``) keeps only routing policy: passwords, services
and access lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

from connectors.wire import GATEWAY_ID

PUSH_PATH = "/shep/async"  # IAsyncChannelClient, where a participant takes the gateway's pushes
SYNC_PATH = "/shep/sync"  # ISyncChannel, where a provider answers SendMessage
PARTICIPANT_WSDL = "AsyncChannelClient.wsdl"


@dataclass(frozen=True)
class WorkingHours:
    """A system's working day: ``start``–``end`` with a lunch break ``lunch_start``–``lunch_end``.

    Equal lunch bounds mean no lunch break.
    """

    start: time
    end: time
    lunch_start: time
    lunch_end: time

    def __post_init__(self) -> None:
        ordered = self.start <= self.lunch_start <= self.lunch_end <= self.end
        if not ordered or self.start == self.end:
            raise ValueError(
                "working hours need start <= lunch_start <= lunch_end <= end and start < end"
            )

    def periods(self) -> list[tuple[time, time]]:
        """The working periods of a day: morning and afternoon (an empty one is left out)."""
        pairs = [(self.start, self.lunch_start), (self.lunch_end, self.end)]
        return [(a, b) for a, b in pairs if a < b]


@dataclass(frozen=True)
class RosterEntry:
    """One connected state system, as every part of the project knows it."""

    system_id: str
    package: str  # the simulator package; ``python -m <package>`` serves it
    port_offset: int  # its simulator listens on simulator_base_port + port_offset
    wsdl: str  # what its endpoint serves at ?wsdl
    push_path: str | None = None  # takes AsyncChannel pushes here; None: polls (getMessages)
    hours: WorkingHours | None = None  # None: answers around the clock

    def port(self, base_port: int) -> int:
        return base_port + self.port_offset

    def url(self, host: str, base_port: int) -> str:
        return f"http://{host}:{self.port(base_port)}"

    def office_hours(self) -> WorkingHours:
        """Its working hours; ``ValueError`` for a system that answers around the clock."""
        if self.hours is None:
            raise ValueError(f"{self.system_id} works around the clock: it has no office hours")
        return self.hours


# [seed 002 §10] the Trade Committee, which issues the licences E-licensing registers:
# Mon–Fri 09:00–18:00, lunch 13:00–14:00; KEDEN's customs posts keep the same office day.
_OFFICE_DAY = WorkingHours(time(9), time(18), time(13), time(14))

ROSTER: tuple[RosterEntry, ...] = (
    RosterEntry("EGOV_PORTAL", "simulators.portal", 1, PARTICIPANT_WSDL, push_path=PUSH_PATH),
    RosterEntry("ELICENSE", "simulators.elicensing", 2, "SyncChannel.wsdl", hours=_OFFICE_DAY),
    RosterEntry(
        "KEDEN", "simulators.customs", 3, "KEDEN.wsdl", push_path=PUSH_PATH, hours=_OFFICE_DAY
    ),
    RosterEntry("GBDUL", "simulators.legal_entities", 4, "GBDUL.wsdl"),
    RosterEntry("GBDFL", "simulators.individuals", 5, "GBDFL.wsdl"),
    RosterEntry("KGD", "simulators.tax", 6, "KGD.wsdl"),
    RosterEntry("PEP", "simulators.payments", 7, "PEP.wsdl"),
    RosterEntry("MONITORING", "simulators.monitoring", 8, PARTICIPANT_WSDL, push_path=PUSH_PATH),
)


def check_roster(roster: Iterable[RosterEntry]) -> tuple[RosterEntry, ...]:
    """The roster, refused when two entries share an id or a port, or one names the gateway."""
    entries = tuple(roster)
    for attribute in ("system_id", "port_offset", "package"):
        values = [getattr(entry, attribute) for entry in entries]
        twice = sorted({str(v) for v in values if values.count(v) > 1})
        if twice:
            raise ValueError(f"roster: {attribute} {', '.join(twice)} given twice")
    if any(entry.system_id == GATEWAY_ID for entry in entries):
        raise ValueError(f"roster: {GATEWAY_ID} is the gateway, not a connected system")
    if any(entry.port_offset < 1 for entry in entries):
        raise ValueError("roster: port offsets start at 1 (the base port is the gateway's)")
    return entries


def roster_entry(system_id: str, roster: Iterable[RosterEntry] = ROSTER) -> RosterEntry:
    """The entry of ``system_id``; ``KeyError`` names the systems there are."""
    entries = tuple(roster)
    for entry in entries:
        if entry.system_id == system_id:
            return entry
    known = ", ".join(entry.system_id for entry in entries)
    raise KeyError(f"{system_id} is not in the roster of systems ({known})")


def certificate_holders(roster: Iterable[RosterEntry] = ROSTER) -> tuple[str, ...]:
    """Who the test PKI issues a transport certificate to: the gateway, then every system."""
    return (GATEWAY_ID, *(entry.system_id for entry in roster))


check_roster(ROSTER)
