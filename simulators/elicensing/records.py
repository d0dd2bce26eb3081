"""E-licensing's own registers, read from ``fixtures/``: what it knows without asking anyone.

- activity licences (the licence to carry out a licensed activity, licence rules para 4 item 3)
  and which goods need one;
- quota-restricted goods with the quantity allocated and remaining per year (ground R5);
- international obligations of the member states as country × goods restrictions (ground R4);
- contracts and other documents of intent known to be terminated or suspended (ground R3);
- goods under automatic licensing (surveillance), the only goods a permit is issued for;
- the parameters of the EAEU-rule checks (ground R2; the content of EAEU Rules paras 10–12 is
  external to order 51-НҚ, so it is configuration, not code).

The look-ups turn these registers into the facts ``rules.decide`` reads.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulators.elicensing.forms import (
    AttachmentKind,
    Identifier,
    LicenceApplication,
    PermitDraft,
    TradeType,
)

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
CodePrefix = Annotated[str, Field(pattern=r"^[0-9]{2,10}$")]
Quantity = Annotated[Decimal, Field(ge=0)]


class _Record(BaseModel):
    # Registers are read-only here; a typo in a fixture key must fail loudly, not be ignored.
    model_config = ConfigDict(frozen=True, extra="forbid")


class ActivityLicenceStatus(StrEnum):
    VALID = "VALID"
    SUSPENDED = "SUSPENDED"
    TERMINATED = "TERMINATED"


class ActivityLicence(_Record):
    number: str
    holder: Identifier
    activity: str
    status: ActivityLicenceStatus
    issued_on: dt.date
    status_date: dt.date


class BasisDocumentStatus(StrEnum):
    SUSPENDED = "SUSPENDED"
    TERMINATED = "TERMINATED"


class BasisDocument(_Record):
    """A contract (or other document of intent) known to have stopped: ground R3 [LR p.7(3)]."""

    holder: Identifier
    kind: AttachmentKind
    number: str | None = None
    date: dt.date | None = None
    digest: str | None = None  # SHA-256 of the copy, when the register knows the very file
    status: BasisDocumentStatus
    status_date: dt.date
    reason: str

    def is_the_one_of(self, form: LicenceApplication) -> bool:
        """Whether ``form``'s field 4 or attached copy is this document."""
        if form.applicant.identifier != self.holder:
            return False
        copy, contract = form.contract_copy, form.contract
        if self.digest is not None and copy is not None and copy.digest == self.digest:
            return True
        return (
            contract is not None
            and self.number is not None
            and (contract.number, contract.date) == (self.number, self.date)
        )


class SurveillanceGoods(_Record):
    """Goods under automatic licensing (surveillance) in one direction: a permit is issued for
    them, and only for them [seed 002, PR p.2(4)]."""

    code_prefix: CodePrefix
    type: TradeType
    title: str


class LicensedGoods(_Record):
    """Goods whose circulation needs an activity licence (EAEU licensing of the activity)."""

    code_prefix: CodePrefix
    activity: str


class QuotaKind(StrEnum):
    QUOTA = "QUOTA"
    TARIFF_QUOTA = "TARIFF_QUOTA"


class QuotaAllocation(_Record):
    year: int
    allocated: Quantity
    remaining: Quantity

    @model_validator(mode="after")
    def _remaining_within_allocated(self) -> QuotaAllocation:
        if self.remaining > self.allocated:
            raise ValueError("remaining exceeds allocated")
        return self


class Quota(_Record):
    """A quota-restricted goods group for one direction, with its allocation per year."""

    code_prefix: CodePrefix
    type: TradeType
    kind: QuotaKind
    title: str
    unit: str
    allocations: tuple[QuotaAllocation, ...] = ()

    def allocation(self, year: int) -> QuotaAllocation | None:
        return next((a for a in self.allocations if a.year == year), None)


class InternationalObligation(_Record):
    """A restriction from the member states' international obligations (e.g. a UN embargo)."""

    id: str
    title: str
    countries: tuple[Annotated[str, Field(pattern=r"^[A-Z]{2}$")], ...]
    code_prefixes: tuple[CodePrefix, ...]
    types: tuple[TradeType, ...] = (TradeType.EXPORT, TradeType.IMPORT)


class EaeuRules(_Record):
    """Parameters of the R2 predicates (modelled on EAEU licensing Rules paras 10–12)."""

    max_validity_months: int = Field(default=12, ge=1)
    start_not_before_registration: bool = True
    quota_goods_within_calendar_year: bool = True
    codes_requiring_basis: tuple[CodePrefix, ...] = ()


@dataclass(frozen=True)
class ActivityLicenceCheck:
    """Whether the goods need an activity licence, and the licence found for the application."""

    required: bool
    required_activity: str | None = None
    record: ActivityLicence | None = None


@dataclass(frozen=True)
class QuotaCheck:
    """Whether the goods are quota-restricted; ``remaining`` None means nothing allocated.

    ``key`` names the allocation (direction, goods, year) that an issued licence draws from.
    """

    restricted: bool
    kind: QuotaKind | None = None
    remaining: Decimal | None = None
    unit: str | None = None
    key: str | None = None


NOT_RESTRICTED = QuotaCheck(restricted=False)
NO_ACTIVITY_LICENCE_NEEDED = ActivityLicenceCheck(required=False)
_Prefixed = TypeVar("_Prefixed", LicensedGoods, Quota, SurveillanceGoods)


class Records(_Record):
    activity_licences: tuple[ActivityLicence, ...] = ()
    licensed_goods: tuple[LicensedGoods, ...] = ()
    quotas: tuple[Quota, ...] = ()
    obligations: tuple[InternationalObligation, ...] = ()
    eaeu_rules: EaeuRules = EaeuRules()
    basis_documents: tuple[BasisDocument, ...] = ()
    surveillance_goods: tuple[SurveillanceGoods, ...] = ()

    def under_surveillance(self, form: PermitDraft) -> SurveillanceGoods | None:
        """The surveillance entry covering the draft's goods and direction, if any."""
        code = form.goods.commodity_code
        if code is None:
            return None
        entries = [g for g in self.surveillance_goods if g.type == form.type]
        return _longest_prefix(entries, code)

    def stopped_basis_document(self, form: LicenceApplication) -> BasisDocument | None:
        """The application's contract / document of intent if it is terminated or suspended."""
        return next((d for d in self.basis_documents if d.is_the_one_of(form)), None)

    def activity_licence(self, number: str) -> ActivityLicence | None:
        return next((lic for lic in self.activity_licences if lic.number == number), None)

    def activity_for(self, commodity_code: str | None) -> str | None:
        """The licensed activity the goods need, or None when they need none."""
        if commodity_code is None:
            return None
        found = _longest_prefix(self.licensed_goods, commodity_code)
        return None if found is None else found.activity

    def check_activity_licence(self, form: LicenceApplication) -> ActivityLicenceCheck:
        """The register's answer: by the number the applicant gave, else by holder + activity."""
        activity = self.activity_for(form.goods.commodity_code)
        if form.activity_licence is not None:
            record = self.activity_licence(form.activity_licence.number)
        else:
            record = self._held(form.applicant.identifier, activity)
        return ActivityLicenceCheck(activity is not None, activity, record)

    def _held(self, holder: str, activity: str | None) -> ActivityLicence | None:
        if activity is None:
            return None
        held = [
            lic
            for lic in self.activity_licences
            if lic.holder == holder and lic.activity == activity
        ]
        # Prefer a valid one: a holder may keep an old terminated licence beside a new one.
        held.sort(key=lambda lic: lic.status is not ActivityLicenceStatus.VALID)
        return held[0] if held else None

    def check_quota(self, form: LicenceApplication | PermitDraft, year: int) -> QuotaCheck:
        code = form.goods.commodity_code
        candidates = [q for q in self.quotas if q.type == form.type]
        quota = None if code is None else _longest_prefix(candidates, code)
        if quota is None:
            return NOT_RESTRICTED
        allocation = quota.allocation(year)
        remaining = None if allocation is None else allocation.remaining
        key = quota_key(quota.type, quota.code_prefix, year)
        return QuotaCheck(True, quota.kind, remaining, quota.unit, key)


def quota_key(trade_type: TradeType, code_prefix: str, year: int) -> str:
    """The name of one quota allocation: direction, goods and year (``EXPORT-1001-2026``)."""
    return f"{trade_type.value}-{code_prefix}-{year}"


def _longest_prefix(entries: Sequence[_Prefixed], code: str) -> _Prefixed | None:
    matching = [e for e in entries if code.startswith(e.code_prefix)]
    return max(matching, key=lambda e: len(e.code_prefix), default=None)


def load_records(directory: Path = FIXTURES_DIR) -> Records:
    """Read the register files of ``directory`` into one validated ``Records``."""
    activity = _read(directory / "activity_licences.json")
    return Records(
        activity_licences=activity["licences"],
        licensed_goods=activity["licensed_goods"],
        quotas=_read(directory / "quotas.json")["quotas"],
        obligations=_read(directory / "international_obligations.json")["obligations"],
        eaeu_rules=_read(directory / "eaeu_rules.json"),
        basis_documents=_read(directory / "basis_documents.json")["documents"],
        surveillance_goods=_read(directory / "surveillance_goods.json")["goods"],
    )


@cache
def default_records() -> Records:
    """The packaged fixtures, loaded once."""
    return load_records()


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
