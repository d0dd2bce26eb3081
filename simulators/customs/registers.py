"""The customs registers declarations rely on (F6 item 5): customs representatives
«кедендік өкілдер тізілімі» (seed 004 Annex 3), customs carriers «кедендік тасымалдаушылар
тізілімі» (Annex 4) and authorised economic operators «уәкілетті экономикалық операторлар»
(Annex 2), looked up by BIN with their status.

Inclusion itself is an office procedure of those annexes (paper or partly automated, orders of
the head), outside KEDEN's electronic flow; KEDEN holds the result [design], here from
``fixtures/registers.json``. A declaration naming a representative or carrier that is not ACTIVE
in its register is refused at formation: acting in customs for others needs the inclusion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from simulators.customs.declarations import Reason
from simulators.kit.fixtures import load_json


class RegisterKind(StrEnum):
    CUSTOMS_REPRESENTATIVE = "CUSTOMS_REPRESENTATIVE"
    CUSTOMS_CARRIER = "CUSTOMS_CARRIER"
    AEO = "AEO"


class RegisterStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    EXCLUDED = "EXCLUDED"


class RegisterEntry(BaseModel, frozen=True):
    kind: RegisterKind = Field(alias="register")
    bin: str
    name: str
    certificate_number: str
    included_on: date
    status: RegisterStatus
    status_changed_on: date | None = None


@dataclass(frozen=True)
class Registers:
    entries: tuple[RegisterEntry, ...]

    @classmethod
    def from_fixtures(cls) -> Registers:
        entries = load_json(f"{__package__}.fixtures", "registers.json", list[RegisterEntry])
        return cls(tuple(entries))

    def look_up(self, bin_: str, register: RegisterKind | None = None) -> list[RegisterEntry]:
        return [
            e for e in self.entries if e.bin == bin_ and (register is None or e.kind is register)
        ]

    def check(self, bin_: str | None, register: RegisterKind) -> list[Reason]:
        """A reason to refuse when ``bin_`` is named but not ACTIVE in ``register``."""
        if bin_ is None:
            return []
        found = self.look_up(bin_, register)
        label = register.value.lower().replace("_", " ")
        if not found:
            return [
                Reason(
                    f"NOT_IN_REGISTER_{register.value}",
                    f"{bin_} is not in the register of {label}s",
                    f"Name a {label} included in the register, or declare without one.",
                )
            ]
        if found[0].status is not RegisterStatus.ACTIVE:
            return [
                Reason(
                    f"NOT_ACTIVE_IN_REGISTER_{register.value}",
                    f"{bin_} is {found[0].status.value} in the register of {label}s "
                    f"since {found[0].status_changed_on}",
                    f"Name a {label} whose inclusion is ACTIVE.",
                )
            ]
        return []
