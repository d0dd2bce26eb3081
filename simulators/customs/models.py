"""The customs record of a licence or permit, and how its status follows from the facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from connectors import KZ_TZ


class DocumentKind(StrEnum):
    LICENCE = "LICENCE"
    PERMIT = "PERMIT"
    # The CIS export-pilot permit (seed 003, Rules p.7: "displayed in KEDEN"), issued by a
    # committee through E-licensing; one record model and status model with the others.
    EXPORT_PERMIT = "EXPORT_PERMIT"


class TradeType(StrEnum):
    """Field 3 of the licence / permit form."""

    IMPORT = "IMPORT"
    EXPORT = "EXPORT"


class CounterpartyRole(StrEnum):
    BUYER = "BUYER"
    SELLER = "SELLER"


class TradeCountryRole(StrEnum):
    DISPATCH = "DISPATCH"
    DESTINATION = "DESTINATION"


class RecordStatus(StrEnum):
    VALID = "VALID"
    TERMINATED = "TERMINATED"
    EXPIRED = "EXPIRED"
    EXHAUSTED = "EXHAUSTED"


# How KEDEN shows a status to a Kazakh-speaking officer. Only «тоқтатылды» is the law's word
# (seed 003 Rules p.15, L1075-1079); the other three are our renderings.
STATUS_KK = {
    RecordStatus.VALID: "жарамды",
    RecordStatus.TERMINATED: "тоқтатылды",
    RecordStatus.EXPIRED: "мерзімі өтті",
    RecordStatus.EXHAUSTED: "толық пайдаланылды",
}


@dataclass(frozen=True)
class GoodsItem:
    """A 10-digit ТН ВЭД / СЭҚ БТН code and the goods description (field 15)."""

    code: str
    description: str


@dataclass(frozen=True)
class Contract:
    """Field 4: the contract, or another document confirming the parties' intentions."""

    number: str | None = None
    date: date | None = None
    other_document: str | None = None


@dataclass(frozen=True)
class Counterparty:
    name: str
    role: CounterpartyRole


@dataclass(frozen=True)
class RecordContent:
    """What the issuing system states about the document: the registration, field for field.

    Two registrations of one number are "the same" exactly when these values are equal
    (decimals compare by value, so ``10`` and ``10.000`` are one quantity).
    """

    number: str
    kind: DocumentKind
    trade_type: TradeType
    valid_from: date
    valid_to: date
    holder_id: str
    holder_name: str
    trade_country: str
    trade_country_role: TradeCountryRole
    quantity: Decimal
    unit: str
    goods: tuple[GoodsItem, ...]
    issuer: str
    issue_date: date
    contract: Contract | None = None
    counterparty: Counterparty | None = None
    counterparty_country: str | None = None
    currency: str | None = None
    value: Decimal | None = None
    statistical_value: Decimal | None = None
    origin_country: str | None = None
    additional_info: str | None = None
    basis: str | None = None


@dataclass(frozen=True)
class CustomsRecord:
    """A registered document as customs holds it; ``status`` is the stored one (never EXPIRED)."""

    content: RecordContent
    status: RecordStatus
    remaining_quantity: Decimal
    registered_at: datetime
    source_message_id: str
    status_changed_at: datetime | None = None
    status_reason: str | None = None

    @property
    def number(self) -> str:
        return self.content.number

    def status_on(self, moment: datetime) -> RecordStatus:
        """The status at ``moment``: a valid record whose last valid day has passed is EXPIRED.

        Computed rather than stored, so no job has to sweep the table at midnight and a virtual
        clock moves records to EXPIRED as soon as it passes the date. A terminated or exhausted
        record keeps that status: it says more than the expiry does.
        """
        if self.status is RecordStatus.VALID and customs_day(moment) > self.content.valid_to:
            return RecordStatus.EXPIRED
        return self.status


def customs_day(moment: datetime) -> date:
    """The calendar day in Kazakhstan at ``moment`` (validity dates are Kazakhstan days)."""
    return moment.astimezone(KZ_TZ).date()
