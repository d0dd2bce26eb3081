"""The scenario format: what a tester may write in a rehearsal file, as pydantic models.

A scenario is a name, the seed paragraph it rehearses and a list of steps. Each step is a mapping
with exactly one key saying what it does (``clock``, ``faults``, ``pay_fee``, ``file_licence``,
``send``, ``expect_decision``, ``expect_record``, ``expect_fault``, ``repeat``). Unknown keys are
errors, not ignored: a misspelt expectation that silently checks nothing is the worst outcome of
a test suite. ``scenario_schema()`` is the JSON Schema editors complete from.

The step payloads are in ``actions`` (what a step does) and ``checks`` (what it expects), on the
common ``terms``; this module puts them together and re-exports them, so ``model.X`` names all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from kzgate.rehearsal.actions import (
    ClockMove,
    Committee,
    DeclarationFiling,
    DeskAction,
    FaultChange,
    FeePayment,
    LicenceFiling,
    OfficerAct,
    PermitFiling,
    RawSend,
    Revocation,
    Template,
)
from kzgate.rehearsal.checks import (
    CabinetExpectation,
    DeadLetterExpectation,
    DeadlineVerdict,
    DecisionExpectation,
    DeclarationExpectation,
    FaultExpectation,
    LogExpectation,
    Outcome,
    RecordExpectation,
    StageExpectation,
)
from kzgate.rehearsal.terms import (
    DEFAULT_APPLICANT,
    Duration,
    Moment,
    Strict,
)

# The whole format under one name: the step payloads and terms are re-exported here.
__all__ = [
    "DEFAULT_APPLICANT",
    "EXPECTATION_KINDS",
    "CabinetExpectation",
    "ClockMove",
    "ClockStep",
    "Committee",
    "DeadLetterExpectation",
    "DeadlineVerdict",
    "DecisionExpectation",
    "DeclarationExpectation",
    "DeclarationFiling",
    "DeskAction",
    "Duration",
    "ExpectCabinetStep",
    "ExpectDeadLetterStep",
    "ExpectDecisionStep",
    "ExpectDeclarationStep",
    "ExpectFaultStep",
    "ExpectLogStep",
    "ExpectRecordStep",
    "ExpectStageStep",
    "FaultChange",
    "FaultExpectation",
    "FaultsStep",
    "FeePayment",
    "FileDeclarationStep",
    "FileExportPermitStep",
    "FileLicenceStep",
    "LicenceFiling",
    "LogExpectation",
    "Moment",
    "OfficerAct",
    "OfficerStep",
    "Outcome",
    "PayFeeStep",
    "PermitFiling",
    "RawSend",
    "RecordExpectation",
    "RepeatStep",
    "Repetition",
    "Revocation",
    "RevokeStep",
    "Scenario",
    "SendStep",
    "StageExpectation",
    "Step",
    "Strict",
    "Template",
    "scenario_schema",
]


def _step_kind(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        return next(iter(value))
    if isinstance(value, BaseModel):
        return next(iter(type(value).model_fields))
    return None


class ClockStep(Strict):
    clock: ClockMove


class FaultsStep(Strict):
    faults: FaultChange


class PayFeeStep(Strict):
    pay_fee: FeePayment


class FileLicenceStep(Strict):
    file_licence: LicenceFiling


class FileExportPermitStep(Strict):
    file_export_permit: PermitFiling


class OfficerStep(Strict):
    officer: OfficerAct


class FileDeclarationStep(Strict):
    file_declaration: DeclarationFiling


class ExpectDeclarationStep(Strict):
    expect_declaration: DeclarationExpectation


class RevokeStep(Strict):
    revoke: Revocation


class SendStep(Strict):
    send: RawSend


class ExpectDecisionStep(Strict):
    expect_decision: DecisionExpectation


class ExpectRecordStep(Strict):
    expect_record: RecordExpectation


class ExpectFaultStep(Strict):
    expect_fault: FaultExpectation


class ExpectCabinetStep(Strict):
    expect_cabinet: CabinetExpectation


class ExpectStageStep(Strict):
    expect_stage: StageExpectation


class ExpectDeadLetterStep(Strict):
    expect_dead_letter: DeadLetterExpectation


class ExpectLogStep(Strict):
    expect_log: LogExpectation


class Repetition(Strict):
    """The inner steps ``count`` times, ``concurrency`` at a time, for a load rehearsal.

    Every run files its own applications under the inner steps' aliases: those names are the
    run's own and unknown after the repeat. The report gives the throughput (runs per real second)
    and the deadline misses among the decisions.
    """

    count: int = Field(ge=1, le=10_000)
    concurrency: int = Field(1, ge=1, le=200)
    steps: list[Step]


class RepeatStep(Strict):
    repeat: Repetition


Step = Annotated[
    Annotated[ClockStep, Tag("clock")]
    | Annotated[FaultsStep, Tag("faults")]
    | Annotated[PayFeeStep, Tag("pay_fee")]
    | Annotated[FileLicenceStep, Tag("file_licence")]
    | Annotated[FileExportPermitStep, Tag("file_export_permit")]
    | Annotated[OfficerStep, Tag("officer")]
    | Annotated[FileDeclarationStep, Tag("file_declaration")]
    | Annotated[RevokeStep, Tag("revoke")]
    | Annotated[SendStep, Tag("send")]
    | Annotated[ExpectDecisionStep, Tag("expect_decision")]
    | Annotated[ExpectRecordStep, Tag("expect_record")]
    | Annotated[ExpectDeclarationStep, Tag("expect_declaration")]
    | Annotated[ExpectFaultStep, Tag("expect_fault")]
    | Annotated[ExpectCabinetStep, Tag("expect_cabinet")]
    | Annotated[ExpectStageStep, Tag("expect_stage")]
    | Annotated[ExpectDeadLetterStep, Tag("expect_dead_letter")]
    | Annotated[ExpectLogStep, Tag("expect_log")]
    | Annotated[RepeatStep, Tag("repeat")],
    Discriminator(
        _step_kind,
        custom_error_type="unknown_step",
        custom_error_message="a step is one of clock, faults, pay_fee, file_licence, "
        "file_export_permit, officer, file_declaration, revoke, send, expect_decision, "
        "expect_record, expect_declaration, expect_fault, expect_cabinet, expect_stage, "
        "expect_dead_letter, expect_log, repeat (exactly one key)",
    ),
]

Repetition.model_rebuild()

EXPECTATION_KINDS = (
    "expect_decision",
    "expect_record",
    "expect_declaration",
    "expect_fault",
    "expect_cabinet",
    "expect_stage",
    "expect_dead_letter",
    "expect_log",
)


class Scenario(Strict):
    """One rehearsal: a name, the seed paragraph it rehearses, and its steps in order."""

    name: str
    rehearses: str = Field(description="the seed paragraph (or law) this scenario rehearses")
    description: str = ""
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_known(self) -> Scenario:
        # A reference to a filing no step before it made can only fail at run time, after a
        # system was started and half the scenario played: refuse it at check time instead.
        problems = list(_unknown_references(self.steps, ("steps",), frozenset()))
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self


# The fields that name an earlier step's alias, and ${alias} in a raw message's XML.
_REFERENCES = ("of", "against")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def _unknown_references(
    steps: list[Any], path: tuple[str | int, ...], known: frozenset[str]
) -> Iterator[InitErrorDetails]:
    """Every reference in ``steps`` to an alias that no step before it gave (``as:``); the names
    given inside a ``repeat`` are its runs' own and unknown after it."""
    for index, step in enumerate(steps):
        kind = _step_kind(step) or ""
        body = getattr(step, kind)
        where = (*path, index, kind)
        if isinstance(body, Repetition):
            yield from _unknown_references(body.steps, (*where, "steps"), known)
            continue
        named = [(f, getattr(body, f, None)) for f in _REFERENCES]
        if isinstance(body, RawSend):
            named += [("xml", name) for name in _PLACEHOLDER.findall(body.xml)]
        for field, name in named:
            if name is not None and name not in known:
                yield _unknown(name, (*where, field), known)
        alias = getattr(body, "alias", None)
        if alias is not None:
            known |= {alias}


def _unknown(name: str, loc: tuple[str | int, ...], known: frozenset[str]) -> InitErrorDetails:
    given = ", ".join(sorted(known)) or "none yet"
    error = PydanticCustomError(
        "unknown_reference",
        "'{name}': no step before this one files or sends it (names given so far: {given})",
        {"name": name, "given": given},
    )
    return InitErrorDetails(type=error, loc=loc, input=name)


def scenario_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "kzgate rehearsal scenario"
    return schema
