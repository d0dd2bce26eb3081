"""What a scenario step may expect: a decision, a KEDEN record, a declaration's fate, a fault, a
message in the cabinet, a MONITORING stage, a dead letter, a message-log hop; each within a bound
of business time, looked at every ``tick`` (``expectations`` plays them).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import (
    AwareDatetime,
    Field,
    model_validator,
)

from kzgate.rehearsal.terms import Duration, Strict

__all__ = [
    "CabinetExpectation",
    "DeadLetterExpectation",
    "DeadlineVerdict",
    "DecisionExpectation",
    "DeclarationExpectation",
    "FaultExpectation",
    "LogExpectation",
    "Outcome",
    "RecordExpectation",
    "StageExpectation",
]


class _Expectation(Strict):
    key: bool = Field(False, description="the expectation this scenario exists to show")
    within: Duration = Field(
        default_factory=lambda: Duration(hours=8),
        description="business-time bound: the clock is driven forward to it, then it fails",
    )
    tick: Duration = Field(
        default_factory=lambda: Duration(minutes=10),
        description="how far the virtual clock moves between two looks",
    )
    timeout: float = Field(60, gt=0, description="real seconds, a safety net under 'within'")


class Outcome(StrEnum):
    ISSUED = "ISSUED"
    REFUSED = "REFUSED"
    NOT_ISSUED = "NOT_ISSUED"


class DeadlineVerdict(StrEnum):
    MET = "met"
    MISSED = "missed"


class DecisionExpectation(_Expectation):
    """The application was decided (and delivered) with this outcome, grounds and deadline."""

    of: str
    outcome: Outcome
    grounds: list[str] | None = Field(
        None,
        description="exactly these grounds, in any order: R1-R7 for a licence, the numbers 1-7 "
        "of Rules p.11 for a pilot permit",
    )
    deadline: DeadlineVerdict | None = None
    registered_at: AwareDatetime | None = Field(None, description="the registration moment")


class RecordExpectation(_Expectation):
    """KEDEN holds a customs record of the application's document (or of a given document
    number) with these fields."""

    of: str | None = Field(None, description="the application alias whose document to look up")
    number: str | None = Field(None, description="a licence or permit number, instead of 'of'")
    fields: dict[str, str] = Field(description="element paths of the record → their text")

    @model_validator(mode="after")
    def _one_document(self) -> RecordExpectation:
        if (self.of is None) == (self.number is None):
            raise ValueError("give either 'of' or 'number'")
        return self


class DeclarationExpectation(_Expectation):
    """KEDEN's answer to a declaration: refused at formation (FORMATION_REFUSED), or its final
    status (RELEASE_PERMITTED, RELEASE_REFUSED, REGISTRATION_REFUSED); optionally a reason."""

    of: str
    status: Literal[
        "FORMATION_REFUSED", "RELEASE_PERMITTED", "RELEASE_REFUSED", "REGISTRATION_REFUSED"
    ]
    reason: str | None = Field(None, description="a reason code KEDEN gives")


class CabinetExpectation(_Expectation):
    """The applicant's cabinet (EGOV_PORTAL's inbox) received a document about the filing: its
    decision (a licence, a refusal, a permit) or any message naming it."""

    of: str
    document: str | None = Field(
        None, description="the document's root element, e.g. Licence, MotivatedRefusal, Permit"
    )


class StageExpectation(_Expectation):
    """MONITORING recorded this stage of the filing (REGISTERED, IN_WORK, ISSUED, REFUSED,
    DELIVERED, TERMINATED …), reported by the system that works on it."""

    of: str
    stage: str


class DeadLetterExpectation(_Expectation):
    """The gateway dead-lettered a message (after its last delivery attempt) of this service,
    optionally from this sender; read from the console's HTTP twin (operator login)."""

    service: str
    sender: str | None = None


class LogExpectation(_Expectation):
    """The gateway's message log holds a hop of the filing's flow (found by its number, as the
    console's flow browser finds it) with these properties."""

    of: str
    service: str | None = None
    sender: str | None = None
    receiver: str | None = None
    direction: str | None = Field(
        None, description="request-in, request-out, response-in, response-out or fault-out"
    )
    fault: str | None = Field(None, description="the fault code the hop carried")


class FaultExpectation(_Expectation):
    """The step 'of' ended in this gateway fault code (e.g. Client.Validation.Schema)."""

    of: str
    code: str
