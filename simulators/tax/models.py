"""Domain model of the KGD simulator: the MRP of a year and a taxpayer's tax-debt record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from simulators.kit.identifiers import explain_invalid


def _checked_identifier(value: str) -> str:
    reason = explain_invalid(value)
    if reason is not None:
        raise ValueError(reason)
    return value


# A model that cannot hold a bad BIN/IIN means the fixtures cannot silently drift into invalid data.
Identifier = Annotated[str, AfterValidator(_checked_identifier)]
NonEmpty = Annotated[str, Field(min_length=1)]
Currency = Literal["KZT"]


class _Frozen(BaseModel):
    # Registry data is read-only in this simulator; freezing makes accidental edits fail loudly.
    model_config = ConfigDict(frozen=True, extra="forbid")


class MrpRate(_Frozen):
    """The monthly calculation index of one year, in whole tenge (the budget law sets no tiyn)."""

    year: Annotated[int, Field(ge=1000, le=9999)]
    amount: Annotated[int, Field(gt=0)]
    currency: Currency = "KZT"
    basis: NonEmpty  # the law that set it


class MrpFile(_Frozen):
    """The shape of ``fixtures/mrp.json`` (and of any file KZGATE_KGD_MRP_FILE names)."""

    note: str = ""
    currency: Currency = "KZT"
    rates: list[MrpRate]


class TaxDebt(_Frozen):
    """A taxpayer's total tax debt (arrears, penalties and fines) as of a date."""

    taxpayer_id: Identifier  # BIN of a legal entity or IIN of an individual
    taxpayer_name: NonEmpty
    amount: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
    currency: Currency = "KZT"
    as_of: date

    @property
    def has_debt(self) -> bool:
        return self.amount > 0


# The two questions KGD answers, as read from a request (values trimmed, not yet validated: a
# malformed year or BIN/IIN is a business answer).
@dataclass(frozen=True)
class MrpQuery:
    year: str


@dataclass(frozen=True)
class TaxDebtQuery:
    taxpayer_id: str


Query = MrpQuery | TaxDebtQuery
