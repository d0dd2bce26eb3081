"""Domain model of the PEP simulator: a payment order as received and a payment as recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from connectors import KZ_TZ
from simulators.kit.identifiers import explain_invalid

CURRENCY = "KZT"

# Purpose codes the gateway accepts, with what they pay for.
PURPOSES: dict[str, str] = {
    "LICENCE_FEE_IMPORT_EXPORT": (
        "licence fee (лицензиялық алым) for a licence to import/export certain goods, 10 MRP"
    ),
    "STATE_SERVICE_FEE": "fee (алым) for a paid state service",
    "STATE_DUTY": "state duty (мемлекеттік баж)",
}


class PaymentStatus(StrEnum):
    CREATED = "CREATED"  # ordered, money not yet received
    CONFIRMED = "CONFIRMED"  # the bank confirmed the money reached the budget


def _checked_identifier(value: str) -> str:
    reason = explain_invalid(value)
    if reason is not None:
        raise ValueError(reason)
    return value


Identifier = Annotated[str, AfterValidator(_checked_identifier)]
Text64 = Annotated[str, Field(min_length=1, max_length=64)]
Amount = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=2)]


class PaymentOrder(BaseModel):
    """A create request as received: raw text, judged by ``rules`` (a bad value is an answer)."""

    model_config = ConfigDict(frozen=True)

    payer_id: str
    purpose_code: str
    amount: str
    currency: str = CURRENCY
    reference: str


class Payment(BaseModel):
    """One payment as the gateway records it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    payment_id: Text64
    payer_id: Identifier  # BIN or IIN of who pays (the applicant)
    purpose_code: Text64
    amount: Amount
    currency: Literal["KZT"] = CURRENCY
    reference: Text64  # the payer's own reference; one payment per payer and reference
    status: PaymentStatus
    created_at: AwareDatetime
    confirmed_at: AwareDatetime | None = None

    @property
    def payment_date(self) -> date:
        """The Kazakhstan date the payment counts for: when confirmed, else when ordered.

        The year whose fee a payment pays is that of its local date, not of its UTC timestamp.
        """
        return (self.confirmed_at or self.created_at).astimezone(KZ_TZ).date()

    @property
    def amount_tiyn(self) -> int:
        return int(self.amount * 100)

    @model_validator(mode="after")
    def _confirmation_matches_status(self) -> Payment:
        confirmed = self.status is PaymentStatus.CONFIRMED
        if confirmed != (self.confirmed_at is not None):
            raise ValueError("confirmed_at is set exactly when the status is CONFIRMED")
        if self.confirmed_at is not None and self.confirmed_at < self.created_at:
            raise ValueError("confirmed_at precedes created_at")
        return self

    def same_order(self, other: Payment) -> bool:
        """True when ``other`` orders the same thing (a retried create, not a conflict)."""
        return (self.payer_id, self.purpose_code, self.amount, self.currency) == (
            other.payer_id,
            other.purpose_code,
            other.amount,
            other.currency,
        )


# The questions PEP answers besides a PaymentOrder, as read from a request.
@dataclass(frozen=True)
class ConfirmQuery:
    payment_id: str


@dataclass(frozen=True)
class PayerQuery:
    payer_id: str
    purpose_code: str
    year: int | None = None
