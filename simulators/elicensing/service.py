"""ELICENSE's app: the SyncChannel services it provides, its worker and its ops endpoints.

- ``ElicenseSubmitApplication_v1`` (sync, from EGOV_PORTAL): a ``LicenceApplication`` or
  ``PermitDraft`` in ``data`` is registered at once — off-hours at the next working day's opening
  (``WorkingCalendar``, Trade Committee hours) — and answered with the registration number, the
  registration moment and the SLA deadline (1 working day). The same application filed again
  while undecided is the same registration; after the decision it is a new application. A draft
  permit that is structurally incomplete, or for goods not under surveillance, is rejected as an
  invalid message (the permit rules have no refusal).
- ``ElicenseApplicationStatus_v1`` (sync): state, outcome, grounds, document number, deadline and
  whether it was missed, by registration number.
- ``GET /ops/sla`` and ``GET /ops/applications`` for testers and ``kzgate status``;
  ``GET /ops/quotas[?year=YYYY]``: each quota allocation with what issued licences left of it;
  ``GET /ops/support-desk``: the IS-failure notices ELICENSE sent the operator (LR p.8).

The worker (``flow.LicensingFlow``) runs with the app's lifespan. Intake only wakes it: the
REGISTERED stage is reported to MONITORING by the worker once the registration moment has come,
so a filing is accepted even while MONITORING or the broker is down.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from lxml import etree
from prometheus_client.core import Metric
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors import (
    GatewayError,
    ShepClient,
    SyncRequest,
    TransportKey,
    TrustStore,
    errors,
    format_datetime,
)
from connectors.roster import roster_entry
from connectors.tracing import traced_middleware
from connectors.wsse.dsig import DS
from gateway.config import Settings
from simulators.customs.payload import standalone
from simulators.elicensing import documents
from simulators.elicensing.export_pilot.assembly import create_export_pilot
from simulators.elicensing.export_pilot.service import SERVICES as PILOT_SERVICES
from simulators.elicensing.export_pilot.service import ExportPilot
from simulators.elicensing.flow import DEFAULT_RETRY_DELAYS, SYSTEM_ID, LicensingFlow
from simulators.elicensing.metrics import application_families
from simulators.elicensing.permit_query import ExecutionLedger, PermitQuery, routed
from simulators.elicensing.records import Records, default_records, load_records, quota_key
from simulators.elicensing.rules import check_permit_draft
from simulators.elicensing.settings import ElicenseSettings
from simulators.elicensing.store import (
    Application,
    ApplicationStore,
    Kind,
    NewApplication,
    Outcome,
    State,
)
from simulators.kit.calendar import WorkingCalendar
from simulators.kit.clock import KZ_TIME, Clock, process_clock
from simulators.kit.database import simulator_database_url
from simulators.kit.provider import ProviderResult, SyncProvider
from simulators.support_desk.desk import SupportDesk

SYSTEM = roster_entry("ELICENSE")
SUBMIT_SERVICE = "ElicenseSubmitApplication_v1"
STATUS_SERVICE = "ElicenseApplicationStatus_v1"
WSDL_FILE = SYSTEM.wsdl
NAMESPACE = documents.NAMESPACE
_NSMAP = {"el": NAMESPACE}
_APPLICATION = etree.QName(NAMESPACE, "LicenceApplication").text
_DRAFT = etree.QName(NAMESPACE, "PermitDraft").text
_STATUS_REQUEST = etree.QName(NAMESPACE, "ApplicationStatusRequest").text


@dataclass
class Elicense:
    """ELICENSE: the register, the worker and the provider endpoint on one business clock."""

    store: ApplicationStore
    flow: LicensingFlow
    provider: SyncProvider
    settings: ElicenseSettings
    clock: Clock
    _calendars: dict[Kind, WorkingCalendar] = field(default_factory=dict, init=False)
    pilot: ExportPilot | None = None  # seed 003: the CIS export-permit pilot (F3)
    permit_query: PermitQuery | None = None  # customs' queries (seed 004 Annex 5 para 10)

    async def close(self) -> None:
        # Workers first, then the stores they write to.
        if self.pilot is not None:
            await self.pilot.flow.stop()
            await self.pilot.desk.store.close()
        await self.store.close()
        if self.permit_query is not None:
            await self.permit_query.ledger.close()

    # --- intake -------------------------------------------------------------------------------

    async def handle(self, request: SyncRequest) -> ProviderResult:
        if request.data is None:
            raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, "data is missing")
        if self.pilot is not None and request.service_id in PILOT_SERVICES:
            return await self.pilot.handle(request)
        payload = _payload(request.data)
        if request.service_id == STATUS_SERVICE or payload.tag == _STATUS_REQUEST:
            return ProviderResult(await self._status(payload))
        return ProviderResult(await self.submit(payload))

    async def submit(self, element: etree._Element) -> etree._Element:
        """Register the application or draft permit in ``element``; the registration answer."""
        kind, applicant = _read_form(element, self.flow.records)
        filed_at = self.clock.now()
        calendar = self.calendar(kind)
        registered_at = calendar.registration_moment(filed_at)
        new = NewApplication(
            kind=kind,
            digest=content_digest(element),
            application_xml=standalone(element),
            applicant_id=applicant,
            filed_at=filed_at,
            registered_at=registered_at,
            deadline=calendar.add_working_days(registered_at, self.settings.working_days(kind)),
        )
        registered = await self.store.register(new)
        self.flow.traces.remember(registered.application.number)  # the worker continues it
        self.flow.wake()
        return submit_response(registered.application, duplicate=not registered.created)

    def calendar(self, kind: Kind) -> WorkingCalendar:
        """The working calendar of a service: decreed extras and deadline rule from settings."""
        return self._calendars.setdefault(kind, self.settings.calendar(kind))

    async def _status(self, element: etree._Element) -> etree._Element:
        number = _child_text(element, "registrationNumber")
        app = await self.store.get(number)
        return status_response(number, app, self.clock.now())

    # --- ops ----------------------------------------------------------------------------------

    async def sla(self) -> dict[str, object]:
        report = sla_report(await self.store.all(), self.clock.now())
        notices = await self.support_notices()
        report["supportDesk"] = {
            "open": sum(1 for n in notices if n["resolvedAt"] is None),
            "notices": notices,
        }
        return report

    async def support_notices(self) -> list[dict[str, object]]:
        """What ELICENSE reported to the operator's support desk (LR p.8), oldest first."""
        desk = self.flow.desk
        return [] if desk is None else [n.to_json() for n in await desk.notices()]

    async def quotas(self, year: int | None = None) -> list[dict[str, object]]:
        """Each quota allocation of ``year`` (the business year by default) with what issued
        licences left of it: testers see R5 coming before it refuses."""
        year = year or self.clock.now().astimezone(KZ_TIME).year
        found: list[dict[str, object]] = []
        for quota in self.flow.records.quotas:
            allocation = quota.allocation(year)
            if allocation is None:
                continue
            key = quota_key(quota.type, quota.code_prefix, year)
            remaining = await self.store.quota_remaining(key, allocation.remaining)
            found.append(
                {
                    "key": key,
                    "type": quota.type.value,
                    "codePrefix": quota.code_prefix,
                    "title": quota.title,
                    "kind": quota.kind.value,
                    "unit": quota.unit,
                    "year": year,
                    "allocated": str(allocation.allocated),
                    "remaining": str(remaining),
                }
            )
        return found

    async def _metric_families(self) -> list[Metric]:
        return application_families(await self.store.all(), self.clock)

    def app(self) -> Starlette:
        """One app on ELICENSE's port: ``/shep/sync``, ``/health``, ``/ops/*``."""

        async def sla(request: Request) -> Response:
            return JSONResponse(await self.sla())

        async def support_desk(request: Request) -> Response:
            return JSONResponse(await self.support_notices())

        async def quotas(request: Request) -> Response:
            year = request.query_params.get("year")
            return JSONResponse(await self.quotas(int(year) if year else None))

        async def listing(request: Request) -> Response:
            now = self.clock.now()
            return JSONResponse([application_json(a, now) for a in await self.store.all()])

        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            self.flow.start()
            if self.pilot is not None:
                self.pilot.flow.start()
            try:
                yield
            finally:
                await self.flow.stop()
                await self.close()

        self.provider.metrics.extra = self._metric_families
        base = self.provider.app()
        routes = [
            *base.routes,
            Route("/ops/sla", sla),
            Route("/ops/applications", listing),
            Route("/ops/quotas", quotas),
            Route("/ops/support-desk", support_desk),
        ]
        routes += self.pilot.routes() if self.pilot is not None else []
        return Starlette(routes=routes, lifespan=lifespan, middleware=traced_middleware(SYSTEM_ID))


# --- reading requests ----------------------------------------------------------------------------


def _payload(data: etree._Element) -> etree._Element:
    children = list(data.iterchildren(tag=etree.Element))
    if len(children) != 1:
        raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, "data must carry one element")
    return children[0]


def _read_form(element: etree._Element, records: Records) -> tuple[Kind, str]:
    """The kind and applicant id of a valid filing; a broken one is an invalid message.

    A draft permit for goods not under automatic licensing (surveillance) is outside the permit
    service (PR p.2(4)): rejected like a broken message, as the permit rules have no refusal.
    """
    try:
        if element.tag == _APPLICATION:
            return Kind.LICENCE, documents.parse_application(element).applicant.identifier
        if element.tag == _DRAFT:
            draft = documents.parse_permit_draft(element)
            problems = check_permit_draft(draft)
            if problems:  # the permit rules have no refusal: an incomplete draft is a bad message
                raise documents.DocumentError("; ".join(problems))
            if records.under_surveillance(draft) is None:
                raise documents.DocumentError(
                    f"goods {draft.goods.commodity_code} are not under automatic licensing "
                    f"(surveillance) for {draft.type.value}: no permit is issued for them "
                    "(permit rules p.2(4))"
                )
            return Kind.PERMIT, draft.applicant.identifier
    except documents.DocumentError as exc:
        raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, str(exc)) from exc
    raise GatewayError(
        errors.SCHEMA_PAYLOAD_INVALID, "data must carry a LicenceApplication or a PermitDraft"
    )


def content_digest(element: etree._Element) -> str:
    """What makes two filings the same application: the canonical form, signatures aside.

    The applicant's own signature may differ between two sends of one application.
    """
    copy = etree.fromstring(etree.tostring(element, encoding="UTF-8"))  # non-ASCII names too
    for signature in copy.findall(f"{{{DS}}}Signature"):
        copy.remove(signature)
    return hashlib.sha256(etree.tostring(copy, method="c14n", exclusive=True)).hexdigest()


def _child_text(element: etree._Element, name: str) -> str:
    for child in element.iterchildren(tag=etree.Element):
        if etree.QName(child).localname == name and (child.text or "").strip():
            return child.text.strip()
    raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, f"no {name}")


# --- answers -------------------------------------------------------------------------------------


def submit_response(app: Application, *, duplicate: bool) -> etree._Element:
    element = etree.Element(etree.QName(NAMESPACE, "SubmitApplicationResponse"), nsmap=_NSMAP)
    _add(element, "registrationNumber", app.number)
    _add(element, "kind", app.kind.value)
    _add(element, "registeredAt", format_datetime(app.registered_at))
    _add(element, "deadline", format_datetime(app.deadline))
    _add(element, "duplicate", "true" if duplicate else "false")
    return element


def status_response(number: str, app: Application | None, now: datetime) -> etree._Element:
    element = etree.Element(etree.QName(NAMESPACE, "ApplicationStatusResponse"), nsmap=_NSMAP)
    _add(element, "resultCode", "NOT_FOUND" if app is None else "FOUND")
    _add(element, "registrationNumber", number)
    if app is None:
        return element
    _add(element, "kind", app.kind.value)
    _add(element, "state", app.state.value)
    if app.outcome is not None:
        _add(element, "outcome", app.outcome.value)
    for code in app.ground_codes:
        _add(element, "ground", code)
    if app.reason:
        _add(element, "reason", app.reason)
    if app.document_number:
        _add(element, "documentNumber", app.document_number)
    _add(element, "registeredAt", format_datetime(app.registered_at))
    _add(element, "deadline", format_datetime(app.deadline))
    if app.completed_at is not None:
        _add(element, "completedAt", format_datetime(app.completed_at))
    _add(element, "deadlineMissed", "true" if is_missed(app, now) else "false")
    return element


def _add(parent: etree._Element, name: str, text: str) -> None:
    etree.SubElement(parent, name).text = text  # unqualified children, as in SHEP


# --- SLA -----------------------------------------------------------------------------------------


def is_missed(app: Application, now: datetime) -> bool:
    """Completed after the deadline, or still open past it (whether or not the worker saw it)."""
    if app.completed_at is not None:
        return app.missed or app.completed_at > app.deadline
    return app.missed or now > app.deadline


def application_json(app: Application, now: datetime) -> dict[str, object]:
    latency = _latency(app)
    return {
        "registrationNumber": app.number,
        "kind": app.kind.value,
        "applicantId": app.applicant_id,
        "state": app.state.value,
        "outcome": app.outcome.value if app.outcome else None,
        "grounds": list(app.ground_codes),
        "reason": app.reason,
        "documentNumber": app.document_number,
        "filedAt": format_datetime(app.filed_at),
        "registeredAt": format_datetime(app.registered_at),
        "deadline": format_datetime(app.deadline),
        "completedAt": format_datetime(app.completed_at) if app.completed_at else None,
        "latencySeconds": latency,
        "missed": is_missed(app, now),
        "delivered": {
            "portal": app.sent_portal,
            "keden": app.sent_keden,
            "stages": {
                "REGISTERED": app.stage_registered,
                "IN_WORK": app.stage_in_work,
                "DECIDED": app.stage_decided,
                "DELIVERED": app.stage_delivered,
            },
        },
        "attempts": app.attempts,
        "lastError": app.last_error,
        "alarm": app.alarm,
    }


def sla_report(apps: Sequence[Application], now: datetime) -> dict[str, object]:
    """Counts, latency percentiles (registration → completion, business seconds), per-app list."""
    done = [a for a in apps if a.completed_at is not None]
    latencies = sorted(x for a in done if (x := _latency(a)) is not None)
    return {
        "now": format_datetime(now),
        "total": len(apps),
        "issued": sum(1 for a in done if a.outcome is Outcome.ISSUED),
        "refused": sum(1 for a in done if a.outcome is Outcome.REFUSED),
        "notIssued": sum(1 for a in done if a.outcome is Outcome.NOT_ISSUED),
        "inProgress": sum(1 for a in apps if a.completed_at is None),
        "missed": sum(1 for a in apps if is_missed(a, now)),
        # Applications that wait for someone to act (e.g. an MRP to be set): listed up front.
        "alarms": [
            {"registrationNumber": a.number, "alarm": a.alarm} for a in apps if a.alarm is not None
        ],
        "latencySeconds": {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)},
        "applications": [application_json(a, now) for a in apps],
    }


def _latency(app: Application) -> float | None:
    if app.completed_at is None:
        return None
    return max(0.0, (app.completed_at - app.registered_at).total_seconds())


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of sorted ``values`` (None when there are none)."""
    if not values:
        return None
    rank = max(1, math.ceil(p / 100 * len(values)))
    return values[rank - 1]


# --- assembly ------------------------------------------------------------------------------------


def create_elicense(
    pki_dir: Path,
    database_url: str,
    *,
    gateway_url: str,
    http: httpx.AsyncClient | None = None,
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
        pki_dir, database_url, client=client, key=key, clock=clock, retry_delays=tuple(retry_delays)
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


__all__ = ["Elicense", "State", "create_app", "create_elicense"]
