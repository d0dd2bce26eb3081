"""XML ⇄ model mapping of KEDEN's payloads, the content of SHEP ``data`` (``xsd/keden.xsd``).

Only the global elements are namespace-qualified; their children are unqualified, as in SHEP.
Reading validates against the schema first, so whatever is parsed is a valid payload; the rules
a schema cannot state (the holder's check digit, validFrom ≤ validTo) are checked here too.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from lxml import etree

from connectors import XSI, GatewayError, PayloadSchemas, format_datetime, parse_datetime
from connectors.soap.values import child as _child
from connectors.soap.values import children as _children
from simulators.customs.models import (
    Contract,
    Counterparty,
    CounterpartyRole,
    CustomsRecord,
    DocumentKind,
    GoodsItem,
    RecordContent,
    RecordStatus,
    TradeCountryRole,
    TradeType,
)
from simulators.kit.identifiers import explain_invalid
from simulators.kit.payloads import PayloadError as PayloadError  # the kit's one
from simulators.kit.xml import add_field as _add

NAMESPACE = "http://kzgate.kz/simulators/keden/v1"
REGISTRATION = etree.QName(NAMESPACE, "CustomsRecordRegistration")
BY_NUMBER = etree.QName(NAMESPACE, "RecordByNumberRequest")
BY_HOLDER = etree.QName(NAMESPACE, "RecordsByHolderRequest")
LOOKUP_RESPONSE = etree.QName(NAMESPACE, "RecordLookupResponse")
STATUS_CHANGE = etree.QName(NAMESPACE, "CustomsRecordStatusChange")
XSD_FILE = "keden.xsd"
_NSMAP = {"keden": NAMESPACE}
_KNOWN = {
    q.localname: q for q in (REGISTRATION, BY_NUMBER, BY_HOLDER, LOOKUP_RESPONSE, STATUS_CHANGE)
}
_XSI_TYPE = f"{{{XSI}}}type"
_T = TypeVar("_T")
_SCHEMAS = PayloadSchemas()  # compiles keden.xsd once, on first use


@dataclass(frozen=True)
class Registration:
    """A CustomsRecordRegistration: the record's content and the embedded document, if any."""

    content: RecordContent
    document: str | None = None


@dataclass(frozen=True)
class StatusChange:
    """A CustomsRecordStatusChange: the issuer terminated a registered document."""

    number: str
    issuer: str
    status: RecordStatus
    changed_on: date
    reason: str
    document: str | None = None


@dataclass(frozen=True)
class ByNumber:
    number: str


@dataclass(frozen=True)
class ByHolder:
    holder_id: str


@dataclass(frozen=True)
class LookupAnswer:
    """A RecordLookupResponse; each record's ``status`` is the one at the moment of answering."""

    result_code: str
    result_message: str
    records: tuple[CustomsRecord, ...] = ()


# --- reading -----------------------------------------------------------------------------------


def read_payload(data: etree._Element) -> Registration | StatusChange | ByNumber | ByHolder:
    """The request in a SHEP ``data`` element, schema-checked; PayloadError when it is none."""
    name, element = _payload_root(data)
    if name == REGISTRATION.localname:
        return parse_registration_element(element)
    if name == STATUS_CHANGE.localname:
        return _status_change(element)
    if name == BY_NUMBER.localname:
        return ByNumber(_text(element, "number"))
    if name == BY_HOLDER.localname:
        return ByHolder(_text(element, "holderId"))
    raise PayloadError(f"{name} is an answer, not a request to KEDEN")


def parse_registration_element(element: etree._Element) -> Registration:
    content = _content(element)
    reason = explain_invalid(content.holder_id)
    if reason is not None:
        raise PayloadError(f"holder id {content.holder_id} is not a valid BIN/IIN: {reason}")
    if content.valid_from > content.valid_to:
        raise PayloadError(f"validFrom {content.valid_from} is after validTo {content.valid_to}")
    document = _child(element, "document")
    if document is None:
        return Registration(content)
    return Registration(content, standalone(next(document.iterchildren(tag=etree.Element))))


def _status_change(element: etree._Element) -> StatusChange:
    document = _child(element, "document")
    embedded = None
    if document is not None:
        embedded = standalone(next(document.iterchildren(tag=etree.Element)))
    return StatusChange(
        number=_text(element, "number"),
        issuer=_text(element, "issuer"),
        status=RecordStatus(_text(element, "status")),
        changed_on=_date(_text(element, "changedOn")),
        reason=_text(element, "reason"),
        document=embedded,
    )


def standalone(element: etree._Element) -> str:
    """An embedded document serialised as its own XML, as its issuer wrote it.

    Serialising a subtree repeats every namespace in scope, the envelope's too; those would
    change the document's inclusive C14N and so break its signature. Only the declarations made
    inside the document are kept (and any the document itself uses).
    """
    copy = deepcopy(element)
    own = {prefix for e in element.iter(tag=etree.Element) for prefix in _declared_at(e)}
    etree.cleanup_namespaces(copy, keep_ns_prefixes=sorted(p for p in own if p))
    return etree.tostring(copy, encoding="unicode", with_tail=False)


def _declared_at(element: etree._Element) -> list[str | None]:
    parent = element.getparent()
    inherited = parent.nsmap if parent is not None else {}
    return [p for p, uri in element.nsmap.items() if inherited.get(p) != uri]


def parse_lookup_answer(data: etree._Element) -> LookupAnswer:
    """The RecordLookupResponse in ``data`` (for the systems that look records up, and tests)."""
    name, element = _payload_root(data)
    if name != LOOKUP_RESPONSE.localname:
        raise PayloadError(f"data carries {name}, not RecordLookupResponse")
    return LookupAnswer(
        result_code=_text(element, "resultCode"),
        result_message=_child(element, "resultMessage").text or "",
        records=tuple(_record(r) for r in _children(element, "record")),
    )


def _payload_root(data: etree._Element) -> tuple[str, etree._Element]:
    try:
        _SCHEMAS.validate(data, XSD_FILE)
    except GatewayError as exc:
        raise PayloadError(exc.detail or exc.message) from None
    for child in data.iterchildren(tag=etree.Element):
        if child.tag in _KNOWN.values():
            return etree.QName(child).localname, child
    # JAXB style: data itself typed with xsi:type="keden:…"; the schema check above accepted it.
    type_name = (data.get(_XSI_TYPE) or "").rpartition(":")[2]
    if type_name in _KNOWN:
        return type_name, data
    raise PayloadError("data carries no KEDEN payload element")


def _content(element: etree._Element) -> RecordContent:
    holder, country = _child(element, "holder"), _child(element, "tradeCountry")
    return RecordContent(
        number=_text(element, "number"),
        kind=DocumentKind(_text(element, "kind")),
        trade_type=TradeType(_text(element, "type")),
        valid_from=_date(_text(element, "validFrom")),
        valid_to=_date(_text(element, "validTo")),
        holder_id=_text(holder, "id"),
        holder_name=_text(holder, "name"),
        trade_country=_text(country, "code"),
        trade_country_role=TradeCountryRole(_text(country, "role")),
        quantity=Decimal(_text(element, "quantity")),
        unit=_text(element, "unit"),
        goods=tuple(
            GoodsItem(_text(item, "code"), _text(item, "description"))
            for item in _children(_child(element, "goods"), "item")
        ),
        issuer=_text(element, "issuer"),
        issue_date=_date(_text(element, "issueDate")),
        contract=_optional(element, "contract", _contract),
        counterparty=_optional(element, "counterparty", _counterparty),
        counterparty_country=_optional_text(element, "counterpartyCountry"),
        currency=_optional_text(element, "currency"),
        value=_optional(element, "value", lambda e: Decimal(e.text.strip())),
        statistical_value=_optional(element, "statisticalValue", lambda e: Decimal(e.text.strip())),
        origin_country=_optional_text(element, "originCountry"),
        additional_info=_optional_text(element, "additionalInfo"),
        basis=_optional_text(element, "basis"),
    )


def _record(element: etree._Element) -> CustomsRecord:
    changed = _optional_text(element, "statusChangedAt")
    return CustomsRecord(
        content=_content(element),
        status=RecordStatus(_text(element, "status")),
        remaining_quantity=Decimal(_text(element, "remainingQuantity")),
        registered_at=parse_datetime(_text(element, "registeredAt")),
        source_message_id=_text(element, "sourceMessageId"),
        status_changed_at=parse_datetime(changed) if changed else None,
        status_reason=_optional_text(element, "statusReason"),
    )


def _contract(element: etree._Element) -> Contract:
    day = _optional_text(element, "date")
    return Contract(
        number=_optional_text(element, "number"),
        date=_date(day) if day else None,
        other_document=_optional_text(element, "otherDocument"),
    )


def _counterparty(element: etree._Element) -> Counterparty:
    return Counterparty(_text(element, "name"), CounterpartyRole(_text(element, "role")))


def _date(text: str) -> date:
    # xs:date may carry a zone offset ("2025-01-01+05:00"); a calendar day ignores it.
    return date.fromisoformat(text[:10])


# --- writing -----------------------------------------------------------------------------------


def build_registration(
    content: RecordContent, document: etree._Element | None = None
) -> etree._Element:
    """A ``CustomsRecordRegistration``, optionally embedding the signed document unchanged."""
    element = etree.Element(REGISTRATION, nsmap=_NSMAP)
    _add_content(element, content)
    if document is not None:
        etree.SubElement(element, "document").append(document)
    return element


def build_status_change(
    change: StatusChange, document: etree._Element | None = None
) -> etree._Element:
    """A ``CustomsRecordStatusChange``, optionally embedding the signed decision unchanged."""
    element = etree.Element(STATUS_CHANGE, nsmap=_NSMAP)
    _add(element, "number", change.number)
    _add(element, "issuer", change.issuer)
    _add(element, "status", change.status.value)
    _add(element, "changedOn", change.changed_on)
    _add(element, "reason", change.reason)
    if document is not None:
        etree.SubElement(element, "document").append(document)
    return element


def build_by_number(number: str) -> etree._Element:
    element = etree.Element(BY_NUMBER, nsmap=_NSMAP)
    _add(element, "number", number)
    return element


def build_by_holder(holder_id: str) -> etree._Element:
    element = etree.Element(BY_HOLDER, nsmap=_NSMAP)
    _add(element, "holderId", holder_id)
    return element


def build_lookup_answer(answer: LookupAnswer) -> etree._Element:
    """The ``RecordLookupResponse`` for ``answer``, to be placed inside ``data``."""
    element = etree.Element(LOOKUP_RESPONSE, nsmap=_NSMAP)
    _add(element, "resultCode", answer.result_code)
    _add(element, "resultMessage", answer.result_message)
    for record in answer.records:
        _add_record(etree.SubElement(element, "record"), record)
    return element


def _add_record(element: etree._Element, record: CustomsRecord) -> None:
    _add_content(element, record.content)
    _add(element, "status", record.status.value)
    _add(element, "remainingQuantity", decimal_text(record.remaining_quantity))
    _add(element, "registeredAt", format_datetime(record.registered_at))
    _add(element, "sourceMessageId", record.source_message_id)
    if record.status_changed_at is not None:
        _add(element, "statusChangedAt", format_datetime(record.status_changed_at))
    _add(element, "statusReason", record.status_reason)


def _add_content(element: etree._Element, c: RecordContent) -> None:
    for name, value in (
        ("number", c.number),
        ("kind", c.kind.value),
        ("type", c.trade_type.value),
        ("validFrom", c.valid_from.isoformat()),
        ("validTo", c.valid_to.isoformat()),
    ):
        _add(element, name, value)
    if c.contract is not None:
        _add_contract(element, c.contract)
    _group(element, "holder", id=c.holder_id, name=c.holder_name)
    if c.counterparty is not None:
        _group(element, "counterparty", name=c.counterparty.name, role=c.counterparty.role.value)
    _group(element, "tradeCountry", code=c.trade_country, role=c.trade_country_role.value)
    _add(element, "counterpartyCountry", c.counterparty_country)
    _add(element, "currency", c.currency)
    _add(element, "value", _optional_decimal(c.value))
    _add(element, "statisticalValue", _optional_decimal(c.statistical_value))
    _add(element, "originCountry", c.origin_country)
    _add(element, "quantity", decimal_text(c.quantity))
    _add(element, "unit", c.unit)
    goods = etree.SubElement(element, "goods")
    for item in c.goods:
        _group(goods, "item", code=item.code, description=item.description)
    _add(element, "additionalInfo", c.additional_info)
    _add(element, "basis", c.basis)
    _add(element, "issuer", c.issuer)
    _add(element, "issueDate", c.issue_date.isoformat())


def _add_contract(parent: etree._Element, contract: Contract) -> None:
    element = etree.SubElement(parent, "contract")
    _add(element, "number", contract.number)
    _add(element, "date", contract.date.isoformat() if contract.date else None)
    _add(element, "otherDocument", contract.other_document)


def decimal_text(value: Decimal) -> str:
    """Plain notation without trailing zeros ("10", "2.5"): never "1E+1", which xs:decimal bans."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _optional_decimal(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


def _group(parent: etree._Element, tag: str, /, **values: str) -> None:
    group = etree.SubElement(parent, tag)
    for child_name, value in values.items():
        _add(group, child_name, value)


# --- small readers -----------------------------------------------------------------------------


def _text(parent: etree._Element, local_name: str) -> str:
    element = _child(parent, local_name)
    if element is None or not (element.text or "").strip():
        raise PayloadError(f"{etree.QName(parent).localname} has no {local_name}")
    return element.text.strip()


def _optional_text(parent: etree._Element, local_name: str) -> str | None:
    return _optional(parent, local_name, lambda e: (e.text or "").strip())


def _optional(
    parent: etree._Element, local_name: str, read: Callable[[etree._Element], _T]
) -> _T | None:
    element = _child(parent, local_name)
    return None if element is None else read(element)
