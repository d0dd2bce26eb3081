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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from simulators.elicensing.forms import (
    AttachmentKind,
    FormModel,
    LicenceApplication,
    PermitDraft,
    TradeType,
)
from simulators.elicensing.records import (
    NO_ACTIVITY_LICENCE_NEEDED,
    NOT_RESTRICTED,
    ActivityLicenceCheck,
    ActivityLicenceStatus,
    BasisDocument,
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
    """ISSUE or REFUSE; an issued licence names the fee payment it consumes [LR p.3]."""

    outcome: Outcome
    grounds: tuple[Ground, ...] = ()
    fee_payment: str | None = None
    # Years of the applicant's payments whose MRP KGD does not know: an R6 refusal with any of
    # them is no decision at all (the flow raises an alarm instead of refusing).
    unknown_mrp_years: tuple[int, ...] = ()

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


Rule = Callable[[LicenceApplication, Facts], "Ground | None"]


def decide(application: LicenceApplication, facts: Facts) -> Decision:
    """ISSUE, or REFUSE naming every ground that applies (in the order R1…R7)."""
    grounds = tuple(g for rule in RULES if (g := rule(application, facts)) is not None)
    fee = fee_check(application, facts)
    if grounds:
        return Decision(Outcome.REFUSE, grounds, unknown_mrp_years=fee.unknown_mrp_years)
    assert fee.payment is not None  # R6 did not apply, so a payment counts
    return Decision(Outcome.ISSUE, fee_payment=fee.payment.payment_id)


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
    reasons += _contract_copy_unreliable(app)
    return _ground(GroundCode.R1, reasons)


def _contract_copy_unreliable(app: LicenceApplication) -> list[str]:
    """The attached copy must be what it says and what field 4 names [LR p.4(2)]."""
    copy, contract = app.contract_copy, app.contract
    if copy is None:
        return []  # named by missing_fields
    reasons = []
    if not copy.matches_digest():
        reasons.append(f"the attached copy «{copy.file_name}» does not match its digest")
    if contract is not None:
        names_contract = bool(contract.number and contract.date)
        if copy.kind is AttachmentKind.CONTRACT and not names_contract:
            reasons.append("a contract copy is attached but field 4 names no contract")
        if copy.kind is AttachmentKind.OTHER_INTENT_DOCUMENT and names_contract:
            reasons.append("field 4 names a contract but the copy is another document of intent")
    return reasons


def _inverted_period(app: LicenceApplication | PermitDraft) -> list[str]:
    if app.valid_from and app.valid_to and app.valid_to < app.valid_from:
        return [f"validity ends ({app.valid_to}) before it starts ({app.valid_from})"]
    return []


def _registry_mismatch(app: LicenceApplication | PermitDraft, answer: RegistryAnswer) -> list[str]:
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


# --- R3 … R7 --------------------------------------------------------------------------------


def r3_basis_document_suspended(app: LicenceApplication, facts: Facts) -> Ground | None:
    """A basis document — the activity licence or the contract / document of intent — is
    suspended or terminated [LR p.7(3)]."""
    reasons = []
    record = facts.activity_licence.record
    if record is not None and record.status is not ActivityLicenceStatus.VALID:
        reasons.append(
            f"activity licence {record.number} is {record.status.value} since {record.status_date}"
        )
    stopped = facts.stopped_contract
    if stopped is not None:
        what = "contract" if stopped.kind is AttachmentKind.CONTRACT else "document of intent"
        named = f"{what} No. {stopped.number} of {stopped.date}" if stopped.number else what
        reasons.append(
            f"{named} is {stopped.status.value} since {stopped.status_date} ({stopped.reason})"
        )
    return _ground(GroundCode.R3, reasons)


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


def permit_registry_obstacles(draft: PermitDraft, registry: RegistryAnswer) -> tuple[str, ...]:
    """Why the registry answer (PR p.4 ¶2) lets no permit be issued; empty: issue it.

    The same reading as R1's registry part for licences: unknown, not operating (liquidated,
    suspended, an entrepreneur not trading) or another name. There is no refusal for permits, so
    the flow closes such a draft as "not issued" with these reasons (DESIGN.md "Permits").
    """
    return tuple(_registry_mismatch(draft, registry))


def check_permit_draft(draft: PermitDraft) -> tuple[str, ...]:
    """Structural problems of a draft permit; empty means the permit is issued.

    The permit rules define no refusal grounds (digest §6.B): these problems make the *message*
    invalid (rejected like a schema violation), they are not a decision on the permit.
    """
    missing = draft.missing_fields()
    problems = [f"missing: {', '.join(missing)}"] if missing else []
    return tuple(problems + _inverted_period(draft))
