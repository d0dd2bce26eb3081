"""KGD's SyncChannel endpoint: the MRP of a year and tax-debt information, as a SHEP provider."""

from __future__ import annotations

from pathlib import Path

from lxml import etree
from starlette.applications import Starlette

from connectors import SyncRequest, TrustStore
from connectors.config import Settings
from connectors.roster import roster_entry
from simulators.kit.clock import process_clock
from simulators.kit.database import simulator_database_url
from simulators.kit.payloads import read_for_service
from simulators.kit.provider import Handler, ProviderResult, SyncProvider
from simulators.tax.customs_account import CustomsAccounts, routed
from simulators.tax.payload import (
    MrpQuery,
    Query,
    TaxDebtQuery,
    build_mrp_response,
    build_tax_debt_response,
    parse_request,
)
from simulators.tax.rules import mrp_of, tax_debt_of
from simulators.tax.store import MrpTable, TaxDebtStore, default_debt_store, default_mrp_table

SYSTEM = roster_entry("KGD")
MRP_SERVICE = "KgdMrpByYear_v1"
TAX_DEBT_SERVICE = "KgdTaxDebt_v1"
# Which query each catalogued service carries. A known serviceId with the other operation's
# request is a misrouted message, refused rather than silently answered as something else.
_QUERY_OF_SERVICE: dict[str, type[MrpQuery] | type[TaxDebtQuery]] = {
    MRP_SERVICE: MrpQuery,
    TAX_DEBT_SERVICE: TaxDebtQuery,
}


def kgd_handler(mrp: MrpTable, debts: TaxDebtStore) -> Handler:
    """The business function: the query in ``data`` → KGD's answer in ``data``."""

    def handle(request: SyncRequest) -> ProviderResult:
        query = _query_of(request)
        return ProviderResult(payload=answer(query, mrp, debts))

    return handle


def answer(query: Query, mrp: MrpTable, debts: TaxDebtStore) -> etree._Element:
    """The response element for one query."""
    if isinstance(query, MrpQuery):
        return build_mrp_response(mrp_of(query.year, mrp))
    return build_tax_debt_response(tax_debt_of(query.taxpayer_id, debts))


def _query_of(request: SyncRequest) -> Query:
    return read_for_service(request, parse_request, _QUERY_OF_SERVICE)


def create_provider(
    pki_dir: Path,
    *,
    mrp: MrpTable | None = None,
    debts: TaxDebtStore | None = None,
    trust: TrustStore | None = None,
) -> SyncProvider:
    handler = kgd_handler(mrp or default_mrp_table(), debts or default_debt_store())
    return SyncProvider.from_pki(SYSTEM, pki_dir, handler, trust=trust)


def create_app(settings: Settings | None = None) -> Starlette:
    """What ``python -m`` serves (``kzgate up``); settings from the environment by default."""
    settings = settings or Settings()
    provider = create_provider(settings.pki_dir)
    # Customs' debit from the personal account (seed 004 Annex 5 para 8(2)) beside the tax queries.
    ledger = CustomsAccounts(simulator_database_url(settings), lambda: process_clock().now())
    provider.handler = routed(ledger, provider.handler)
    return provider.app()
