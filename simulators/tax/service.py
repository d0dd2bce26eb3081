"""KGD's SyncChannel endpoint: the MRP of a year and tax-debt information, as a SHEP provider."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors import SyncRequest, TrustStore
from connectors.config import Settings
from connectors.roster import roster_entry
from simulators.kit.clock import KZ_TIME, process_clock
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


def mrp_overview(mrp: MrpTable, now: datetime) -> dict[str, object]:
    """The years KGD has an MRP for and whether the business year is one of them: without it
    no fee paid this year can be judged (``kzgate status`` warns before a licence stalls)."""
    year = now.astimezone(KZ_TIME).year
    current = mrp.find(year)
    return {
        "year": year,
        "amount": current.amount if current else None,
        "years": sorted(rate.year for rate in mrp),
    }


def create_app(settings: Settings | None = None) -> Starlette:
    """What ``python -m`` serves (``kzgate up``); settings from the environment by default."""
    settings = settings or Settings()
    mrp = default_mrp_table()
    provider = create_provider(settings.pki_dir, mrp=mrp)
    # Customs' debit from the personal account (seed 004 Annex 5 para 8(2)) beside the tax queries.
    ledger = CustomsAccounts(simulator_database_url(settings), lambda: process_clock().now())
    provider.handler = routed(ledger, provider.handler)
    app = provider.app()

    async def overview(request: Request) -> Response:
        return JSONResponse(mrp_overview(mrp, process_clock().now()))

    app.router.routes.append(Route("/ops/mrp", overview))
    return app
