"""KEDEN's endpoints in one app: the AsyncChannel participant that takes registrations at
``/shep/async`` and the SyncChannel provider that answers look-ups at ``/shep/sync``.

A registration is applied to the customs records *before* the message enters the participant's
inbox, in a transaction of its own, not inside the inbox's ``handler``: that handler runs while
the inbox holds its write transaction, and on SQLite a second writer to the same file would wait
for that lock forever. Registering is idempotent by content, so a redelivery (or a crash between
the two commits) only finds the record already there and is answered with success again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from prometheus_client.core import Metric
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors import (
    FaultCode,
    GatewayError,
    SyncRequest,
    TransportKey,
    TrustStore,
    errors,
    format_datetime,
)
from connectors.config import Settings
from connectors.roster import roster_entry
from simulators.customs.clearance import Clearance
from simulators.customs.declaration_service import (
    create_clearance,
    declaration_handler,
    declaration_routes,
    risk_from_env,
)
from simulators.customs.declaration_sla import declaration_families
from simulators.customs.models import STATUS_KK, CustomsRecord, RecordStatus
from simulators.customs.payload import (
    ByHolder,
    ByNumber,
    LookupAnswer,
    PayloadError,
    Registration,
    StatusChange,
    build_lookup_answer,
    decimal_text,
    read_payload,
)
from simulators.customs.risk import RiskProfile
from simulators.customs.store import Clock, RecordConflict, RecordRefused, RecordStore
from simulators.kit.clock import process_clock
from simulators.kit.database import simulator_database_url
from simulators.kit.identifiers import explain_invalid
from simulators.kit.inbox import Inbox, InboxMessage, OnFirstDelivery
from simulators.kit.participant import AsyncParticipant
from simulators.kit.provider import ProviderResult, SyncProvider

SYSTEM = roster_entry("KEDEN")
SYSTEM_ID = SYSTEM.system_id
WSDL_FILE = SYSTEM.wsdl
SYNC_PATH = "/shep/sync"
ASYNC_PATH = "/shep/async"

# KEDEN's own refusals. "Client." makes the gateway dead-letter the message instead of retrying:
# resending cannot change the answer.
RECORD_CONFLICT = FaultCode(
    "Client.Keden.RecordConflict",
    "This document number is already registered with different content",
    "A licence or permit is registered once; send changes as their own operation, not again.",
)
STATUS_CHANGE_REFUSED = FaultCode(
    "Client.Keden.StatusChangeRefused",
    "The status change does not apply to this record",
    "Only a registered, valid document can be terminated, and only by the system that issued it.",
)
ISSUER_NOT_SENDER = FaultCode(
    "Client.Keden.IssuerNotSender",
    "The registration names another system as the document's issuer",
    "A system registers only the documents it issued itself: issuer must be the senderId.",
)


class RegisteringInbox(Inbox):
    """KEDEN's inbox: each pushed registration reaches the customs records, then the inbox."""

    def __init__(self, database_url: str, records: RecordStore) -> None:
        super().__init__(SYSTEM_ID, database_url)
        self.records = records

    async def accept(self, message: InboxMessage, on_first: OnFirstDelivery | None = None) -> bool:
        await register_message(message, self.records)
        return await super().accept(message, on_first)

    async def close(self) -> None:
        await super().close()
        await self.records.close()


async def register_message(message: InboxMessage, records: RecordStore) -> None:
    """Apply the registration a pushed message carries, or refuse it with a ``Client.*`` fault."""
    try:
        request = read_payload(message.data_element())
    except PayloadError as exc:
        raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, str(exc)) from exc
    if isinstance(request, StatusChange):
        await change_status(request, message.sender_id, records)
        return
    if not isinstance(request, Registration):
        raise GatewayError(
            errors.SCHEMA_PAYLOAD_INVALID,
            "KEDEN takes CustomsRecordRegistration on the AsyncChannel; look-ups are synchronous",
        )
    if request.content.issuer != message.sender_id:
        raise GatewayError(
            ISSUER_NOT_SENDER, f"issuer {request.content.issuer}, sender {message.sender_id}"
        )
    try:
        await records.register(
            request.content, message_id=message.message_id, document=request.document
        )
    except RecordConflict as exc:
        raise GatewayError(RECORD_CONFLICT, str(exc)) from exc


async def change_status(change: StatusChange, sender: str, records: RecordStore) -> None:
    """Apply an issuer's termination (seed 003 Rules p.15); a redelivery finds it done."""
    record = await records.by_number(change.number)
    if record is None:
        raise GatewayError(STATUS_CHANGE_REFUSED, f"{change.number} is not registered")
    if record.content.issuer != sender or change.issuer != sender:
        raise GatewayError(ISSUER_NOT_SENDER, f"issuer {record.content.issuer}, sender {sender}")
    if record.status is RecordStatus.TERMINATED:
        return  # the same termination again (redelivery): applied once
    try:
        await records.terminate(change.number, change.reason)
    except RecordRefused as exc:
        raise GatewayError(STATUS_CHANGE_REFUSED, str(exc)) from exc


def lookup_handler(records: RecordStore) -> Callable[[SyncRequest], Awaitable[ProviderResult]]:
    """The SyncChannel business function: a look-up request in ``data`` → the answer."""

    async def handle(request: SyncRequest) -> ProviderResult:
        if request.data is None:
            raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, "data is missing")
        try:
            query = read_payload(request.data)
        except PayloadError as exc:
            raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, str(exc)) from exc
        if isinstance(query, Registration):
            raise GatewayError(
                errors.SCHEMA_PAYLOAD_INVALID,
                "registrations go through the AsyncChannel (KedenRegisterRecord_v1)",
            )
        return ProviderResult(payload=build_lookup_answer(await look_up(query, records)))

    return handle


async def look_up(query: ByNumber | ByHolder, records: RecordStore) -> LookupAnswer:
    """The records asked for, each with its status as of now (EXPIRED computed)."""
    if isinstance(query, ByNumber):
        record = await records.by_number(query.number)
        found = [] if record is None else [record]
        subject = f"document {query.number}"
    else:
        reason = explain_invalid(query.holder_id)
        if reason is not None:
            return LookupAnswer("INVALID_HOLDER_ID", f"{query.holder_id}: {reason}")
        found = await records.by_holder(query.holder_id)
        subject = f"holder {query.holder_id}"
    if not found:
        return LookupAnswer("NOT_FOUND", f"no customs record for {subject}")
    now = records.clock()
    current = tuple(_as_of(record, now) for record in found)
    return LookupAnswer("FOUND", f"{len(current)} customs record(s) for {subject}", current)


def _as_of(record: CustomsRecord, now: datetime) -> CustomsRecord:
    return replace(record, status=record.status_on(now))


@dataclass
class Keden:
    """KEDEN's two endpoints over one customs-record store, and its declaration desk."""

    records: RecordStore
    participant: AsyncParticipant
    provider: SyncProvider
    clearance: Clearance | None = None

    def app(self) -> Starlette:
        """One app on KEDEN's port: both SOAP endpoints, ``/health``, ``/ops/*``; the
        clearance worker runs with the app's lifespan."""
        extra = [*sync_routes(self.provider), Route("/ops/records", self._listing)]
        if self.clearance is not None:
            extra += declaration_routes(self.clearance)
        app = self.participant.app(ASYNC_PATH, extra_routes=extra)
        clearance = self.clearance
        if clearance is None:
            return app

        async def declaration_metrics() -> list[Metric]:
            return declaration_families(await clearance.store.all(), clearance.clock.now())

        self.participant.metrics.extra = declaration_metrics
        # Around the participant's own lifespan (it closes the inbox and records), so whatever
        # the participant's app carries — middleware included — stays as it is.
        inner = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            try:
                async with inner(app):
                    # Started inside and stopped before the participant's lifespan ends: the
                    # worker writes to the record store, which that lifespan closes (stopped
                    # after, a worker mid-step could open a connection on a disposed engine).
                    clearance.start()
                    try:
                        yield
                    finally:
                        await clearance.stop()
            finally:
                await clearance.store.close()

        app.router.lifespan_context = lifespan
        return app

    async def close(self) -> None:
        await self.participant.inbox.close()  # closes the record store too
        if self.clearance is not None:
            await self.clearance.store.close()
            await self.clearance.client.aclose()

    async def _listing(self, request: Request) -> Response:
        holder = request.query_params.get("holder")
        found = await (self.records.by_holder(holder) if holder else self.records.all())
        now = self.records.clock()
        return JSONResponse([record_json(record, now) for record in found])


def sync_routes(provider: SyncProvider, path: str = SYNC_PATH) -> Sequence[BaseRoute]:
    """The provider's SOAP route alone, to sit beside the participant's in one app.

    ``SyncProvider.app()`` also brings a ``/health`` that the participant's app already has.
    """
    return [r for r in provider.app(path).routes if getattr(r, "path", None) == path]


def create_keden(
    pki_dir: Path,
    database_url: str,
    *,
    clock: Clock | None = None,
    trust: TrustStore | None = None,
    gateway_url: str | None = None,
    risk: RiskProfile | None = None,
) -> Keden:
    """KEDEN on ``database_url``; ``clock`` (default: the process's business clock) decides
    registration times and when a record becomes EXPIRED. With ``gateway_url`` KEDEN also
    clears export declarations, calling other systems through the gateway there (tests set
    ``keden.clearance.client.http`` to reach an in-process gateway)."""
    key = TransportKey.from_files(pki_dir / f"{SYSTEM_ID}.pem", pki_dir / f"{SYSTEM_ID}.key")
    trust = trust or TrustStore.from_dir(pki_dir)
    records = RecordStore(database_url, clock or business_now)
    participant = AsyncParticipant(
        system_id=SYSTEM_ID, key=key, trust=trust, inbox=RegisteringInbox(database_url, records)
    )
    provider = SyncProvider(
        system_id=SYSTEM_ID,
        key=key,
        trust=trust,
        handler=lookup_handler(records),
        wsdl_file=WSDL_FILE,
    )
    # One system, one fault plan: /ops/faults and KZGATE_FAULTS_KEDEN steer both endpoints.
    provider.faults = participant.faults
    provider.metrics = participant.metrics  # … and one /metrics counts both
    keden = Keden(records=records, participant=participant, provider=provider)
    if gateway_url is not None:
        keden.clearance = create_clearance(
            pki_dir, database_url, records, key, trust, gateway_url=gateway_url, risk=risk
        )
        provider.handler = declaration_handler(keden.clearance, trust, provider.handler)
    return keden


def business_now() -> datetime:
    """The process's business time, read at each call: a virtual clock (``KZGATE_CLOCK``,
    ``/ops/clock``) that passes a validity end turns the record EXPIRED at once."""
    return process_clock().now()


def create_app(settings: Settings | None = None) -> Starlette:
    """What ``python -m`` serves (``kzgate up``); settings from the environment by default."""
    settings = settings or Settings()
    return create_keden(
        settings.pki_dir,
        simulator_database_url(settings),
        gateway_url=settings.gateway_url,
        risk=risk_from_env(),
    ).app()


def record_json(record: CustomsRecord, now: datetime) -> dict[str, object]:
    """A record for testers (``GET /ops/records``), with its status as of ``now``."""
    c = record.content
    return {
        "number": c.number,
        "kind": c.kind.value,
        "type": c.trade_type.value,
        "holderId": c.holder_id,
        "holderName": c.holder_name,
        "issuer": c.issuer,
        "issueDate": c.issue_date.isoformat(),
        "goods": [{"code": g.code, "description": g.description} for g in c.goods],
        "quantity": decimal_text(c.quantity),
        "remainingQuantity": decimal_text(record.remaining_quantity),
        "unit": c.unit,
        "validFrom": c.valid_from.isoformat(),
        "validTo": c.valid_to.isoformat(),
        "tradeCountry": {"code": c.trade_country, "role": c.trade_country_role.value},
        "counterpartyCountry": c.counterparty_country,
        "originCountry": c.origin_country,
        "status": record.status_on(now).value,
        "statusKk": STATUS_KK[record.status_on(now)],
        "registeredAt": format_datetime(record.registered_at),
        "sourceMessageId": record.source_message_id,
        "statusReason": record.status_reason,
    }
