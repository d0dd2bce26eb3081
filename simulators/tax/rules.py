"""KGD's decisions: the answer for a requested year (MRP) and for a BIN/IIN (tax debt)."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from simulators.kit.answers import Answer
from simulators.kit.identifiers import explain_invalid
from simulators.tax.models import MrpRate, TaxDebt


class MrpResultCode(StrEnum):
    FOUND = "FOUND"
    NOT_FOUND = "NOT_FOUND"  # no budget law has set the MRP of that year (yet)
    INVALID_YEAR = "INVALID_YEAR"


class TaxDebtResultCode(StrEnum):
    FOUND = "FOUND"
    NOT_FOUND = "NOT_FOUND"  # not a registered taxpayer
    INVALID_ID = "INVALID_ID"


class MrpFinder(Protocol):
    def find(self, year: int) -> MrpRate | None: ...


class TaxDebtFinder(Protocol):
    def find(self, taxpayer_id: str) -> TaxDebt | None: ...


class MrpResult(Answer):
    code: MrpResultCode
    year: str
    rate: MrpRate | None = None


class TaxDebtResult(Answer):
    code: TaxDebtResultCode
    taxpayer_id: str
    debt: TaxDebt | None = None


def mrp_of(year: str, table: MrpFinder) -> MrpResult:
    """Answer the MRP of ``year`` (as received: text, so a malformed one is a business answer)."""
    if len(year) != 4 or not (year.isascii() and year.isdigit()) or int(year) == 0:
        return MrpResult(
            code=MrpResultCode.INVALID_YEAR, message=f"Invalid year {year[:16]!r}", year=year
        )
    rate = table.find(int(year))
    if rate is None:
        return MrpResult(
            code=MrpResultCode.NOT_FOUND, message=f"No MRP is set for {year}", year=year
        )
    return MrpResult(
        code=MrpResultCode.FOUND,
        message=f"MRP {year}: {rate.amount} {rate.currency}",
        year=year,
        rate=rate,
    )


def tax_debt_of(taxpayer_id: str, store: TaxDebtFinder) -> TaxDebtResult:
    """Answer the tax debt of a BIN/IIN: validate the number, then search the records."""
    reason = explain_invalid(taxpayer_id)
    if reason is not None:
        return TaxDebtResult(
            code=TaxDebtResultCode.INVALID_ID,
            message=f"Invalid BIN/IIN: {reason}",
            taxpayer_id=taxpayer_id,
        )
    debt = store.find(taxpayer_id)
    if debt is None:
        return TaxDebtResult(
            code=TaxDebtResultCode.NOT_FOUND,
            message=f"No taxpayer with BIN/IIN {taxpayer_id}",
            taxpayer_id=taxpayer_id,
        )
    # No debt is still FOUND: "registered, owes nothing" is the answer the asker needs.
    summary = f"debt {debt.amount} {debt.currency}" if debt.has_debt else "no tax debt"
    return TaxDebtResult(
        code=TaxDebtResultCode.FOUND,
        message=f"Taxpayer found, {summary} as of {debt.as_of.isoformat()}",
        taxpayer_id=taxpayer_id,
        debt=debt,
    )
