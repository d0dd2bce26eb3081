"""What a scenario step may do: move the clock, plan faults, pay a fee, file a licence, an export
permit or a declaration, act at the officer's desk, send a raw request, revoke a certificate.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import (
    AwareDatetime,
    Field,
    model_validator,
)

from kzgate.rehearsal.terms import DEFAULT_APPLICANT, Duration, Moment, Strict

__all__ = [
    "ClockMove",
    "Committee",
    "DeclarationFiling",
    "DeskAction",
    "FaultChange",
    "FeePayment",
    "LicenceFiling",
    "OfficerAct",
    "PermitFiling",
    "RawSend",
    "Revocation",
    "Template",
]


class ClockMove(Strict):
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


class FaultChange(Strict):
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


class FeePayment(Strict):
    """A licence fee paid through PEP (created and confirmed), in MRP of the clock's year."""

    applicant: str = DEFAULT_APPLICANT
    mrp: Decimal = Field(Decimal(10), gt=0, description="10 MRP is the licence fee")
    confirm: bool = True


class Template(StrEnum):
    IMPORT = "import-licence"  # the demo's wheel loaders from China
    EXPORT = "export-licence"  # the declaration demo's tanned leather to Italy


class LicenceFiling(Strict):
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


class PermitFiling(Strict):
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


class OfficerAct(Strict):
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


class DeclarationFiling(Strict):
    """A paperless export declaration (F6) filed with KEDEN as EGOV_PORTAL and signed with the
    declarant's personal key; one goods item cleared against the licence or permit of 'against'.
    The goods default to that filing's goods (the leather of the export-licence template, or the
    committee sample's goods)."""

    alias: str = Field(alias="as", description="the name expect_declaration uses")
    against: str = Field(description="the alias of an issued licence or permit application")
    quantity: Decimal = Field(gt=0)
    declarant: str | None = Field(None, description="BIN; default: the holder of 'against'")


class RawSend(Strict):
    """A signed SOAP message sent through the gateway as any system (like ``kzgate send``)."""

    alias: str = Field(alias="as", description="the name expect_fault uses")
    sender: str = Field(description="the senderId whose transport key signs, e.g. EGOV_PORTAL")
    service: str
    xml: str = Field(description="the content of <data>; ${alias} stands for that filing's number")


class Revocation(Strict):
    """A system's transport certificate put on the CRL (``kzgate pki revoke``): the runner must
    share the system's PKI directory. Irreversible for that system until its PKI is re-made."""

    system: str
