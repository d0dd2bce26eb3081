"""Paperless export declarations in KEDEN (F6): the declaration, its statuses and the rules.

The behavioural model is Annex 5 of MoF order No. 292 (seed 004, «Экспорт кедендік рәсімінде
тауарларды қағазсыз кедендік декларациялауды жүзеге асыру» — paperless customs declaration under
the export procedure). That order was **repealed** («Күшін жойған», MoF order No. 348 of
4 June 2015, seed 004 L5): it is used here as a model of the behaviour, not as live law. It covers
the **export** procedure only (title, L29) and names no green/yellow/red corridors: the risk
management system (ТБЖ, тәуекелдерді басқару жүйесі) assigns *forms of customs control*, may
order an examination or demand paper originals (para 10, process 9, L1154-1172).

Everything here is pure: the store, the worker and the SOAP services use these rules. The refusal
reasons carry the remedy the declarant needs (para 8(3), L1080-1088: "reasons … and instructions
for eliminating them").
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from simulators.customs.models import CustomsRecord, RecordStatus, TradeCountryRole, TradeType
from simulators.kit.calendar import WorkingCalendar, WorkingHours

# Seed 004 Annex 5 names no working hours for customs (its Standard para 4 is not in the text).
# UNCERTAIN: the ordinary hours of a state body (09:00-18:00, lunch 13:00-14:00, as seed 002's
# Trade Committee) are assumed; a KEDEN built with another calendar uses that one.
CUSTOMS_HOURS = WorkingHours(time(9), time(18), time(13), time(14))
REGISTRATION_TERM = timedelta(hours=2)  # para 5(1) L1034-1035 and para 8(1) L1070-1072
# The release term is "Standard para 4", not in the text (L1036-1040). [EXT, verify] EAEU
# Customs Code art. 119(1): release within 4 hours of registration; art. 119(2) lets the term be
# extended for customs control such as an examination. Both are settings, not law read here.
RELEASE_TERM = timedelta(hours=4)
EXPORTING_COUNTRY = "KZ"  # the export procedure of a Kazakh customs authority
EXAMINATION_EXTRA_DAYS = 2  # [design] working days added when the risk system orders a check


class DeclarationStatus(StrEnum):
    """The statuses of para 8 (L1088-1093) and para 8(3) (L1085), shown online to the declarant.

    SUBMITTED «берілді», REGISTERED «тіркелді», REGISTRATION_REFUSED «тіркеуден бас тартылды»,
    RISK_CHECK «тәуекелдерді басқару жүйесінің тексеруі», RELEASE_PERMITTED «шығаруға рұқсат
    берілді», RELEASE_REFUSED «тауарларды шығарудан бас тарту». A formation refusal (process 5)
    is answered at once and never becomes a declaration, so it has no status.
    """

    SUBMITTED = "SUBMITTED"
    REGISTERED = "REGISTERED"
    REGISTRATION_REFUSED = "REGISTRATION_REFUSED"
    RISK_CHECK = "RISK_CHECK"
    RELEASE_PERMITTED = "RELEASE_PERMITTED"
    RELEASE_REFUSED = "RELEASE_REFUSED"

    @property
    def final(self) -> bool:
        return self in _FINAL


_FINAL = {
    DeclarationStatus.REGISTRATION_REFUSED,
    DeclarationStatus.RELEASE_PERMITTED,
    DeclarationStatus.RELEASE_REFUSED,
}


class ControlForm(StrEnum):
    """Forms of customs control the risk system assigns (para 10 process 9, L1154-1172).

    DOCUMENTARY_CHECK: the electronic documents only (done by the machine); EXAMINATION «тауарлардың
    кедендік сараптамасы» and PAPER_ORIGINALS (comparison with originals on paper, L1163-1166)
    need a customs officer's result before release.
    """

    DOCUMENTARY_CHECK = "DOCUMENTARY_CHECK"
    EXAMINATION = "EXAMINATION"
    PAPER_ORIGINALS = "PAPER_ORIGINALS"

    @property
    def needs_officer(self) -> bool:
        return self is not ControlForm.DOCUMENTARY_CHECK


class PaymentMethod(StrEnum):
    PERSONAL_ACCOUNT = "PERSONAL_ACCOUNT"
    CUSTOMS_POS_TERMINAL = "CUSTOMS_POS_TERMINAL"  # para 1(1), L994-998
    CUSTOMS_CASH_DESK = "CUSTOMS_CASH_DESK"  # para 1(2), L999-1002


@dataclass(frozen=True)
class Reason:
    """Why KEDEN refuses, and what removes the reason (para 8(3), L1083-1088)."""

    code: str
    text: str
    remedy: str
    item: int | None = None  # 1-based goods item
    permit_number: str | None = None


@dataclass(frozen=True)
class DeclarationItem:
    """One goods item: 10-digit ТН ВЭД / СЭҚ БТН code, quantity, value, origin, destination."""

    code: str
    description: str
    quantity: Decimal
    unit: str
    value: Decimal
    currency: str
    origin_country: str
    destination_country: str
    permit_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportDeclaration:
    """An electronic goods declaration «тауарларға арналған декларация (ЭҚ)» as the declarant
    forms it in the information system (para 4, L1028-1031)."""

    filing_reference: str
    procedure: str
    declarant_id: str
    declarant_name: str
    payment_method: PaymentMethod
    items: tuple[DeclarationItem, ...]
    representative: str | None = None
    carrier: str | None = None
    duty_benefit_claimed: bool = False
    tariff_preference_claimed: bool = False

    def permit_quantities(self) -> dict[str, Decimal]:
        """What the declaration would write off each document it cites, summed over items."""
        wanted: dict[str, Decimal] = defaultdict(Decimal)
        for item in self.items:
            for number in item.permit_numbers:
                wanted[number] += item.quantity
        return dict(wanted)


@dataclass(frozen=True)
class PermitDocument:
    """A licence or permit as E-licensing answers KEDEN's query (para 10 process 4, L1125-1131):
    holder, codes, country, validity, status and remaining quantity [design: the fields]."""

    number: str
    kind: str
    trade_type: TradeType
    holder_id: str
    codes: tuple[str, ...]
    trade_country: str
    valid_from: date
    valid_to: date
    status: RecordStatus
    quantity: Decimal
    remaining_quantity: Decimal
    unit: str
    trade_country_role: TradeCountryRole = TradeCountryRole.DESTINATION

    def allows_destination(self, country: str) -> bool:
        """Field 7 names the destination on licences, the dispatch country on issued permits
        (seed 002 forms): a destination is checked against the first; an export permit's
        dispatch country must be Kazakhstan, where the goods leave from [design]."""
        if self.trade_country_role is TradeCountryRole.DESTINATION:
            return self.trade_country == country
        return self.trade_country == EXPORTING_COUNTRY


@dataclass(frozen=True)
class Declarant:
    """What GBDUL (legal entity) or GBDFL (individual) says of the declarant (process 4)."""

    found: bool
    active: bool = False
    status: str = ""


# --- formation (para 1 exclusions, para 10 process 4-5 / condition 2) ------------------------


@dataclass(frozen=True)
class PermitGoods:
    """Goods under non-tariff measures: a declaration of them needs a permit document.

    Prefixes of the commodity code (a 4-digit heading covers every code under it). KEDEN knows
    the list from the measures in force [design: the list is a fixture, not a legal text].
    """

    prefixes: tuple[str, ...]

    def needs_permit(self, code: str) -> bool:
        return any(code.startswith(p) for p in self.prefixes)


def exclusions(declaration: ExportDeclaration) -> list[Reason]:
    """The cases in which the paperless export form does not apply (title L29; para 1 L993-1008)."""
    found = []
    if declaration.procedure != "EXPORT":
        found.append(
            Reason(
                "NOT_EXPORT_PROCEDURE",
                f"the paperless form covers the export customs procedure only, "
                f"not {declaration.procedure} (Annex 5 title and para 1)",
                "Declare goods under other procedures on the general (non-paperless) form.",
            )
        )
    if declaration.payment_method is PaymentMethod.CUSTOMS_POS_TERMINAL:
        found.append(
            Reason(
                "PAYMENT_AT_CUSTOMS_TERMINAL",
                "customs payments through a POS terminal in a customs building exclude the "
                "paperless form (Annex 5 para 1(1))",
                "Pay customs payments from the personal account, or declare on paper.",
            )
        )
    if declaration.payment_method is PaymentMethod.CUSTOMS_CASH_DESK:
        found.append(
            Reason(
                "PAYMENT_AT_CUSTOMS_CASH_DESK",
                "customs payments at a bank cash desk in a customs building exclude the "
                "paperless form (Annex 5 para 1(2))",
                "Pay customs payments from the personal account, or declare on paper.",
            )
        )
    if declaration.duty_benefit_claimed or declaration.tariff_preference_claimed:
        found.append(
            Reason(
                "DUTY_BENEFIT_OR_PREFERENCE",
                "goods claiming customs-payment benefits or tariff preferences are outside the "
                "paperless form (Annex 5 para 1(4))",
                "Declare goods with benefits or preferences on the general form.",
            )
        )
    return found


def identification(declarant: Declarant, declarant_id: str) -> list[Reason]:
    """Condition 2 (L1132-1136): the declarant's data exists and is valid in GBDUL/GBDFL."""
    if not declarant.found:
        return [
            Reason(
                "DECLARANT_NOT_FOUND",
                f"{declarant_id} is in neither the legal-entities nor the individuals database "
                "(Annex 5 para 10, process 4 and condition 2)",
                "Check the BIN/IIN, or register the entity before declaring.",
            )
        ]
    if not declarant.active:
        return [
            Reason(
                "DECLARANT_NOT_ACTIVE",
                f"{declarant_id} is {declarant.status or 'not active'} in the state database "
                "(Annex 5 para 10, condition 2)",
                "Only an active declarant may declare; resolve the registry status first.",
            )
        ]
    return []


def permit_check(
    declaration: ExportDeclaration,
    documents: Sequence[PermitDocument],
    goods: PermitGoods,
    today: date,
    reserved: Mapping[str, Decimal] | None = None,
) -> list[Reason]:
    """The goods against the permit documents E-licensing holds (para 1(3) L1002-1005, para 10
    process 4-5 L1122-1136): every item under a measure cites a document that exists, is the
    declarant's, covers the code, the destination and today, is VALID, and — summed over the
    declaration's items and the declarations already registered against it (``reserved``) —
    has that much quantity left [design: holder/code/country/dates/quantity matching].
    """
    by_number = {d.number: d for d in documents}
    reserved = reserved or {}
    wanted: dict[str, Decimal] = defaultdict(Decimal)
    reasons: list[Reason] = []
    for index, item in enumerate(declaration.items, start=1):
        if not item.permit_numbers:
            if goods.needs_permit(item.code) or _covers_any(documents, item.code):
                reasons.append(_no_permit(item, index))
            continue
        for number in item.permit_numbers:
            document = by_number.get(number)
            problem = _mismatch(declaration, item, index, number, document, today)
            if problem is not None:
                reasons.append(problem)
                continue
            wanted[number] += item.quantity
    for number, quantity in wanted.items():
        document = by_number[number]
        left = document.remaining_quantity - reserved.get(number, Decimal(0))
        if quantity > left:
            reasons.append(
                Reason(
                    "PERMIT_QUANTITY_EXCEEDED",
                    f"{number} has {left} {document.unit} left"
                    + (
                        f" ({reserved[number]} held by declarations in work)"
                        if number in reserved
                        else ""
                    )
                    + f"; the declaration asks for {quantity}",
                    "Declare at most the remaining quantity, or obtain a new licence/permit "
                    "for the rest.",
                    permit_number=number,
                )
            )
    return reasons


def _covers_any(documents: Iterable[PermitDocument], code: str) -> bool:
    # E-licensing holds a document of this declarant for these goods: the goods are under a
    # measure even if KEDEN's list missed them, so the declaration must rely on it.
    return any(code in d.codes for d in documents)


def _no_permit(item: DeclarationItem, index: int) -> Reason:
    return Reason(
        "PERMIT_ABSENT",
        f"goods {item.code} are under non-tariff measures and the item cites no permit document "
        "held in the E-licensing database (Annex 5 para 1(3) and para 10, process 5)",
        "Obtain the licence/permit through E-licensing and cite its number on the item.",
        item=index,
    )


def _mismatch(
    declaration: ExportDeclaration,
    item: DeclarationItem,
    index: int,
    number: str,
    document: PermitDocument | None,
    today: date,
) -> Reason | None:
    if document is None:
        return Reason(
            "PERMIT_NOT_IN_DATABASE",
            f"{number} is not in the E-licensing database for declarant "
            f"{declaration.declarant_id} (Annex 5 para 1(3), para 10 condition 2)",
            "Cite a licence/permit issued to the declarant through E-licensing.",
            item=index,
            permit_number=number,
        )
    checks = (
        (
            document.holder_id != declaration.declarant_id,
            "PERMIT_HOLDER_MISMATCH",
            f"{number} is held by {document.holder_id}, not the declarant",
            "Only the holder may declare against its licence/permit.",
        ),
        (
            document.trade_type is not TradeType.EXPORT,
            "PERMIT_NOT_FOR_EXPORT",
            f"{number} is an {document.trade_type.value.lower()} document",
            "Cite an export licence/permit.",
        ),
        (
            item.code not in document.codes,
            "PERMIT_CODE_MISMATCH",
            f"{number} covers {', '.join(document.codes)}, not {item.code}",
            "Declare the goods under the code the licence/permit names, or obtain one for it.",
        ),
        (
            not document.allows_destination(item.destination_country),
            "PERMIT_COUNTRY_MISMATCH",
            f"{number} names {document.trade_country} "
            f"({document.trade_country_role.value.lower()}), the item goes to "
            f"{item.destination_country}",
            "Declare the destination the licence/permit names.",
        ),
        (
            document.unit != item.unit,
            "PERMIT_UNIT_MISMATCH",
            f"{number} counts in {document.unit}, the item in {item.unit}",
            "Declare the quantity in the licence/permit's unit.",
        ),
        (
            document.status is not RecordStatus.VALID,
            "PERMIT_NOT_VALID",
            f"{number} is {document.status.value}",
            "A terminated, expired or exhausted document cannot cover goods; obtain a new one.",
        ),
        (
            not document.valid_from <= today <= document.valid_to,
            "PERMIT_NOT_VALID",
            f"{number} is valid {document.valid_from}..{document.valid_to}, not on {today}",
            "Declare within the licence/permit's validity.",
        ),
    )
    for failed, code, text, remedy in checks:
        if failed:
            return Reason(code, text, remedy, item=index, permit_number=number)
    return None


def record_problem(
    number: str,
    quantity: Decimal,
    record: CustomsRecord | None,
    now: datetime,
    held: Decimal = Decimal(0),
) -> Reason | None:
    """The document against KEDEN's own customs record (F6 item 10: one model of status for
    F1 licences, F2 permits and — later — F3 permits): it must be there, VALID at ``now`` (not
    terminated «тоқтатылды», expired or exhausted) and have ``quantity`` left beyond what other
    declarations in work ``held`` [design]."""
    if record is None:
        return Reason(
            "PERMIT_NOT_IN_RECORDS",
            f"{number} has no customs record in KEDEN",
            "Wait until E-licensing has registered the document with customs, then declare.",
            permit_number=number,
        )
    status = record.status_on(now)
    if status is not RecordStatus.VALID:
        why = f" ({record.status_reason})" if record.status_reason else ""
        return Reason(
            "PERMIT_NOT_VALID",
            f"{number} is {status.value} in KEDEN's records{why}",
            "A terminated, expired or exhausted document cannot cover goods; obtain a new one.",
            permit_number=number,
        )
    left = record.remaining_quantity - held
    if quantity > left:
        return Reason(
            "PERMIT_QUANTITY_EXCEEDED",
            f"{number} has {left} {record.content.unit} left in KEDEN's records"
            + (f" ({held} held by declarations in work)" if held else "")
            + f"; the declaration asks for {quantity}",
            "Declare at most the remaining quantity, or obtain a new licence/permit for the rest.",
            permit_number=number,
        )
    return None


# --- deadlines on the calendar ----------------------------------------------------------------


def add_working_time(calendar: WorkingCalendar, start: datetime, span: timedelta) -> datetime:
    """The moment ``span`` of working time after ``start`` (off-hours do not count).

    A filing at 17:50 on the last working day before a holiday, with a 2-hour term and an 18:00
    close, has 10 minutes that day and the remaining 1 h 50 min from the next working opening.
    """
    left = span
    moment = calendar.registration_moment(start)
    day = moment.date()
    while True:
        for begin, end in calendar.periods_on(day):
            if end <= moment:
                continue
            begin = max(begin, moment)
            if end - begin >= left:
                return begin + left
            left -= end - begin
        day = calendar.next_working_day(day)


# --- risk management (para 8(2), process 9) ---------------------------------------------------


@dataclass(frozen=True)
class RiskRule:
    """A profile: goods whose code starts with ``code_prefix`` get ``form``."""

    code_prefix: str
    form: ControlForm


@dataclass(frozen=True)
class RiskProfile:
    """The risk system's settings: targeted profiles and a seeded random share per form.

    Random selection is a hash of the declaration number and ``seed``, so a rehearsal with the
    same seed assigns the same forms every time — and a tester can aim at a case.
    """

    rules: tuple[RiskRule, ...] = ()
    examination_share: float = 0.0
    paper_share: float = 0.0
    seed: int = 0

    def forms(self, number: str, codes: Iterable[str]) -> tuple[ControlForm, ...]:
        """The control forms for a declaration: always the documentary check, plus any other."""
        chosen = {ControlForm.DOCUMENTARY_CHECK}
        codes = list(codes)
        for rule in self.rules:
            if any(code.startswith(rule.code_prefix) for code in codes):
                chosen.add(rule.form)
        if _draw(number, self.seed, "examination") < self.examination_share:
            chosen.add(ControlForm.EXAMINATION)
        if _draw(number, self.seed, "paper") < self.paper_share:
            chosen.add(ControlForm.PAPER_ORIGINALS)
        return tuple(f for f in ControlForm if f in chosen)

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> RiskProfile:
        """The profile in settings JSON; a malformed one fails loudly at start-up."""
        settings = _RiskSettings.model_validate(data)
        return cls(
            rules=tuple(RiskRule(r.code_prefix, r.form) for r in settings.rules),
            examination_share=settings.examination_share,
            paper_share=settings.paper_share,
            seed=settings.seed,
        )


class _RuleSettings(BaseModel, frozen=True):
    code_prefix: str = Field(pattern=r"^[0-9]{1,10}$")
    form: ControlForm


class _RiskSettings(BaseModel, frozen=True, extra="forbid"):
    rules: tuple[_RuleSettings, ...] = ()
    examination_share: float = Field(default=0.0, ge=0, le=1)
    paper_share: float = Field(default=0.0, ge=0, le=1)
    seed: int = 0


def _draw(number: str, seed: int, purpose: str) -> float:
    digest = hashlib.sha256(f"{seed}/{purpose}/{number}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class ControlResult:
    """The officer's result of an examination or of comparing paper originals (process 9,
    L1167-1172: "the results of the risk prevention and minimization measures")."""

    officer: str
    violations: bool
    finding: str
    recorded_at: datetime
    forms: tuple[ControlForm, ...] = field(default=())
