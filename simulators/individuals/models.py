"""Domain model of one registry entry: the person as the GBDFL simulator answers it."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from simulators.kit.identifiers import Sex, explain_invalid

# The IIN's 7th digit: century of birth and sex (odd = male), see simulators.kit.identifiers.
_CENTURY_BY_DIGIT = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


class PersonStatus(StrEnum):
    """Civil status of a person, as the registry records it."""

    ALIVE = "ALIVE"
    DECEASED = "DECEASED"
    MISSING = "MISSING"  # declared missing by a court (безвестно отсутствующий)
    EMIGRATED = "EMIGRATED"  # left the country for permanent residence


# The statuses in which a person can act in trade or before customs: a deceased, missing or
# emigrated person is nobody's applicant or declarant, whatever another register says.
ACTIVE_PERSON_STATUSES = frozenset({PersonStatus.ALIVE})


def _checked_iin(value: str) -> str:
    reason = explain_invalid(value)
    if reason is not None:
        raise ValueError(reason)
    return value


# A model that cannot hold a bad IIN means the fixtures cannot silently drift into invalid data.
Iin = Annotated[str, AfterValidator(_checked_iin)]
NonEmpty = Annotated[str, Field(min_length=1)]


def birth_date_of(iin: str) -> date:
    """The birth date an IIN encodes (digits 1–6 and the century from digit 7)."""
    century = _CENTURY_BY_DIGIT.get(int(iin[6]))
    if century is None:
        raise ValueError(f"IIN {iin} has no century/sex digit 1-6")
    return date(century + int(iin[:2]), int(iin[2:4]), int(iin[4:6]))


def sex_of(iin: str) -> Sex:
    """The sex an IIN encodes: odd 7th digit male, even female."""
    return Sex.MALE if int(iin[6]) % 2 else Sex.FEMALE


class _Frozen(BaseModel):
    # Registry data is read-only in this simulator; freezing makes accidental edits fail loudly.
    model_config = ConfigDict(frozen=True, extra="forbid")


class EntrepreneurStatus(StrEnum):
    """Where an individual entrepreneur (жеке кәсіпкер / ИП) stands in the register."""

    ACTIVE = "ACTIVE"  # registered (activity started) and trading
    SUSPENDED = "SUSPENDED"  # activity suspended on the entrepreneur's notice
    TERMINATED = "TERMINATED"  # activity terminated, the registration closed


class Entrepreneur(_Frozen):
    """A person's state registration as an individual entrepreneur (start of activity).

    Seed 002, LR p.4 ¶2 / PR p.4 ¶2: the provider fetches the data of "the state registration of
    an individual entrepreneur or the start of activity as an individual entrepreneur" through
    the gateway. The simulated GBDFL carries it with the person (simulators/elicensing/DESIGN.md
    "IE register" says why here and not in KGD).
    """

    trade_name: NonEmpty  # «ИП <full name>» unless the entrepreneur chose a name
    registered_on: date  # state registration / notification of the start of activity
    status: EntrepreneurStatus
    status_date: date

    @model_validator(mode="after")
    def _status_after_registration(self) -> Entrepreneur:
        if self.status_date < self.registered_on:
            raise ValueError("the IE status_date precedes its registration")
        return self


class Address(_Frozen):
    """Permanent registration address (адрес постоянной регистрации)."""

    region: NonEmpty
    city: NonEmpty
    street: NonEmpty


class Person(_Frozen):
    iin: Iin
    last_name: NonEmpty
    first_name: NonEmpty
    middle_name: str | None = None  # patronymic; many people have none
    birth_date: date
    sex: Sex
    citizenship: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]  # ISO 3166-1 alpha-2
    status: PersonStatus
    status_date: date
    address: Address
    entrepreneur: Entrepreneur | None = None  # None: never registered as an entrepreneur

    @property
    def full_name(self) -> str:
        """Surname, given name, patronymic — the order the registry and GBDUL use."""
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @model_validator(mode="after")
    def _agrees_with_iin(self) -> Person:
        # The IIN encodes birth date and sex; a record that contradicts it is corrupt data.
        if birth_date_of(self.iin) != self.birth_date:
            raise ValueError(f"birth_date {self.birth_date} contradicts IIN {self.iin}")
        if sex_of(self.iin) is not self.sex:
            raise ValueError(f"sex {self.sex} contradicts IIN {self.iin}")
        if self.status_date < self.birth_date:
            raise ValueError("status_date precedes birth_date")
        return self
