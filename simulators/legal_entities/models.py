"""Domain model of one registry entry: the organization as the GBDUL simulator answers it."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from simulators.kit.identifiers import explain_invalid


class OrganizationStatus(StrEnum):
    """Registration status of a legal entity, as the registry records it."""

    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    IN_LIQUIDATION = "IN_LIQUIDATION"
    LIQUIDATED = "LIQUIDATED"
    REORGANIZED = "REORGANIZED"
    BANKRUPT = "BANKRUPT"


def _checked_identifier(value: str) -> str:
    reason = explain_invalid(value)
    if reason is not None:
        raise ValueError(reason)
    return value


# A model that cannot hold a bad BIN/IIN means the fixtures cannot silently drift into invalid data.
Identifier = Annotated[str, AfterValidator(_checked_identifier)]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Frozen(BaseModel):
    # Registry data is read-only in this simulator; freezing makes accidental edits fail loudly.
    model_config = ConfigDict(frozen=True, extra="forbid")


class Address(_Frozen):
    region: NonEmpty
    city: NonEmpty
    street: NonEmpty


class Head(_Frozen):
    """The first head (руководитель) of the organization."""

    iin: Identifier
    full_name: NonEmpty


class Organization(_Frozen):
    bin: Identifier
    name: NonEmpty
    short_name: NonEmpty
    legal_form: NonEmpty
    status: OrganizationStatus
    status_date: date
    registration_date: date
    oked_code: Annotated[str, Field(pattern=r"^\d{5}$")]
    address: Address
    head: Head

    @model_validator(mode="after")
    def _status_not_before_registration(self) -> Organization:
        if self.status_date < self.registration_date:
            raise ValueError("status_date precedes registration_date")
        return self
