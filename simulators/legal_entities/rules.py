"""The look-up decision: what the registry answers for a requested BIN."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from simulators.kit.identifiers import explain_invalid
from simulators.legal_entities.models import Organization


class ResultCode(StrEnum):
    FOUND = "FOUND"
    NOT_FOUND = "NOT_FOUND"
    INVALID_BIN = "INVALID_BIN"


class OrganizationFinder(Protocol):
    def find(self, bin: str) -> Organization | None: ...


class LookupResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: ResultCode
    message: str
    bin: str
    organization: Organization | None = None


def look_up(bin: str, store: OrganizationFinder) -> LookupResult:
    """Answer a look-up by BIN: validate the number, then search the registry."""
    reason = explain_invalid(bin)
    if reason is not None:
        return LookupResult(code=ResultCode.INVALID_BIN, message=f"Invalid BIN: {reason}", bin=bin)
    organization = store.find(bin)
    if organization is None:
        return LookupResult(
            code=ResultCode.NOT_FOUND, message=f"No legal entity with BIN {bin}", bin=bin
        )
    # A liquidated or suspended entity is still FOUND: the registry reports the status and
    # leaves the decision (e.g. a refusal for an inactive applicant) to the asking system.
    return LookupResult(
        code=ResultCode.FOUND,
        message=f"Legal entity found, status {organization.status}",
        bin=bin,
        organization=organization,
    )
