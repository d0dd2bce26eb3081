"""The scenario format: what a tester may write in a rehearsal file, as pydantic models.

A scenario is a name, the seed paragraph it rehearses and a list of steps. Each step is a mapping
with exactly one key saying what it does (``clock``, ``faults``, ``pay_fee``, ``file_licence``,
``send``, ``expect_decision``, ``expect_record``, ``expect_fault``, ``repeat``). Unknown keys are
errors, not ignored: a misspelt expectation that silently checks nothing is the worst outcome of
a test suite. ``scenario_schema()`` is the JSON Schema editors complete from.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

# ТОО «Алтын Дала Агро», ACTIVE in the GBDUL fixtures: the applicant unless a scenario says else.
DEFAULT_APPLICANT = "170640582744"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Duration(_Strict):
    """A span of business time; ``working_days`` follow the Trade Committee's KZ calendar."""

    days: float = 0
    hours: float = 0
    minutes: float = 0
    working_days: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _not_empty(self) -> Duration:
        if not (self.days or self.hours or self.minutes or self.working_days):
            raise ValueError("a duration needs days, hours, minutes or working_days")
        if min(self.days, self.hours, self.minutes) < 0:
            raise ValueError("business time only moves forward")
        return self

    def plain(self) -> dt.timedelta:
        return dt.timedelta(days=self.days, hours=self.hours, minutes=self.minutes)

    def text(self) -> str:
        parts = [
            f"{value:g} {unit}"
            for value, unit in (
                (self.working_days, "working days"),
                (self.days, "days"),
                (self.hours, "hours"),
                (self.minutes, "minutes"),
            )
            if value
        ]
        return " ".join(parts)


class Moment(StrEnum):
    """Moments of a filed application the clock can be moved to."""

    REGISTERED = "registered"
    DEADLINE = "deadline"


class ClockMove(_Strict):
    """Set the shared virtual clock, advance it, or move it to a filed application's moment."""

    set: AwareDatetime | None = None
    advance: Duration | None = None
    to: Moment | None = None
    of: str | None = Field(None, description="the application alias, with 'to'")

    @model_validator(mode="after")
    def _one_move(self) -> ClockMove:
        moves = [m for m in (self.set, self.advance, self.to) if m is not None]
        if len(moves) != 1:
            raise ValueError("give exactly one of 'set', 'advance' or 'to'")
        if (self.to is None) != (self.of is None):
            raise ValueError("'to' and 'of' go together")
        return self


class FaultChange(_Strict):
    """A fault plan for one simulated system (the body of its ``POST /ops/faults``), or clear."""

    system: str = Field(description="e.g. GBDUL, GBDFL, KGD, PEP, KEDEN")
    plan: dict[str, Any] | None = Field(
        None, description='e.g. {"down": [{"start": "10:00", "end": "12:00"}]}'
    )
    clear: bool = False

    @model_validator(mode="after")
    def _plan_or_clear(self) -> FaultChange:
        if (self.plan is None) == (not self.clear):
            raise ValueError("give either 'plan' or 'clear: true'")
        return self


class FeePayment(_Strict):
    """A licence fee paid through PEP (created and confirmed), in MRP of the clock's year."""

    applicant: str = DEFAULT_APPLICANT
    mrp: Decimal = Field(Decimal(10), gt=0, description="10 MRP is the licence fee")
    confirm: bool = True


class Template(StrEnum):
    IMPORT = "import-licence"  # the demo's wheel loaders from China
    EXPORT = "export-licence"  # the declaration demo's tanned leather to Italy


class LicenceFiling(_Strict):
    """An F1 licence application filed as EGOV_PORTAL from a template, with overrides."""

    alias: str = Field(alias="as", description="the name later steps use for this application")
    template: Template = Template.IMPORT
    set: dict[str, Any] = Field(
        default_factory=dict,
        description="dotted field paths of the application → values, e.g. goods.quantity: 5",
    )
    remove: list[str] = Field(default_factory=list, description="dotted fields to leave empty")
    applicant: str = DEFAULT_APPLICANT
    quantity_from_quota: bool = Field(
        False, description="ask for exactly what the goods' quota has left (ELICENSE /ops/quotas)"
    )


class Committee(StrEnum):
    """The pilot's committees by their goods annex (seed 003, order p.2)."""

    INDUSTRY = "INDUSTRY"
    TELECOM = "TELECOM"
    CIVIL_AVIATION = "CIVIL_AVIATION"


class PermitFiling(_Strict):
    """A CIS export-permit application (seed 003 pilot) filed as EGOV_PORTAL: the committee's
    sample exporter and goods to Russia."""

    alias: str = Field(alias="as", description="the name later steps use for this application")
    committee: Committee = Committee.INDUSTRY
    quantity: Decimal = Field(Decimal(10), gt=0)


class DeskAction(StrEnum):
    TAKE = "take"
    APPROVE = "approve"
    REFUSE = "refuse"
    SIGN = "sign"
    TERMINATE = "terminate"


class OfficerAct(_Strict):
    """A committee officer's (or head's) act on ELICENSE's desk, as ``kzgate officer`` does it."""

    action: DeskAction
    of: str = Field(description="the permit application's alias")
    by: str | None = Field(
        None, description="officer or head id; default: the committee's first officer / its head"
    )
    grounds: dict[str, str] = Field(
        default_factory=dict, description="refuse: ground number of Rules p.11 → reasoning"
    )
    ground: str | None = Field(None, description="terminate: the letter of Rules p.14 (а-ж)")
    reason: str = "rehearsal"


class DeclarationFiling(_Strict):
    """A paperless export declaration (F6) filed with KEDEN as EGOV_PORTAL and signed with the
    declarant's personal key; one goods item cleared against the licence or permit of 'against'.
    The goods default to that filing's goods (the leather of the export-licence template, or the
    committee sample's goods)."""

    alias: str = Field(alias="as", description="the name expect_declaration uses")
    against: str = Field(description="the alias of an issued licence or permit application")
    quantity: Decimal = Field(gt=0)
    declarant: str | None = Field(None, description="BIN; default: the holder of 'against'")


class RawSend(_Strict):
    """A signed SOAP message sent through the gateway as any system (like ``kzgate send``)."""

    alias: str = Field(alias="as", description="the name expect_fault uses")
    sender: str = Field(description="the senderId whose transport key signs, e.g. EGOV_PORTAL")
    service: str
    xml: str = Field(description="the content of <data>; ${alias} stands for that filing's number")


class Revocation(_Strict):
    """A system's transport certificate put on the CRL (``kzgate pki revoke``): the runner must
    share the system's PKI directory. Irreversible for that system until its PKI is re-made."""

    system: str


class _Expectation(_Strict):
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
        None, description="exactly these grounds, in any order: R1-R7 for a licence"
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
        None, description="request-in, request-out, response-in or response-out"
    )
    fault: str | None = Field(None, description="the fault code the hop carried")


class FaultExpectation(_Expectation):
    """The step 'of' ended in this gateway fault code (e.g. Client.Validation.Schema)."""

    of: str
    code: str


def _step_kind(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        return next(iter(value))
    if isinstance(value, BaseModel):
        return next(iter(type(value).model_fields))
    return None


class ClockStep(_Strict):
    clock: ClockMove


class FaultsStep(_Strict):
    faults: FaultChange


class PayFeeStep(_Strict):
    pay_fee: FeePayment


class FileLicenceStep(_Strict):
    file_licence: LicenceFiling


class FileExportPermitStep(_Strict):
    file_export_permit: PermitFiling


class OfficerStep(_Strict):
    officer: OfficerAct


class FileDeclarationStep(_Strict):
    file_declaration: DeclarationFiling


class ExpectDeclarationStep(_Strict):
    expect_declaration: DeclarationExpectation


class RevokeStep(_Strict):
    revoke: Revocation


class SendStep(_Strict):
    send: RawSend


class ExpectDecisionStep(_Strict):
    expect_decision: DecisionExpectation


class ExpectRecordStep(_Strict):
    expect_record: RecordExpectation


class ExpectFaultStep(_Strict):
    expect_fault: FaultExpectation


class ExpectCabinetStep(_Strict):
    expect_cabinet: CabinetExpectation


class ExpectStageStep(_Strict):
    expect_stage: StageExpectation


class ExpectDeadLetterStep(_Strict):
    expect_dead_letter: DeadLetterExpectation


class ExpectLogStep(_Strict):
    expect_log: LogExpectation


class Repetition(_Strict):
    """The inner steps ``count`` times, ``concurrency`` at a time, for a load rehearsal.

    ``{i}`` in an alias is the run's number, so every run files its own application. The report
    gives the throughput (runs per real second) and the deadline misses among the decisions.
    """

    count: int = Field(ge=1, le=10_000)
    concurrency: int = Field(1, ge=1, le=200)
    steps: list[Step]


class RepeatStep(_Strict):
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


class Scenario(_Strict):
    """One rehearsal: a name, the seed paragraph it rehearses, and its steps in order."""

    name: str
    rehearses: str = Field(description="the seed paragraph (or law) this scenario rehearses")
    description: str = ""
    steps: list[Step] = Field(min_length=1)


def scenario_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "kzgate rehearsal scenario"
    return schema
