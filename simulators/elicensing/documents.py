"""The XML documents of E-licensing (``xsd/elicense.xsd``), their numbers and field 18.

Documents: the licence application (what the portal sends in SHEP ``data``), the licence
(Annexes 5/6), the motivated refusal (Annex 4), the draft permit and the permit (permit rules,
Annexes 4/5). As in SHEP payloads only the root is namespace-qualified; children are unqualified
and named after the model fields (camelCase), in the models' field order, which is the form's.

Field 18 of a licence, refusal or permit — the transport signature — is an enveloped XML-DSig by
ELICENSE's key over the whole document (``connectors.wsse.payload.sign_payload``): it verifies
offline with any XML-DSig tool and with ``verify_document``.

Numbers (documented format, one sequence per kind and year, the sequence kept by the caller):
``KZ-EX-2026-000042`` / ``KZ-IM-…`` licences, ``KZ-PEX-…`` / ``KZ-PIM-…`` permits, ``KZ-RF-…``
outgoing numbers of refusals.
"""

from __future__ import annotations

import copy
import datetime as dt
import types
import typing
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Annotated, Any, TypeVar

from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree
from pydantic import BaseModel, Field, ValidationError, model_validator

from connectors import XSD_DIR, TransportKey, TrustStore, sign_payload, verify_payload
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
from simulators.elicensing.rules import Decision, Ground, Outcome

NAMESPACE = "http://kzgate.kz/simulators/elicense/v1"
SCHEMA_PATH = XSD_DIR / "elicense.xsd"
ISSUER_SYSTEM = "ELICENSE"
_NSMAP = {"el": NAMESPACE}
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


# --- XML: building --------------------------------------------------------------------------

Document = LicenceApplication | Licence | MotivatedRefusal | PermitDraft | Permit | PermitNotIssued
_Doc = TypeVar(
    "_Doc", LicenceApplication, Licence, MotivatedRefusal, PermitDraft, Permit, PermitNotIssued
)


def build_application(application: LicenceApplication) -> etree._Element:
    """The ``LicenceApplication`` element the portal puts in SHEP ``data`` (unsigned here)."""
    return _to_xml(application)


def build_permit_draft(draft: PermitDraft) -> etree._Element:
    return _to_xml(draft)


def build_licence(licence: Licence, key: TransportKey) -> etree._Element:
    """The ``Licence`` element, signed by ``key`` (field 18)."""
    return _signed(licence, key)


def build_refusal(refusal: MotivatedRefusal, key: TransportKey) -> etree._Element:
    return _signed(refusal, key)


def build_permit(permit: Permit, key: TransportKey) -> etree._Element:
    return _signed(permit, key)


def build_permit_not_issued(notice: PermitNotIssued, key: TransportKey) -> etree._Element:
    return _signed(notice, key)


def _signed(document: Document, key: TransportKey) -> etree._Element:
    root = _to_xml(document)
    sign_payload(root, key)
    return root


def _root_name(document_type: type[BaseModel]) -> str:
    return document_type.__name__  # the XSD's global elements are named after the models


def _to_xml(document: Document) -> etree._Element:
    root = etree.Element(etree.QName(NAMESPACE, _root_name(type(document))), nsmap=_NSMAP)
    values = document.model_dump(mode="json", by_alias=True, exclude_none=True)
    for name, value in values.items():
        _append(root, name, value)
    return root


def _append(parent: etree._Element, name: str, value: Any) -> None:
    if isinstance(value, list):
        for item in value:  # a sequence is the element repeated
            _append(parent, name, item)
        return
    element = etree.SubElement(parent, name)  # no namespace: children are unqualified
    if isinstance(value, dict):
        for child_name, child_value in value.items():
            _append(element, child_name, child_value)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)


def to_bytes(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


# --- XML: schema and parsing ----------------------------------------------------------------


@cache
def schema() -> etree.XMLSchema:
    """The documents' schema, compiled once."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def validate(element: etree._Element) -> None:
    """DocumentError listing the schema violations of a document element."""
    standalone = copy.deepcopy(element) if element.getparent() is not None else element
    checker = schema()
    if not checker.validate(standalone):
        errors = "; ".join(f"line {e.line}: {e.message}" for e in checker.error_log)
        raise DocumentError(errors)


def parse_application(element: etree._Element) -> LicenceApplication:
    """The application from its element, or from a SHEP ``data`` element wrapping it."""
    return _parse(element, LicenceApplication)


def parse_permit_draft(element: etree._Element) -> PermitDraft:
    return _parse(element, PermitDraft)


def parse_licence(element: etree._Element) -> Licence:
    """The licence's fields; the signature is checked by ``verify_document``, not here."""
    return _parse(element, Licence)


def parse_refusal(element: etree._Element) -> MotivatedRefusal:
    return _parse(element, MotivatedRefusal)


def parse_permit(element: etree._Element) -> Permit:
    return _parse(element, Permit)


def parse_permit_not_issued(element: etree._Element) -> PermitNotIssued:
    return _parse(element, PermitNotIssued)


def _parse(element: etree._Element, document_type: type[_Doc]) -> _Doc:
    root = _locate(element, etree.QName(NAMESPACE, _root_name(document_type)).text)
    validate(root)
    try:
        return document_type.model_validate(_read(root, document_type))
    except ValidationError as exc:
        raise DocumentError(str(exc)) from exc


def _locate(element: etree._Element, tag: str) -> etree._Element:
    if element.tag == tag:
        return element
    # SHEP data wraps the payload element; accept it as the single child as well.
    found = element.find(tag)
    if found is None:
        raise DocumentError(f"no {etree.QName(tag).localname} element")
    return found


def _read(element: etree._Element, model: type[BaseModel]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        alias = info.alias or name
        children = [c for c in element if c.tag == alias]
        if not children:
            continue
        inner = _model_in(info.annotation)
        items = [_read(c, inner) if inner else (c.text or "") for c in children]
        values[alias] = items if _is_sequence(info.annotation) else items[0]
    return values


def _type_args(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, tuple, list):
        return typing.get_args(annotation)
    return ()


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for a in _type_args(annotation) if (m := _model_in(a))), None)


def _is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (tuple, list, Sequence):
        return True
    return origin in (typing.Union, types.UnionType) and any(
        _is_sequence(a) for a in typing.get_args(annotation)
    )


# --- verification ---------------------------------------------------------------------------


def verify_document(
    element: etree._Element,
    trust: TrustStore,
    *,
    now: datetime,
    signer: str = ISSUER_SYSTEM,
) -> x509.Certificate:
    """Verify field 18: a valid, trusted signature *by* ``signer`` (integrity and authorship).

    Raises GatewayError (PAYLOAD_*) from ``verify_payload``, or DocumentError when the document
    is intact but signed by another system (T-X02).
    """
    certificate = verify_payload(element, trust, now=now)
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if [n.value for n in names] != [signer]:
        raise DocumentError(f"signed by {', '.join(str(n.value) for n in names)}, not {signer}")
    return certificate
