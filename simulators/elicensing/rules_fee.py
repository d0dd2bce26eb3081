"""The licence fee: which payment a licence consumes, and R6 when none counts.

The fee is 10 MRP (licence rules, Annex 3), "for issuing a licence" (LR-L3 row 6): one payment,
one licence. A payment of any date counts, judged against the MRP of its own year (LR p.3;
DESIGN.md "Fee").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from simulators.elicensing.forms import LicenceApplication
from simulators.elicensing.grounds import Ground, GroundCode
from simulators.elicensing.rule_facts import Facts, Payment, PaymentStatus

LICENCE_FEE_MRP = 10  # licence rules, Annex 3: the fee is 10 MRP
LICENCE_FEE_PURPOSE = "LICENCE_FEE"


@dataclass(frozen=True)
class FeeCheck:
    """The payment a licence consumes (None: none counts) and why each other one does not."""

    payment: Payment | None
    considered: tuple[str, ...]
    unknown_mrp_years: tuple[int, ...]


def fee_check(app: LicenceApplication, facts: Facts) -> FeeCheck:
    """The oldest unused CONFIRMED licence-fee payment by the applicant of at least 10 MRP.

    The fee is "for issuing a licence" (LR-L3 row 6): one payment, one licence. The law sets no
    year condition, so a payment of any date counts, judged against the MRP of its own payment
    date (LR p.3; DESIGN.md "Fee").
    """
    counting: Payment | None = None
    considered, unknown = [], set()
    for payment in facts.payments:
        why = _why_not_counting(app, payment, facts.mrp_by_year)
        if why is None and counting is None:
            counting = payment
            continue
        if why is None:
            why = "counts, but one payment is enough"
        elif why is _MRP_UNKNOWN:
            unknown.add(payment.paid_on.year)
            why = f"KGD has no MRP of {payment.paid_on.year}: the amount cannot be judged"
        considered.append(f"{_payment_label(payment)}: {why}")
    return FeeCheck(counting, tuple(considered), tuple(sorted(unknown)))


def _why_not_counting(
    app: LicenceApplication, payment: Payment, mrp_by_year: Mapping[int, Decimal]
) -> str | None:
    if payment.payer != app.applicant.identifier:
        return f"paid by {payment.payer}, not the applicant"
    if payment.purpose != LICENCE_FEE_PURPOSE:
        return f"paid for {payment.purpose}, not the licence fee"
    if payment.status is not PaymentStatus.CONFIRMED:
        return f"not confirmed ({payment.status.value})"
    if payment.used_by is not None:
        return f"already paid the licence of application {payment.used_by}"
    year = payment.paid_on.year
    mrp = mrp_by_year.get(year)
    if mrp is None:
        return _MRP_UNKNOWN
    due = mrp * LICENCE_FEE_MRP
    if payment.amount < due:
        return f"{payment.amount} is less than {due} tenge ({LICENCE_FEE_MRP} MRP of {year})"
    return None


_MRP_UNKNOWN = "MRP unknown"  # a marker compared by identity: the one reason that is no answer


def _payment_label(payment: Payment) -> str:
    name = payment.payment_id or payment.reference or "payment"
    return f"{name} of {payment.paid_on} ({payment.amount} tenge)"


def r6_fee_not_paid(app: LicenceApplication, facts: Facts) -> Ground | None:
    """No unused CONFIRMED licence-fee payment by the applicant of at least 10 MRP."""
    check = fee_check(app, facts)
    if check.payment is not None:
        return None
    detail = "; ".join(check.considered) if check.considered else "no payment found"
    return Ground.of(
        GroundCode.R6,
        f"no unused confirmed licence fee of {LICENCE_FEE_MRP} MRP (at the MRP of the payment "
        f"date) paid by {app.applicant.identifier}; payments considered: {detail}",
    )
