"""The facts a licence decision is judged on, gathered through the gateway and from the records.

The registry's answer about the applicant (GBDUL or GBDFL), the applicant's budget payments as PEP
reports them, the MRP by year (KGD), and E-licensing's own records (activity licence, quota,
EAEU rules, international obligations). ``facts`` gathers them; the rules judge them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from simulators.elicensing.forms import LicenceApplication
from simulators.elicensing.grounds import Ground
from simulators.elicensing.records import (
    NO_ACTIVITY_LICENCE_NEEDED,
    NOT_RESTRICTED,
    ActivityLicenceCheck,
    BasisDocument,
    EaeuRules,
    InternationalObligation,
    QuotaCheck,
)


class Registry(StrEnum):
    GBDUL = "GBDUL"  # legal entities, by BIN
    GBDFL = "GBDFL"  # individuals (and their IE registration), by IIN


@dataclass(frozen=True)
class RegistryAnswer:
    """The registry's answer about the applicant.

    ``names`` are the names the registry holds (a legal entity's full and short name; an
    individual's full name); ``active`` means registered and operating (for an IE: registration
    or start of activity notified and not terminated); ``status`` is the registry's own word.
    """

    source: Registry
    found: bool
    active: bool = False
    names: tuple[str, ...] = ()
    status: str | None = None


class PaymentStatus(StrEnum):
    CONFIRMED = "CONFIRMED"
    PENDING = "PENDING"
    REJECTED = "REJECTED"
    REFUNDED = "REFUNDED"


@dataclass(frozen=True)
class Payment:
    """A budget payment as PEP (or a bank, through PEP) reports it.

    ``paid_on`` is the Kazakhstan date of the payment: the fee is judged against the MRP of its
    year. ``used_by`` is the application whose licence already consumed it (one fee, one
    licence).
    """

    payer: str
    amount: Decimal
    status: PaymentStatus
    paid_on: dt.date
    purpose: str
    reference: str | None = None
    payment_id: str | None = None
    used_by: str | None = None


@dataclass(frozen=True)
class Facts:
    """Everything gathered through the gateway and from E-licensing's records for one decision.

    ``registered_on`` is the registration date: its year is the quota year. ``mrp_by_year`` is
    the MRP (from KGD) of each year the applicant's fee payments were made in; a year KGD has no
    MRP for is absent. ``filed_on`` is the day the applicant filed (the registration date unless
    an off-hours filing moved it).
    """

    registered_on: dt.date
    registry: RegistryAnswer
    mrp_by_year: Mapping[int, Decimal] = field(default_factory=dict)
    payments: tuple[Payment, ...] = ()
    activity_licence: ActivityLicenceCheck = NO_ACTIVITY_LICENCE_NEEDED
    quota: QuotaCheck = NOT_RESTRICTED
    eaeu_rules: EaeuRules = field(default_factory=EaeuRules)
    obligations: tuple[InternationalObligation, ...] = ()
    filed_on: dt.date | None = None
    stopped_contract: BasisDocument | None = None  # the contract, if known terminated/suspended


Rule = Callable[[LicenceApplication, Facts], Ground | None]
