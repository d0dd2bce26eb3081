"""Paperless export declarations in KEDEN (F6): the declaration, its statuses and its terms.

The behavioural model is Annex 5 of MoF order No. 292 (seed 004, «Экспорт кедендік рәсімінде
тауарларды қағазсыз кедендік декларациялауды жүзеге асыру» — paperless customs declaration under
the export procedure). That order was **repealed** («Күшін жойған», MoF order No. 348 of
4 June 2015, seed 004 L5): it is used here as a model of the behaviour, not as live law. It covers
the **export** procedure only (title, L29) and names no green/yellow/red corridors: the risk
management system (ТБЖ, тәуекелдерді басқару жүйесі) assigns *forms of customs control*, may
order an examination or demand paper originals (para 10, process 9, L1154-1172).

Everything here is pure: the store, the worker and the SOAP services use these values. The rules
of forming a declaration are in ``formation``, the risk system in ``risk``. A refusal ``Reason``
carries the remedy the declarant needs (para 8(3), L1080-1088: "reasons … and instructions for
eliminating them").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from simulators.customs.models import RecordStatus, TradeCountryRole, TradeType
from simulators.kit.calendar import WorkingHours

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
    RISK_CHECK «тәуекелдерді басқару жүйесінің тексеруі» (para 8, L1090-1091), RELEASE_PERMITTED
    «тауарларды шығаруға рұқсат берілді», RELEASE_REFUSED «тауарларды шығарудан бас тарту» (para
    8(3), L1081 and L1085, the two the text quotes as statuses in full; its list shortens the
    first to «шығаруға рұқсат берілді»). ``kk`` is the label the declarant reads. A formation
    refusal (process 5) is answered at once and never becomes a declaration, so it has no status.
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

    @property
    def kk(self) -> str:
        return _KK[self]


_KK = {
    DeclarationStatus.SUBMITTED: "берілді",
    DeclarationStatus.REGISTERED: "тіркелді",
    DeclarationStatus.REGISTRATION_REFUSED: "тіркеуден бас тартылды",
    DeclarationStatus.RISK_CHECK: "тәуекелдерді басқару жүйесінің тексеруі",
    DeclarationStatus.RELEASE_PERMITTED: "тауарларды шығаруға рұқсат берілді",
    DeclarationStatus.RELEASE_REFUSED: "тауарларды шығарудан бас тарту",
}

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


@dataclass(frozen=True)
class ControlResult:
    """The officer's result of an examination or of comparing paper originals (process 9,
    L1167-1172: "the results of the risk prevention and minimization measures")."""

    officer: str
    violations: bool
    finding: str
    recorded_at: datetime
    forms: tuple[ControlForm, ...] = field(default=())
