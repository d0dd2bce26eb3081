"""E-licensing's documents as models: their numbers, and how a decision becomes a document.

The licence (Annexes 5/6), the motivated refusal (Annex 4), the permit and the notice of a permit
not issued, with the numbers they carry (one sequence per kind and year, kept by the caller):
``KZ-EX-2026-000042`` / ``KZ-IM-…`` licences, ``KZ-PEX-…`` / ``KZ-PIM-…`` permits, ``KZ-RF-…``
outgoing numbers of refusals. Their XML is written by ``document_writing`` and read by
``document_reading``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from connectors import XSD_DIR
from simulators.elicensing.forms import (
    Applicant,
    AuthorizedPerson,
    Contract,
    Counterparty,
    CounterpartyRole,
    FormModel,
    Goods,
    LicenceApplication,
    PermitDraft,
    Text,
    TradeCountry,
    TradeCountryRole,
    TradeType,
)
from simulators.elicensing.grounds import Decision, Ground, Outcome

NAMESPACE = "http://kzgate.kz/simulators/elicense/v1"
SCHEMA_PATH = XSD_DIR / "elicense.xsd"
ISSUER_SYSTEM = "ELICENSE"
NSMAP = {"el": NAMESPACE}
_SEQUENCE_LIMIT = 1_000_000
_TYPE_CODES = {TradeType.EXPORT: "EX", TradeType.IMPORT: "IM"}

LICENCE_NUMBER = r"^KZ-(EX|IM)-[0-9]{4}-[0-9]{6}$"
PERMIT_NUMBER = r"^KZ-P(EX|IM)-[0-9]{4}-[0-9]{6}$"
REFUSAL_NUMBER = r"^KZ-RF-[0-9]{4}-[0-9]{6}$"


class DocumentError(ValueError):
    """The XML is not a valid E-licensing document (schema or content)."""


# --- numbers --------------------------------------------------------------------------------


def _number(prefix: str, year: int, sequence: int) -> str:
    if not 1 <= sequence < _SEQUENCE_LIMIT:
        raise ValueError(f"sequence must be 1…{_SEQUENCE_LIMIT - 1}, got {sequence}")
    if not 1000 <= year <= 9999:
        raise ValueError(f"year must have 4 digits, got {year}")
    return f"{prefix}-{year}-{sequence:06d}"


def licence_number(trade_type: TradeType, year: int, sequence: int) -> str:
    """``KZ-{EX|IM}-{YYYY}-{NNNNNN}``: the sequence is per type and year."""
    return _number(f"KZ-{_TYPE_CODES[trade_type]}", year, sequence)


def permit_number(trade_type: TradeType, year: int, sequence: int) -> str:
    """``KZ-P{EX|IM}-{YYYY}-{NNNNNN}``: a permit is told from a licence by the P."""
    return _number(f"KZ-P{_TYPE_CODES[trade_type]}", year, sequence)


def refusal_number(year: int, sequence: int) -> str:
    """``KZ-RF-{YYYY}-{NNNNNN}``: the outgoing (sequence) number of a motivated refusal."""
    return _number("KZ-RF", year, sequence)


# --- the issued documents -------------------------------------------------------------------


class Licence(FormModel):
    """Annex 5 (export) / Annex 6 (import); field 18 is the signature added by ``build_licence``."""

    number: Annotated[str, Field(pattern=LICENCE_NUMBER)]
    valid_from: dt.date
    valid_to: dt.date
    type: TradeType
    contract: Contract
    applicant: Applicant
    counterparty: Counterparty
    trade_country: TradeCountry
    goods: Goods
    additional_info: Text | None = None
    basis: Text | None = None
    issue_date: dt.date

    @model_validator(mode="after")
    def _complete(self) -> Licence:
        _require_complete(self, [])
        return self


class Permit(FormModel):
    """Permit rules Annex 4 (import) / Annex 5 (export); field 17 is the authorized person."""

    number: Annotated[str, Field(pattern=PERMIT_NUMBER)]
    valid_from: dt.date
    valid_to: dt.date
    type: TradeType
    contract: Contract
    applicant: Applicant
    counterparty: Counterparty
    trade_country: TradeCountry
    goods: Goods
    additional_info: Text | None = None
    authorized_person: AuthorizedPerson
    issue_date: dt.date

    @model_validator(mode="after")
    def _complete(self) -> Permit:
        _require_complete(self, self.authorized_person.missing())
        return self


def _require_complete(document: Licence | Permit, missing: list[str]) -> None:
    """Once issued, every form field is mandatory (the application may lack them: R1)."""
    parts = (document.contract, document.applicant, document.counterparty, document.trade_country)
    missing = [m for part in parts for m in part.missing()] + document.goods.missing() + missing
    if missing:
        raise ValueError(f"an issued document needs {', '.join(missing)}")
    if document.valid_to < document.valid_from:
        raise ValueError("valid_to precedes valid_from")


class MotivatedRefusal(FormModel):
    """Annex 4: outgoing number, date, addressee, the application referred to, the grounds."""

    number: Annotated[str, Field(pattern=REFUSAL_NUMBER)]
    date: dt.date
    addressee: Applicant
    application_number: Text
    application_date: dt.date
    # One <ground> element per ground, hence the singular XML name.
    grounds: Annotated[tuple[Ground, ...], Field(min_length=1, alias="ground")]


def issue_licence(application: LicenceApplication, number: str, issue_date: dt.date) -> Licence:
    """The licence carrying the application's form fields (ValueError if any is missing)."""
    fields = application.model_dump(
        include={"valid_from", "valid_to", "type", "contract", "applicant", "counterparty"}
        | {"trade_country", "goods", "additional_info", "basis"}
    )
    return Licence(number=number, issue_date=issue_date, **fields)


# PR-F4 (import) / PR-F5 (export) print field 6 «Сатушы» (seller) and field 8 «Сатушының елі»
# on both permits, field 7 «Межелі ел» (destination) on the import permit and «Жөнелту елі»
# (dispatch) on the export permit [seed 002, L1317-1348, L1372-1402].
PERMIT_COUNTRY_ROLE = {
    TradeType.IMPORT: TradeCountryRole.DESTINATION,
    TradeType.EXPORT: TradeCountryRole.DISPATCH,
}


def issue_permit(draft: PermitDraft, number: str, issue_date: dt.date) -> Permit:
    """The permit made from the draft (ValueError if the draft is structurally incomplete).

    Fields 6–8 go slot for slot from the draft to the permit and take the roles the permit
    forms print (``PERMIT_COUNTRY_ROLE``, field 6 seller): the draft forms (PR-F1/F2) label the
    same slots buyer and destination, so the values move and the labels follow the form.
    """
    fields = draft.model_dump()
    if draft.counterparty is not None:
        fields["counterparty"]["role"] = CounterpartyRole.SELLER
    if draft.trade_country is not None:
        fields["trade_country"]["role"] = PERMIT_COUNTRY_ROLE[draft.type]
    return Permit(number=number, issue_date=issue_date, **fields)


class PermitNotIssued(FormModel):
    """Why a draft permit was not turned into a permit (a project form, not one of the law's).

    The permit rules have no refusal (PR p.6), but PR p.4 ¶2 has the provider fetch the
    applicant's registration: when that shows no registered, operating applicant, E-licensing
    issues nothing and tells the applicant why, signed like its other documents.
    """

    date: dt.date
    addressee: Applicant
    application_number: Text
    application_date: dt.date
    reason: Text


def not_issued(
    draft: PermitDraft,
    *,
    application_number: str,
    application_date: dt.date,
    date: dt.date,
    reason: str,
) -> PermitNotIssued:
    return PermitNotIssued(
        date=date,
        addressee=draft.applicant,
        application_number=application_number,
        application_date=application_date,
        reason=reason,
    )


def refuse(
    application: LicenceApplication,
    decision: Decision,
    *,
    number: str,
    date: dt.date,
    application_date: dt.date,
) -> MotivatedRefusal:
    """The motivated refusal for a REFUSE decision on a registered (numbered) application."""
    if decision.outcome is not Outcome.REFUSE:
        raise ValueError("only a REFUSE decision has a motivated refusal")
    if application.number is None:
        raise ValueError("the application has no registration number yet")
    return MotivatedRefusal(
        number=number,
        date=date,
        addressee=application.applicant,
        application_number=application.number,
        application_date=application_date,
        grounds=decision.grounds,
    )


Document = LicenceApplication | Licence | MotivatedRefusal | PermitDraft | Permit | PermitNotIssued


def root_name(document_type: type[BaseModel]) -> str:
    return document_type.__name__  # the XSD's global elements are named after the models
