"""Wiring ELICENSE: its register, worker, provider endpoint, export pilot and customs' queries.

``create_elicense`` builds the parts of ``service.Elicense`` on one database and one business
clock; ``create_app`` is what ``python -m simulators.elicensing`` serves (``kzgate up``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import httpx2
from starlette.applications import Starlette

from connectors import GatewayError, ShepClient, SyncRequest, TransportKey, TrustStore, errors
from connectors.config import Settings
from connectors.roster import roster_entry
from simulators.elicensing.export_pilot.assembly import create_export_pilot
from simulators.elicensing.flow import DEFAULT_RETRY_DELAYS, SYSTEM_ID, LicensingFlow
from simulators.elicensing.permit_query import ExecutionLedger, PermitQuery, routed
from simulators.elicensing.records import default_records, load_records
from simulators.elicensing.service import Elicense
from simulators.elicensing.settings import ElicenseSettings
from simulators.elicensing.store import ApplicationStore
from simulators.kit.calendar import EXPORT_PILOT_HOURS
from simulators.kit.clock import Clock, process_clock
from simulators.kit.database import simulator_database_url
from simulators.kit.provider import ProviderResult, SyncProvider
from simulators.support_desk.desk import SupportDesk

SYSTEM = roster_entry("ELICENSE")
WSDL_FILE = SYSTEM.wsdl


def create_elicense(
    pki_dir: Path,
    database_url: str,
    *,
    gateway_url: str,
    http: httpx2.AsyncClient | None = None,
    clock: Clock | None = None,
    trust: TrustStore | None = None,
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
    password: str | None = None,
    settings: ElicenseSettings | None = None,
) -> Elicense:
    """ELICENSE on ``database_url``, calling the gateway at ``gateway_url`` (through ``http``
    when given: tests route it to the in-process gateway app). Set ``elicense.flow.client.http``
    later when the gateway app is built after this one."""
    key = TransportKey.from_files(pki_dir / f"{SYSTEM_ID}.pem", pki_dir / f"{SYSTEM_ID}.key")
    trust = trust or TrustStore.from_dir(pki_dir)
    clock = clock or process_clock()
    store = ApplicationStore(database_url)
    client = ShepClient(
        gateway_url=gateway_url,
        sender_id=SYSTEM_ID,
        password=password if password is not None else f"dev-{SYSTEM_ID}",
        key=key,
        trust=trust,
        http=http,
    )
    settings = settings or ElicenseSettings()
    records = load_records(settings.records_dir) if settings.records_dir else default_records()
    flow = LicensingFlow(
        store,
        client,
        key,
        clock,
        records=records,
        retry_delays=tuple(retry_delays),
        desk=SupportDesk(store.engine),
        support_after_attempts=settings.support_after_attempts,
        workers=settings.workers,
        lease_seconds=settings.claim_lease_seconds,
    )
    elicense = Elicense(
        store=store,
        flow=flow,
        provider=SyncProvider(SYSTEM_ID, key, trust, handler=_no_handler, wsdl_file=WSDL_FILE),
        settings=settings,
        clock=clock,
    )
    elicense.pilot = create_export_pilot(
        pki_dir,
        database_url,
        client=client,
        key=key,
        clock=clock,
        calendar=settings.calendar_of(EXPORT_PILOT_HOURS),
        retry_delays=tuple(retry_delays),
    )
    # Customs' queries (seed 004 Annex 5 para 10) are answered beside the portal's services.
    elicense.permit_query = PermitQuery(
        store, ExecutionLedger(database_url), clock, pilot=elicense.pilot.desk.store
    )
    elicense.provider.handler = routed(elicense.permit_query, elicense.handle)
    return elicense


async def _no_handler(request: SyncRequest) -> ProviderResult:  # replaced at assembly
    raise GatewayError(errors.INTERNAL, "ELICENSE is not assembled")


def create_app(settings: Settings | None = None) -> Starlette:
    """What ``python -m`` serves (``kzgate up``); settings from the environment by default."""
    settings = settings or Settings()
    return create_elicense(
        settings.pki_dir, simulator_database_url(settings), gateway_url=settings.gateway_url
    ).app()


__all__ = ["SYSTEM", "create_app", "create_elicense"]
