"""The KGD simulator's data: MRP table and tax-debt records, read-only in-memory indexes.

The MRP table is configuration rather than registry data — a new budget law adds a year — so
its file can be replaced through ``KZGATE_KGD_MRP_FILE`` without touching the package.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from types import MappingProxyType

from pydantic import TypeAdapter

from simulators.kit.fixtures import load_json
from simulators.tax.models import MrpFile, MrpRate, TaxDebt

FIXTURES_DIR = Path(__file__).parent / "fixtures"
MRP_FIXTURES = FIXTURES_DIR / "mrp.json"
TAX_DEBT_FIXTURES = FIXTURES_DIR / "tax_debts.json"
MRP_FILE_ENV = "KZGATE_KGD_MRP_FILE"
_DEBTS = TypeAdapter(list[TaxDebt])
_FIXTURES_PACKAGE = f"{__package__}.fixtures"


class MrpTable:
    """MRP values indexed by year; read-only after construction."""

    def __init__(self, rates: Iterable[MrpRate]) -> None:
        index: dict[int, MrpRate] = {}
        for rate in rates:
            if rate.year in index:
                raise ValueError(f"duplicate MRP year: {rate.year}")
            index[rate.year] = rate
        self._by_year = MappingProxyType(index)

    @classmethod
    def from_json(cls, path: Path) -> MrpTable:
        return cls(MrpFile.model_validate_json(path.read_bytes()).rates)

    def find(self, year: int) -> MrpRate | None:
        return self._by_year.get(year)

    def __iter__(self) -> Iterator[MrpRate]:
        return iter(self._by_year.values())

    def __len__(self) -> int:
        return len(self._by_year)


class TaxDebtStore:
    """Tax-debt records indexed by BIN/IIN; read-only after construction."""

    def __init__(self, debts: Iterable[TaxDebt]) -> None:
        index: dict[str, TaxDebt] = {}
        for debt in debts:
            if debt.taxpayer_id in index:
                raise ValueError(f"duplicate taxpayer in tax data: {debt.taxpayer_id}")
            index[debt.taxpayer_id] = debt
        self._by_id = MappingProxyType(index)

    @classmethod
    def from_json(cls, path: Path) -> TaxDebtStore:
        return cls(_DEBTS.validate_json(path.read_bytes()))

    def find(self, taxpayer_id: str) -> TaxDebt | None:
        return self._by_id.get(taxpayer_id)

    def __iter__(self) -> Iterator[TaxDebt]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)


def default_mrp_table() -> MrpTable:
    """The file ``KZGATE_KGD_MRP_FILE`` names, else the shipped one; read on each call so a
    changed setting takes effect on the next start of the simulator."""
    configured = os.environ.get(MRP_FILE_ENV)
    return MrpTable.from_json(Path(configured)) if configured else shipped_mrp_table()


@cache
def shipped_mrp_table() -> MrpTable:
    """The shipped MRP fixture, ignoring the setting (fixture generators must be reproducible)."""
    return MrpTable(load_json(_FIXTURES_PACKAGE, MRP_FIXTURES.name, MrpFile).rates)


@cache
def default_debt_store() -> TaxDebtStore:
    """The store over the shipped fixtures, loaded once (it is immutable, so sharing is safe)."""
    return TaxDebtStore(load_json(_FIXTURES_PACKAGE, TAX_DEBT_FIXTURES.name, _DEBTS))
