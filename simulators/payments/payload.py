"""XML ⇄ model mapping of the PEP payload, the content of SHEP ``data`` (``xsd/pep.xsd``).

Three operations share the endpoint; the request element says which one is asked. Only the
global elements are namespace-qualified; their children are unqualified, as in SHEP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from lxml import etree

from connectors import XSD_DIR, format_datetime
from connectors.soap.values import child as _child
from simulators.kit.xml import add_field as _add
from simulators.payments.models import CURRENCY, Payment, PaymentOrder
from simulators.payments.rules import PaymentResult, PaymentsResult

NAMESPACE = "http://kzgate.kz/simulators/pep/v1"
CREATE_REQUEST = etree.QName(NAMESPACE, "CreatePaymentRequest")
CREATE_RESPONSE = etree.QName(NAMESPACE, "CreatePaymentResponse")
CONFIRM_REQUEST = etree.QName(NAMESPACE, "ConfirmPaymentRequest")
CONFIRM_RESPONSE = etree.QName(NAMESPACE, "ConfirmPaymentResponse")
LOOKUP_REQUEST = etree.QName(NAMESPACE, "PaymentsByPayerRequest")
LOOKUP_RESPONSE = etree.QName(NAMESPACE, "PaymentsByPayerResponse")
_NSMAP = {"pep": NAMESPACE}
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
SCHEMA_PATH = XSD_DIR / "pep.xsd"


class PayloadError(ValueError):
    """The ``data`` element does not carry a readable PEP request."""


@dataclass(frozen=True)
class ConfirmQuery:
    payment_id: str


@dataclass(frozen=True)
class PayerQuery:
    payer_id: str
    purpose_code: str
    year: int | None = None


Request = PaymentOrder | ConfirmQuery | PayerQuery


def parse_request(data_element: etree._Element) -> Request:
    """The request in a SHEP ``data`` element, values whitespace-trimmed but not validated.

    A bad BIN/IIN, amount or purpose is a business answer decided by ``rules``; only a missing
    element or an unreadable year is a broken message.
    """
    name, request = _find_request(data_element)
    return _PARSERS[name](request)


def build_create_request(
    payer_id: str, purpose_code: str, amount: str, reference: str, currency: str = CURRENCY
) -> etree._Element:
    """A ``CreatePaymentRequest`` element, for clients and tests that call the simulator."""
    request = etree.Element(CREATE_REQUEST, nsmap=_NSMAP)
    for name, value in (
        ("payerId", payer_id),
        ("purposeCode", purpose_code),
        ("amount", amount),
        ("currency", currency),
        ("reference", reference),
    ):
        _add(request, name, value)
    return request


def build_confirm_request(payment_id: str) -> etree._Element:
    """A ``ConfirmPaymentRequest`` element."""
    request = etree.Element(CONFIRM_REQUEST, nsmap=_NSMAP)
    _add(request, "paymentId", payment_id)
    return request


def build_lookup_request(
    payer_id: str, purpose_code: str, year: int | None = None
) -> etree._Element:
    """A ``PaymentsByPayerRequest`` element; without ``year`` every year is listed."""
    request = etree.Element(LOOKUP_REQUEST, nsmap=_NSMAP)
    _add(request, "payerId", payer_id)
    _add(request, "purposeCode", purpose_code)
    if year is not None:
        _add(request, "year", str(year))
    return request


def build_create_response(result: PaymentResult) -> etree._Element:
    return _payment_response(CREATE_RESPONSE, result)


def build_confirm_response(result: PaymentResult) -> etree._Element:
    return _payment_response(CONFIRM_RESPONSE, result)


def build_lookup_response(result: PaymentsResult) -> etree._Element:
    response = _result_element(LOOKUP_RESPONSE, result.code.value, result.message)
    for payment in result.payments:
        _add_payment(response, payment)
    return response


@cache
def schema() -> etree.XMLSchema:
    """The payload schema, compiled once."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def _parse_create(request: etree._Element) -> PaymentOrder:
    return PaymentOrder(
        payer_id=_required(request, "payerId"),
        purpose_code=_required(request, "purposeCode"),
        amount=_required(request, "amount"),
        currency=_optional(request, "currency") or CURRENCY,
        reference=_required(request, "reference"),
    )


def _parse_confirm(request: etree._Element) -> ConfirmQuery:
    return ConfirmQuery(payment_id=_required(request, "paymentId"))


def _parse_lookup(request: etree._Element) -> PayerQuery:
    year = _optional(request, "year")
    if year is not None and not (len(year) == 4 and year.isascii() and year.isdigit()):
        raise PayloadError(f"year must be 4 digits, got {year[:16]!r}")
    return PayerQuery(
        payer_id=_required(request, "payerId"),
        purpose_code=_required(request, "purposeCode"),
        year=int(year) if year else None,
    )


# request element local name → its parser
_PARSERS: dict[str, Callable[[etree._Element], Request]] = {
    CREATE_REQUEST.localname: _parse_create,
    CONFIRM_REQUEST.localname: _parse_confirm,
    LOOKUP_REQUEST.localname: _parse_lookup,
}


def _find_request(data_element: etree._Element) -> tuple[str, etree._Element]:
    # Most SHEP clients wrap the payload element inside data; JAXB-style clients type data
    # itself with xsi:type="p:CreatePaymentRequest" and put the fields directly in it.
    for name in _PARSERS:
        wrapped = _child(data_element, name)
        if wrapped is not None:
            return name, wrapped
    typed = (data_element.get(_XSI_TYPE) or "").rpartition(":")[2]
    if typed in _PARSERS:
        return typed, data_element
    raise PayloadError(f"data carries none of {', '.join(_PARSERS)}")


def _required(parent: etree._Element, name: str) -> str:
    value = _optional(parent, name)
    if value is None:
        raise PayloadError(f"{etree.QName(parent).localname} has no {name} element")
    return value


def _optional(parent: etree._Element, name: str) -> str | None:
    element = _child(parent, name)
    return None if element is None else (element.text or "").strip()


def _payment_response(tag: etree.QName, result: PaymentResult) -> etree._Element:
    response = _result_element(tag, result.code.value, result.message)
    if result.payment is not None:
        _add_payment(response, result.payment)
    return response


def _result_element(tag: etree.QName, code: str, message: str) -> etree._Element:
    response = etree.Element(tag, nsmap=_NSMAP)
    _add(response, "resultCode", code)
    _add(response, "resultMessage", message)
    return response


def _add_payment(parent: etree._Element, payment: Payment) -> None:
    element = etree.SubElement(parent, "payment")
    for name, value in (
        ("paymentId", payment.payment_id),
        ("payerId", payment.payer_id),
        ("purposeCode", payment.purpose_code),
        ("amount", f"{payment.amount:.2f}"),
        ("currency", payment.currency),
        ("reference", payment.reference),
        ("status", payment.status.value),
        ("createdAt", format_datetime(payment.created_at)),
    ):
        _add(element, name, value)
    if payment.confirmed_at is not None:
        _add(element, "confirmedAt", format_datetime(payment.confirmed_at))
    _add(element, "paymentDate", payment.payment_date)
