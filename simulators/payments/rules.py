"""PEP's decisions: creating, confirming and listing payments, each answered with a coded result.

A bad value in a request (an invalid BIN/IIN, a negative amount, an unknown purpose) is a
business answer with its code, not a broken message: the payer's system shows it to a person.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Protocol

from simulators.kit.answers import Answer
from simulators.kit.identifiers import explain_invalid
from simulators.payments.models import (
    CURRENCY,
    PURPOSES,
    Payment,
    PaymentOrder,
    PaymentStatus,
)

MAX_AMOUNT = Decimal("9999999999999999.99")  # what 18 digits with 2 fraction digits hold
TIYN = Decimal("0.01")


class CreateResultCode(StrEnum):
    CREATED = "CREATED"
    ALREADY_EXISTS = "ALREADY_EXISTS"  # same payer, reference and order: the earlier payment
    REFERENCE_CONFLICT = "REFERENCE_CONFLICT"  # same payer and reference, a different order
    INVALID_PAYER = "INVALID_PAYER"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    UNSUPPORTED_CURRENCY = "UNSUPPORTED_CURRENCY"
    UNKNOWN_PURPOSE = "UNKNOWN_PURPOSE"


class ConfirmResultCode(StrEnum):
    CONFIRMED = "CONFIRMED"
    ALREADY_CONFIRMED = "ALREADY_CONFIRMED"
    NOT_FOUND = "NOT_FOUND"


class LookupResultCode(StrEnum):
    FOUND = "FOUND"
    NOT_FOUND = "NOT_FOUND"
    INVALID_PAYER = "INVALID_PAYER"


class PaymentRepository(Protocol):
    async def add(self, payment: Payment) -> tuple[Payment, bool]: ...

    async def confirm(self, payment_id: str, at: datetime) -> tuple[Payment | None, bool]: ...

    async def by_payer(self, payer_id: str, purpose_code: str) -> list[Payment]: ...


class PaymentResult(Answer):
    """The answer to a create or confirm: a code, a message and the payment concerned."""

    code: CreateResultCode | ConfirmResultCode
    payment: Payment | None = None


class PaymentsResult(Answer):
    """The answer to a look-up by payer and purpose."""

    code: LookupResultCode
    payments: tuple[Payment, ...] = ()


def new_payment_id() -> str:
    """A fresh payment id: 80 random bits, readable and short enough to read out on the phone."""
    return f"PEP-{uuid.uuid4().hex[:20].upper()}"


async def create_payment(
    order: PaymentOrder,
    store: PaymentRepository,
    now: datetime,
    new_id: Callable[[], str] = new_payment_id,
) -> PaymentResult:
    """Validate the order, then record it as a CREATED payment (once per payer and reference)."""
    refusal = _refusal(order)
    if refusal is not None:
        return refusal
    payment = Payment(
        payment_id=new_id(),
        payer_id=order.payer_id,
        purpose_code=order.purpose_code,
        amount=Decimal(order.amount).quantize(TIYN),
        currency=CURRENCY,
        reference=order.reference,
        status=PaymentStatus.CREATED,
        created_at=now,
    )
    recorded, is_new = await store.add(payment)
    if is_new:
        return PaymentResult(
            code=CreateResultCode.CREATED,
            message=f"Payment {recorded.payment_id} created",
            payment=recorded,
        )
    if recorded.same_order(payment):
        return PaymentResult(
            code=CreateResultCode.ALREADY_EXISTS,
            message=f"Reference {order.reference} already has payment {recorded.payment_id}",
            payment=recorded,
        )
    return PaymentResult(
        code=CreateResultCode.REFERENCE_CONFLICT,
        message=(
            f"Reference {order.reference} already has payment {recorded.payment_id} "
            "for a different purpose or amount"
        ),
        payment=recorded,
    )


async def confirm_payment(
    payment_id: str, store: PaymentRepository, now: datetime
) -> PaymentResult:
    """Confirm a payment; confirming a confirmed one again changes nothing (idempotent)."""
    payment, changed = await store.confirm(payment_id, now)
    if payment is None:
        return PaymentResult(
            code=ConfirmResultCode.NOT_FOUND, message=f"No payment with id {payment_id!r}"
        )
    if changed:
        return PaymentResult(
            code=ConfirmResultCode.CONFIRMED,
            message=f"Payment {payment_id} confirmed",
            payment=payment,
        )
    return PaymentResult(
        code=ConfirmResultCode.ALREADY_CONFIRMED,
        message=f"Payment {payment_id} was already confirmed",
        payment=payment,
    )


async def payments_by_payer(
    payer_id: str, purpose_code: str, year: int | None, store: PaymentRepository
) -> PaymentsResult:
    """The payer's payments for a purpose (of one year, by local payment date, when given).

    Every status is listed: whether a CREATED payment or a wrong amount counts as "paid" is the
    asking system's decision, not the payment gateway's.
    """
    reason = explain_invalid(payer_id)
    if reason is not None:
        return PaymentsResult(
            code=LookupResultCode.INVALID_PAYER, message=f"Invalid BIN/IIN: {reason}"
        )
    found = await store.by_payer(payer_id, purpose_code)
    if year is not None:
        found = [p for p in found if p.payment_date.year == year]
    scope = f"{purpose_code}" + (f" in {year}" if year is not None else "")
    if not found:
        return PaymentsResult(
            code=LookupResultCode.NOT_FOUND, message=f"No payments by {payer_id} for {scope}"
        )
    return PaymentsResult(
        code=LookupResultCode.FOUND,
        message=f"{len(found)} payment(s) by {payer_id} for {scope}",
        payments=tuple(found),
    )


def _refusal(order: PaymentOrder) -> PaymentResult | None:
    """The coded refusal of an order that cannot be recorded, or None when it can."""
    reason = explain_invalid(order.payer_id)
    if reason is not None:
        return _refused(CreateResultCode.INVALID_PAYER, f"Invalid payer BIN/IIN: {reason}")
    amount_problem = _amount_problem(order.amount)
    if amount_problem is not None:
        return _refused(CreateResultCode.INVALID_AMOUNT, amount_problem)
    if order.currency != CURRENCY:
        return _refused(
            CreateResultCode.UNSUPPORTED_CURRENCY,
            f"Only {CURRENCY} is accepted, got {order.currency[:16]!r}",
        )
    if order.purpose_code not in PURPOSES:
        return _refused(
            CreateResultCode.UNKNOWN_PURPOSE,
            f"Unknown purpose {order.purpose_code[:64]!r}; known: {', '.join(PURPOSES)}",
        )
    return None


def _amount_problem(text: str) -> str | None:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return f"Amount {text[:32]!r} is not a number"
    if not amount.is_finite() or amount <= 0:
        return f"Amount must be positive, got {text[:32]!r}"
    if amount > MAX_AMOUNT:
        return f"Amount exceeds {MAX_AMOUNT}"
    if amount != amount.quantize(TIYN):
        return f"Amount has more than 2 decimal places (tiyn): {text[:32]!r}"
    return None


def _refused(code: CreateResultCode, message: str) -> PaymentResult:
    return PaymentResult(code=code, message=message)
