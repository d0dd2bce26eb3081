"""XML ⇄ model of KEDEN's declaration services (``xsd/keden.xsd``, the F6 part).

Requests are schema-checked before they are read, so whatever is parsed is a valid payload; the
rules a schema cannot state (the declarant's check digit) are checked here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from lxml import etree

from connectors import GatewayError, PayloadSchemas, format_datetime
from connectors.soap.values import child, children
from simulators.customs.declaration_rows import Declaration, Event
from simulators.customs.declarations import (
    ControlForm,
    DeclarationItem,
    DeclarationStatus,
    ExportDeclaration,
    PaymentMethod,
    Reason,
)
from simulators.customs.payload import NAMESPACE, PayloadError, decimal_text
from simulators.customs.registers import RegisterEntry
from simulators.kit.identifiers import explain_invalid
from simulators.kit.payloads import field_text
from simulators.kit.xml import add_field

XSD_FILE = "keden.xsd"
EXPORT_DECLARATION = etree.QName(NAMESPACE, "ExportDeclaration")
FILING_RESPONSE = etree.QName(NAMESPACE, "DeclarationFilingResponse")
STATUS_REQUEST = etree.QName(NAMESPACE, "DeclarationStatusRequest")
STATUS_RESPONSE = etree.QName(NAMESPACE, "DeclarationStatusResponse")
NOTICE = etree.QName(NAMESPACE, "DeclarationNotice")
REGISTER_REQUEST = etree.QName(NAMESPACE, "RegisterLookupRequest")
REGISTER_RESPONSE = etree.QName(NAMESPACE, "RegisterLookupResponse")
_NSMAP = {"keden": NAMESPACE}
_SCHEMAS = PayloadSchemas()


def read_request(data: etree._Element) -> etree._Element:
    """The one declaration-service request element in ``data``, schema-checked."""
    try:
        _SCHEMAS.validate(data, XSD_FILE)
    except GatewayError as exc:
        raise PayloadError(exc.detail or exc.message) from None
    for element in data.iterchildren(tag=etree.Element):
        if element.tag in (EXPORT_DECLARATION.text, STATUS_REQUEST.text, REGISTER_REQUEST.text):
            return element
    raise PayloadError(
        "data carries no ExportDeclaration, DeclarationStatusRequest or RegisterLookupRequest"
    )


def parse_declaration(element: etree._Element) -> ExportDeclaration:
    declarant = child(element, "declarant")
    declarant_id = field_text(declarant, "id")
    for identifier in (declarant_id, _opt(element, "representative"), _opt(element, "carrier")):
        reason = explain_invalid(identifier) if identifier else None
        if reason is not None:
            raise PayloadError(f"{identifier} is not a valid BIN/IIN: {reason}")
    return ExportDeclaration(
        filing_reference=field_text(element, "filingReference"),
        procedure=field_text(element, "procedure"),
        declarant_id=declarant_id,
        declarant_name=field_text(declarant, "name"),
        payment_method=PaymentMethod(field_text(element, "paymentMethod")),
        items=tuple(_item(i) for i in children(element, "item")),
        representative=_opt(element, "representative"),
        carrier=_opt(element, "carrier"),
        duty_benefit_claimed=_opt(element, "dutyBenefitClaimed") in ("true", "1"),
        tariff_preference_claimed=_opt(element, "tariffPreferenceClaimed") in ("true", "1"),
    )


def _item(element: etree._Element) -> DeclarationItem:
    return DeclarationItem(
        code=field_text(element, "code"),
        description=field_text(element, "description"),
        quantity=Decimal(field_text(element, "quantity")),
        unit=field_text(element, "unit"),
        value=Decimal(field_text(element, "value")),
        currency=field_text(element, "currency"),
        origin_country=field_text(element, "originCountry"),
        destination_country=field_text(element, "destinationCountry"),
        permit_numbers=tuple((p.text or "").strip() for p in children(element, "permitNumber")),
    )


def build_declaration(d: ExportDeclaration) -> etree._Element:
    """The ``ExportDeclaration`` for ``d`` (the portal's side, the demo and the tests)."""
    element = etree.Element(EXPORT_DECLARATION, nsmap=_NSMAP)
    add_field(element, "filingReference", d.filing_reference)
    add_field(element, "procedure", d.procedure)
    declarant = etree.SubElement(element, "declarant")
    add_field(declarant, "id", d.declarant_id)
    add_field(declarant, "name", d.declarant_name)
    add_field(element, "representative", d.representative)
    add_field(element, "carrier", d.carrier)
    add_field(element, "paymentMethod", d.payment_method.value)
    if d.duty_benefit_claimed:
        add_field(element, "dutyBenefitClaimed", "true")
    if d.tariff_preference_claimed:
        add_field(element, "tariffPreferenceClaimed", "true")
    for item in d.items:
        e = etree.SubElement(element, "item")
        for name, value in (
            ("code", item.code),
            ("description", item.description),
            ("quantity", decimal_text(item.quantity)),
            ("unit", item.unit),
            ("value", decimal_text(item.value)),
            ("currency", item.currency),
            ("originCountry", item.origin_country),
            ("destinationCountry", item.destination_country),
        ):
            add_field(e, name, value)
        for number in item.permit_numbers:
            add_field(e, "permitNumber", number)
    return element


def build_status_request(number: str) -> etree._Element:
    element = etree.Element(STATUS_REQUEST, nsmap=_NSMAP)
    add_field(element, "declarationNumber", number)
    return element


def build_register_request(bin_: str, register: str | None = None) -> etree._Element:
    element = etree.Element(REGISTER_REQUEST, nsmap=_NSMAP)
    add_field(element, "bin", bin_)
    add_field(element, "register", register)
    return element


def build_formation_refusal(reasons: Sequence[Reason]) -> etree._Element:
    """Process 5 (L1134-1136): the refusal to form the declaration, with every reason."""
    element = etree.Element(FILING_RESPONSE, nsmap=_NSMAP)
    add_field(element, "resultCode", "FORMATION_REFUSED")
    for reason in reasons:
        _add_reason(element, reason)
    return element


def build_filing_answer(declaration: Declaration, *, duplicate: bool) -> etree._Element:
    element = etree.Element(FILING_RESPONSE, nsmap=_NSMAP)
    add_field(element, "resultCode", "SUBMITTED")
    add_field(element, "declarationNumber", declaration.number)
    add_field(element, "status", declaration.status.value)
    add_field(element, "submittedAt", format_datetime(declaration.submitted_at))
    add_field(element, "registrationDeadline", format_datetime(declaration.registration_deadline))
    add_field(element, "duplicate", "true" if duplicate else "false")
    return element


def build_status_answer(
    number: str, declaration: Declaration | None, history: Sequence[Event]
) -> etree._Element:
    element = etree.Element(STATUS_RESPONSE, nsmap=_NSMAP)
    add_field(element, "resultCode", "NOT_FOUND" if declaration is None else "FOUND")
    add_field(element, "declarationNumber", number)
    if declaration is None:
        return element
    d = declaration
    add_field(element, "declarantId", d.content.declarant_id)
    add_field(element, "status", d.status.value)
    add_field(element, "statusKk", d.status.kk)
    add_field(element, "submittedAt", format_datetime(d.submitted_at))
    add_field(element, "registrationDeadline", format_datetime(d.registration_deadline))
    add_field(element, "registeredAt", _moment(d.registered_at))
    add_field(element, "registrationLate", "true" if d.registration_late else "false")
    for form in d.control_forms:
        add_field(element, "controlForm", form.value)
    add_field(element, "releaseDeadline", _moment(d.release_deadline))
    add_field(element, "decidedAt", _moment(d.decided_at))
    add_field(element, "releaseLate", "true" if d.release_late else "false")
    add_field(
        element,
        "customsPaid",
        None if d.customs_paid is None else decimal_text(d.customs_paid),
    )
    for reason in d.reasons:
        _add_reason(element, reason)
    for event in history:
        e = etree.SubElement(element, "event")
        add_field(e, "status", event.status.value)
        add_field(e, "at", format_datetime(event.at))
        add_field(e, "text", event.text)
    return element


def build_notice(
    declaration: Declaration, event: Event, official: str, forms: Sequence[ControlForm] = ()
) -> etree._Element:
    """An authorised message «авторландырылған хабарлама» (para 6(2), process 7-10), unsigned;
    the official's personal key signs it before it leaves."""
    element = etree.Element(NOTICE, nsmap=_NSMAP)
    add_field(element, "declarationNumber", declaration.number)
    add_field(element, "declarantId", declaration.content.declarant_id)
    add_field(element, "status", event.status.value)
    add_field(element, "statusKk", event.status.kk)
    add_field(element, "at", format_datetime(event.at))
    add_field(element, "official", official)
    add_field(element, "text", event.text)
    for form in forms:
        add_field(element, "controlForm", form.value)
    if event.status in (DeclarationStatus.REGISTRATION_REFUSED, DeclarationStatus.RELEASE_REFUSED):
        for reason in declaration.reasons:
            _add_reason(element, reason)
    return element


def build_register_answer(bin_: str, entries: Sequence[RegisterEntry]) -> etree._Element:
    element = etree.Element(REGISTER_RESPONSE, nsmap=_NSMAP)
    add_field(element, "resultCode", "FOUND" if entries else "NOT_FOUND")
    add_field(element, "resultMessage", f"{len(entries)} register entr(y/ies) for {bin_}")
    for entry in entries:
        e = etree.SubElement(element, "entry")
        add_field(e, "register", entry.kind.value)
        add_field(e, "bin", entry.bin)
        add_field(e, "name", entry.name)
        add_field(e, "certificateNumber", entry.certificate_number)
        add_field(e, "includedOn", entry.included_on)
        add_field(e, "status", entry.status.value)
        add_field(e, "statusChangedOn", entry.status_changed_on)
    return element


def _add_reason(parent: etree._Element, reason: Reason) -> None:
    e = etree.SubElement(parent, "reason")
    add_field(e, "code", reason.code)
    add_field(e, "text", reason.text)
    add_field(e, "remedy", reason.remedy)
    add_field(e, "item", None if reason.item is None else str(reason.item))
    add_field(e, "permitNumber", reason.permit_number)


def answer_fields(element: etree._Element) -> dict[str, object]:
    """An answer read by local names: text of single fields, lists for reasons/events/forms
    (what the portal, the demo and the tests read)."""
    values: dict[str, object] = {}
    for c in element.iterchildren(tag=etree.Element):
        name = etree.QName(c).localname
        if name in ("reason", "event", "entry"):
            values.setdefault(name, []).append(  # type: ignore[union-attr]
                {etree.QName(g).localname: (g.text or "") for g in c}
            )
        elif name == "controlForm":
            values.setdefault(name, []).append(c.text or "")  # type: ignore[union-attr]
        else:
            values[name] = c.text or ""
    return values


def _moment(value: datetime | None) -> str | None:
    return None if value is None else format_datetime(value)


def _opt(element: etree._Element, name: str) -> str | None:
    return field_text(element, name) or None
