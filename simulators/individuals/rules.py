"""The look-up decision: what the registry answers for a requested IIN."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from simulators.individuals.models import Person
from simulators.kit.identifiers import explain_invalid


class ResultCode(StrEnum):
    FOUND = "FOUND"
    NOT_FOUND = "NOT_FOUND"
    INVALID_IIN = "INVALID_IIN"


class PersonFinder(Protocol):
    def find(self, iin: str) -> Person | None: ...


class LookupResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: ResultCode
    message: str
    iin: str
    person: Person | None = None


def look_up(iin: str, store: PersonFinder) -> LookupResult:
    """Answer a look-up by IIN: validate the number, then search the registry."""
    reason = explain_invalid(iin)
    if reason is not None:
        return LookupResult(code=ResultCode.INVALID_IIN, message=f"Invalid IIN: {reason}", iin=iin)
    person = store.find(iin)
    if person is None:
        return LookupResult(code=ResultCode.NOT_FOUND, message=f"No person with IIN {iin}", iin=iin)
    # A deceased or missing person is still FOUND: the registry reports the status and leaves
    # the decision (e.g. refusing an application) to the asking system.
    return LookupResult(
        code=ResultCode.FOUND,
        message=f"Person found, status {person.status}",
        iin=iin,
        person=person,
    )
