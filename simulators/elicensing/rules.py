"""The licence decision by the seven refusal grounds of licence rules para 7 (order 51-НҚ).

``decide`` runs every rule R1–R7 and refuses with *all* the grounds that apply (T-L18), so an
applicant learns every defect at once. Each rule is a small function returning a ``Ground`` (its
code, the law's wording, a Kazakh title and the specific reasoning) or None. The codes R1–R7 are
ours: the law numbers the grounds but defines no machine-readable codes.

Permits have no refusal path in the law (digest §6.B); ``check_permit_draft`` is a structural check
of the draft only — a draft that fails it is an invalid message, not a refused permit.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from simulators.elicensing.forms import FormModel, LicenceApplication, PermitDraft, TradeType
from simulators.elicensing.records import (
    NO_ACTIVITY_LICENCE_NEEDED,
    NOT_RESTRICTED,
    ActivityLicenceCheck,
    ActivityLicenceStatus,
    EaeuRules,
    InternationalObligation,
    QuotaCheck,
    QuotaKind,
)

LICENCE_FEE_MRP = 10  # licence rules, Annex 3: the fee is 10 MRP
LICENCE_FEE_PURPOSE = "LICENCE_FEE"


class GroundCode(StrEnum):
    R1 = "R1"
    R2 = "R2"
    R3 = "R3"
    R4 = "R4"
    R5 = "R5"
    R6 = "R6"
    R7 = "R7"


# code → (the law's wording in English, the Kazakh title), licence rules para 7 (15.11.2022).
GROUND_TITLES: dict[GroundCode, tuple[str, str]] = {
    GroundCode.R1: (
        "Incomplete or unreliable information in the documents submitted to obtain the licence",
        "Мәліметтердің толық емес немесе анық емес болуы",
    ),
    GroundCode.R2: (
        "Non-compliance with paragraphs 10, 11 and 12 of the Rules for issuing licences and "
        "permits for export and/or import of goods (Treaty on the Eurasian Economic Union)",
        "ЕАЭО туралы шартта бекітілген қағидалардың 10, 11 және 12-тармақтарында көзделген "
        "талаптардың сақталмауы",
    ),
    GroundCode.R3: (
        "Termination or suspension of one or more documents serving as the basis for issuing "
        "the licence",
        "Лицензия беруге негіз болатын бір немесе бірнеше құжаттар қолданысының тоқтатылуы "
        "немесе тоқтатыла тұруы",
    ),
    GroundCode.R4: (
        "Violation of the international obligations of the member states that performing the "
        "contract would entail",
        "Мүше мемлекеттердің халықаралық міндеттемелерінің бұзылуы",
    ),
    GroundCode.R5: (
        "Exhaustion or absence of the quota or tariff quota for quota-restricted goods",
        "Квотаның, сондай-ақ тарифтік квотаның бітуі не олардың болмауы",
    ),
    GroundCode.R6: (
        "Non-payment of the licence fee",
        "Лицензиялық алымның енгізілмеуі",
    ),
    GroundCode.R7: (
        "Absence of the applicant's consent to access restricted personal data "
        "(art. 8 of the Law on personal data and their protection)",
        "Дербес деректерге қол жеткізуге келісімнің болмауы",
    ),
}


class Ground(FormModel):
    """One refusal ground as it appears in the motivated refusal (Annex 4)."""

    code: GroundCode
    title: str
    title_kk: str
    reasoning: str

    @classmethod
    def of(cls, code: GroundCode, reasoning: str) -> Ground:
        title, title_kk = GROUND_TITLES[code]
        return cls(code=code, title=title, title_kk=title_kk, reasoning=reasoning)


class Outcome(StrEnum):
    ISSUE = "ISSUE"
    REFUSE = "REFUSE"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    grounds: tuple[Ground, ...] = ()

    @property
    def codes(self) -> tuple[GroundCode, ...]:
        return tuple(g.code for g in self.grounds)


# --- facts ----------------------------------------------------------------------------------


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
    """A budget payment as PEP (or a bank, through PEP) reports it."""

    payer: str
    amount: Decimal
    status: PaymentStatus
    year: int
    purpose: str
    reference: str | None = None


@dataclass(frozen=True)
class Facts:
    """Everything gathered through the gateway and from E-licensing's records for one decision.

    ``registered_on`` is the registration date: its year is "the application's year" for the MRP,
    the fee and the quota. ``mrp`` is the MRP of that year (from KGD).
    """

    registered_on: dt.date
    registry: RegistryAnswer
    mrp: Decimal
    payments: tuple[Payment, ...] = ()
    activity_licence: ActivityLicenceCheck = NO_ACTIVITY_LICENCE_NEEDED
    quota: QuotaCheck = NOT_RESTRICTED
    eaeu_rules: EaeuRules = field(default_factory=EaeuRules)
    obligations: tuple[InternationalObligation, ...] = ()


Rule = Callable[[LicenceApplication, Facts], "Ground | None"]


def decide(application: LicenceApplication, facts: Facts) -> Decision:
    """ISSUE, or REFUSE naming every ground that applies (in the order R1…R7)."""
    grounds = tuple(g for rule in RULES if (g := rule(application, facts)) is not None)
    return Decision(Outcome.REFUSE if grounds else Outcome.ISSUE, grounds)


def _ground(code: GroundCode, reasons: list[str]) -> Ground | None:
    return Ground.of(code, "; ".join(reasons)) if reasons else None


# --- R1: incomplete or unreliable information -----------------------------------------------


def r1_incomplete_or_unreliable(app: LicenceApplication, facts: Facts) -> Ground | None:
    """Missing mandatory fields, an inverted period, a registry mismatch, a bad activity licence."""
    missing = app.missing_fields()
    reasons = [f"missing: {', '.join(missing)}"] if missing else []
    reasons += _inverted_period(app)
    reasons += _registry_mismatch(app, facts.registry)
    reasons += _activity_licence_unreliable(app, facts.activity_licence)
    return _ground(GroundCode.R1, reasons)


def _inverted_period(app: LicenceApplication | PermitDraft) -> list[str]:
    if app.valid_from and app.valid_to and app.valid_to < app.valid_from:
        return [f"validity ends ({app.valid_to}) before it starts ({app.valid_from})"]
    return []


def _registry_mismatch(app: LicenceApplication, answer: RegistryAnswer) -> list[str]:
    who = f"{app.applicant.identifier} in {answer.source}"
    if not answer.found:
        return [f"the applicant {who} is not registered"]
    reasons = []
    if not answer.active:
        reasons.append(f"the applicant {who} is not active (status {answer.status or 'unknown'})")
    name = app.applicant.name
    if name and not any(_same_name(name, known) for known in answer.names):
        shown = " / ".join(answer.names) or "no name"
        reasons.append(f"applicant name «{name}» does not match the registry ({shown})")
    return reasons


_QUOTES = re.compile(r"[«»“”„\"'`]")


def _normal_name(name: str) -> str:
    # Registries and forms differ in quotes, case and spacing; nothing else is forgiven.
    return " ".join(_QUOTES.sub('"', name).casefold().split())


def _same_name(given: str, known: str) -> bool:
    return _normal_name(given) == _normal_name(known)


def _activity_licence_unreliable(app: LicenceApplication, check: ActivityLicenceCheck) -> list[str]:
    ref, record = app.activity_licence, check.record
    if record is None:
        if ref is not None:
            return [f"activity licence {ref.number} is not in the register"]
        if check.required:
            return [f"the goods need an activity licence ({check.required_activity}); none given"]
        return []
    reasons = []
    if record.holder != app.applicant.identifier:
        reasons.append(f"activity licence {record.number} belongs to {record.holder}")
    if check.required and record.activity != check.required_activity:
        reasons.append(
            f"activity licence {record.number} covers «{record.activity}», "
            f"the goods need «{check.required_activity}»"
        )
    return reasons


# --- R2: EAEU licensing rules paras 10–12 (parametrised) ------------------------------------


def r2_eaeu_rules(app: LicenceApplication, facts: Facts) -> Ground | None:
    """Every configured EAEU-rule predicate; their content is external to order 51-НҚ."""
    reasons = [r for predicate in EAEU_PREDICATES if (r := predicate(app, facts)) is not None]
    return _ground(GroundCode.R2, reasons)


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
    period = _period(app)
    if not facts.eaeu_rules.start_not_before_registration or period is None:
        return None
    if period[0] < facts.registered_on:
        return f"validity starts {period[0]}, before registration on {facts.registered_on}"
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


# --- R3 … R7 --------------------------------------------------------------------------------


def r3_basis_document_suspended(app: LicenceApplication, facts: Facts) -> Ground | None:
    """The activity licence serving as a basis is suspended or terminated."""
    record = facts.activity_licence.record
    if record is None or record.status is ActivityLicenceStatus.VALID:
        return None
    reason = f"activity licence {record.number} is {record.status.value} since {record.status_date}"
    return Ground.of(GroundCode.R3, reason)


def r4_international_obligations(app: LicenceApplication, facts: Facts) -> Ground | None:
    reasons = [
        f"{o.id}: {o.title} (goods {app.goods.commodity_code}, countries {', '.join(hit)})"
        for o in facts.obligations
        if (hit := _obligation_hit(app, o))
    ]
    return _ground(GroundCode.R4, reasons)


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


def r6_fee_not_paid(app: LicenceApplication, facts: Facts) -> Ground | None:
    """No CONFIRMED licence-fee payment by the applicant, that year, of at least 10 MRP."""
    year, due = facts.registered_on.year, facts.mrp * LICENCE_FEE_MRP
    mine = [
        p
        for p in facts.payments
        if p.payer == app.applicant.identifier
        and p.purpose == LICENCE_FEE_PURPOSE
        and p.year == year
    ]
    if any(p.status is PaymentStatus.CONFIRMED and p.amount >= due for p in mine):
        return None
    seen = ", ".join(f"{p.reference or '?'} {p.amount} {p.status.value}" for p in mine)
    detail = f"payments seen: {seen}" if seen else "no payment found"
    return Ground.of(
        GroundCode.R6,
        f"no confirmed licence fee of {due} tenge ({LICENCE_FEE_MRP} MRP of {year}) "
        f"paid by {app.applicant.identifier}; {detail}",
    )


def r7_no_consent(app: LicenceApplication, facts: Facts) -> Ground | None:
    consent = app.consent
    if consent is None or not consent.given:
        return Ground.of(GroundCode.R7, "the consent to the use of personal data is not given")
    if consent.date is None or consent.signer is None:
        return Ground.of(GroundCode.R7, "the consent line is not dated and signed")
    return None


RULES: tuple[Rule, ...] = (
    r1_incomplete_or_unreliable,
    r2_eaeu_rules,
    r3_basis_document_suspended,
    r4_international_obligations,
    r5_quota,
    r6_fee_not_paid,
    r7_no_consent,
)


# --- permits --------------------------------------------------------------------------------


def check_permit_draft(draft: PermitDraft) -> tuple[str, ...]:
    """Structural problems of a draft permit; empty means the permit is issued.

    The permit rules define no refusal grounds (digest §6.B): these problems make the *message*
    invalid (rejected like a schema violation), they are not a decision on the permit.
    """
    missing = draft.missing_fields()
    problems = [f"missing: {', '.join(missing)}"] if missing else []
    return tuple(problems + _inverted_period(draft))
