"""PEP's payload (``xsd/pep.xsd``): payment orders, confirmations and listings, as XML.

The request element names the operation (create, confirm, list by payer); reading and writing
follow the kit's ``PayloadSpec``.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from connectors import format_datetime
from connectors.roster import roster_entry
from simulators.kit.payloads import PayloadError as PayloadError  # what parse_request raises
from simulators.kit.payloads import PayloadSpec, optional, required
from simulators.kit.xml import add_group
from simulators.payments.models import CURRENCY, ConfirmQuery, PayerQuery, Payment, PaymentOrder
from simulators.payments.rules import PaymentResult, PaymentsResult

SPEC = PayloadSpec.of(roster_entry("PEP"))
NAMESPACE = SPEC.namespace
CREATE_REQUEST, CREATE_RESPONSE = SPEC.operation("CreatePayment")
CONFIRM_REQUEST, CONFIRM_RESPONSE = SPEC.operation("ConfirmPayment")
LOOKUP_REQUEST, LOOKUP_RESPONSE = SPEC.operation("PaymentsByPayer")
schema = SPEC.schema


Request = PaymentOrder | ConfirmQuery | PayerQuery


def parse_request(data_element: etree._Element) -> Request:
    """The request in a SHEP ``data`` element, values whitespace-trimmed but not validated.

    A bad BIN/IIN, amount or purpose is a business answer decided by ``rules``; only a missing
    element or an unreadable year is a broken message.
    """
    name, request = SPEC.find_request(data_element, _PARSERS)
    return _PARSERS[name](request)


def build_create_request(
    payer_id: str, purpose_code: str, amount: str, reference: str, currency: str = CURRENCY
) -> etree._Element:
    """A ``CreatePaymentRequest`` element, for clients and tests that call the simulator."""
    return SPEC.element(
        CREATE_REQUEST.localname,
        (
            ("payerId", payer_id),
            ("purposeCode", purpose_code),
            ("amount", amount),
            ("currency", currency),
            ("reference", reference),
        ),
    )


def build_confirm_request(payment_id: str) -> etree._Element:
    """A ``ConfirmPaymentRequest`` element."""
    return SPEC.element(CONFIRM_REQUEST.localname, (("paymentId", payment_id),))


def build_lookup_request(
    payer_id: str, purpose_code: str, year: int | None = None
) -> etree._Element:
    """A ``PaymentsByPayerRequest`` element; without ``year`` every year is listed."""
    fields = (("payerId", payer_id), ("purposeCode", purpose_code))
    if year is not None:
        fields += (("year", str(year)),)
    return SPEC.element(LOOKUP_REQUEST.localname, fields)


def build_create_response(result: PaymentResult) -> etree._Element:
    return _payment_response(CREATE_RESPONSE, result)


def build_confirm_response(result: PaymentResult) -> etree._Element:
    return _payment_response(CONFIRM_RESPONSE, result)


def build_lookup_response(result: PaymentsResult) -> etree._Element:
    response = SPEC.result(LOOKUP_RESPONSE.localname, result.code, result.message)
    for payment in result.payments:
        _add_payment(response, payment)
    return response


def _parse_create(request: etree._Element) -> PaymentOrder:
    return PaymentOrder(
        payer_id=required(request, "payerId"),
        purpose_code=required(request, "purposeCode"),
        amount=required(request, "amount"),
        currency=optional(request, "currency") or CURRENCY,
        reference=required(request, "reference"),
    )


def _parse_confirm(request: etree._Element) -> ConfirmQuery:
    return ConfirmQuery(payment_id=required(request, "paymentId"))


def _parse_lookup(request: etree._Element) -> PayerQuery:
    year = optional(request, "year")
    if year is not None and not (len(year) == 4 and year.isascii() and year.isdigit()):
        raise PayloadError(f"year must be 4 digits, got {year[:16]!r}")
    return PayerQuery(
        payer_id=required(request, "payerId"),
        purpose_code=required(request, "purposeCode"),
        year=int(year) if year else None,
    )


# request element local name → its parser
_PARSERS: dict[str, Callable[[etree._Element], Request]] = {
    CREATE_REQUEST.localname: _parse_create,
    CONFIRM_REQUEST.localname: _parse_confirm,
    LOOKUP_REQUEST.localname: _parse_lookup,
}


def _payment_response(tag: etree.QName, result: PaymentResult) -> etree._Element:
    response = SPEC.result(tag.localname, result.code, result.message)
    if result.payment is not None:
        _add_payment(response, result.payment)
    return response


def _add_payment(parent: etree._Element, payment: Payment) -> None:
    confirmed = payment.confirmed_at
    add_group(
        parent,
        "payment",
        (
            ("paymentId", payment.payment_id),
            ("payerId", payment.payer_id),
            ("purposeCode", payment.purpose_code),
            ("amount", f"{payment.amount:.2f}"),
            ("currency", payment.currency),
            ("reference", payment.reference),
            ("status", payment.status.value),
            ("createdAt", format_datetime(payment.created_at)),
            ("confirmedAt", None if confirmed is None else format_datetime(confirmed)),
            ("paymentDate", payment.payment_date),
        ),
    )
