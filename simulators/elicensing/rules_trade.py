"""The refusal grounds about the goods and the trade: R2 (EAEU rules), R4 (obligations), R5 (quota).

R2 judges the EAEU licensing rules paras 10–12 through parametrised predicates (their content is
external to order 51-НҚ); R4 the member states' international obligations that the contract would
violate; R5 an exhausted or absent quota or tariff quota of the registration year.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable

from simulators.elicensing.forms import LicenceApplication, TradeType
from simulators.elicensing.grounds import Ground, GroundCode, ground_of
from simulators.elicensing.records import InternationalObligation, QuotaKind
from simulators.elicensing.rule_facts import Facts

# --- R2: EAEU licensing rules paras 10–12 (parametrised) ------------------------------------


def r2_eaeu_rules(app: LicenceApplication, facts: Facts) -> Ground | None:
    """Every configured EAEU-rule predicate; their content is external to order 51-НҚ."""
    reasons = [r for predicate in EAEU_PREDICATES if (r := predicate(app, facts)) is not None]
    return ground_of(GroundCode.R2, reasons)


def _period(app: LicenceApplication) -> tuple[dt.date, dt.date] | None:
    # An absent or inverted period is R1's business; the R2 predicates judge sound periods only.
    if app.valid_from and app.valid_to and app.valid_from <= app.valid_to:
        return app.valid_from, app.valid_to
    return None


def validity_too_long(app: LicenceApplication, facts: Facts) -> str | None:
    period, months = _period(app), facts.eaeu_rules.max_validity_months
    if period is None:
        return None
    limit = _add_months(period[0], months) - dt.timedelta(days=1)  # the end date is inclusive
    if period[1] > limit:
        return f"validity {period[0]}–{period[1]} exceeds {months} months (last day {limit})"
    return None


def starts_before_registration(app: LicenceApplication, facts: Facts) -> str | None:
    """The validity starts before the application was filed.

    Judged against the filing day, not the registration day: an off-hours filing registered on
    the next working day must not be refused for a start date that was sound when it was filed
    (DESIGN.md "Off-hours filings").
    """
    period = _period(app)
    if not facts.eaeu_rules.start_not_before_registration or period is None:
        return None
    filed_on = facts.filed_on or facts.registered_on
    if period[0] < filed_on:
        return f"validity starts {period[0]}, before the application was filed on {filed_on}"
    return None


def quota_goods_beyond_year(app: LicenceApplication, facts: Facts) -> str | None:
    period = _period(app)
    if not facts.eaeu_rules.quota_goods_within_calendar_year or period is None:
        return None
    if facts.quota.restricted and period[1].year != period[0].year:
        return f"a licence for quota-restricted goods must end within {period[0].year}"
    return None


def basis_missing(app: LicenceApplication, facts: Facts) -> str | None:
    code = app.goods.commodity_code
    prefixes = facts.eaeu_rules.codes_requiring_basis
    if code is None or app.basis or not any(code.startswith(p) for p in prefixes):
        return None
    return f"goods {code} need the basis for issuing the licence (field 17)"


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    # 31 January + 1 month is the last day of February, not an invalid date.
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


EAEU_PREDICATES: tuple[Callable[[LicenceApplication, Facts], str | None], ...] = (
    validity_too_long,
    starts_before_registration,
    quota_goods_beyond_year,
    basis_missing,
)


def r4_international_obligations(app: LicenceApplication, facts: Facts) -> Ground | None:
    reasons = [
        f"{o.id}: {o.title} (goods {app.goods.commodity_code}, countries {', '.join(hit)})"
        for o in facts.obligations
        if (hit := _obligation_hit(app, o))
    ]
    return ground_of(GroundCode.R4, reasons)


def _obligation_hit(app: LicenceApplication, obligation: InternationalObligation) -> list[str]:
    code = app.goods.commodity_code
    if app.type not in obligation.types or code is None:
        return []
    if not any(code.startswith(p) for p in obligation.code_prefixes):
        return []
    return sorted(_countries_of(app) & set(obligation.countries))


def _countries_of(app: LicenceApplication) -> set[str]:
    """The counterparty's, the dispatch/destination and, for an import, the origin country."""
    found = {app.counterparty.country if app.counterparty else None}
    found.add(app.trade_country.country if app.trade_country else None)
    if app.type is TradeType.IMPORT:
        found.add(app.goods.origin_country)
    return {c for c in found if c is not None}


def r5_quota(app: LicenceApplication, facts: Facts) -> Ground | None:
    quota, wanted = facts.quota, app.goods.quantity
    if not quota.restricted:
        return None
    kind = "tariff quota" if quota.kind is QuotaKind.TARIFF_QUOTA else "quota"
    year = facts.registered_on.year
    if quota.remaining is None:
        return Ground.of(GroundCode.R5, f"no {kind} is allocated for these goods in {year}")
    if wanted is not None and wanted > quota.remaining:
        unit = f" {quota.unit}" if quota.unit else ""
        left = f"the {kind} for {year} has {quota.remaining}{unit} left"
        return Ground.of(GroundCode.R5, f"{left}, {wanted}{unit} requested")
    return None
