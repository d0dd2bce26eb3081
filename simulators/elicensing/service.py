"""ELICENSE's app: the SyncChannel services it provides, its worker and its ops endpoints.

This module is the HTTP shell (``Elicense``: intake, status, ops, the Starlette app); the wire of
its services is ``service_wire``'s, the SLA rule ``sla``'s, and the wiring ``assembly``'s.

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

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from lxml import etree
from prometheus_client.core import Metric
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors import GatewayError, SyncRequest, errors
from connectors.tracing import traced_middleware
from simulators.customs.payload import standalone
from simulators.elicensing.export_pilot.service import SERVICES as PILOT_SERVICES
from simulators.elicensing.export_pilot.service import ExportPilot
from simulators.elicensing.flow import SYSTEM_ID, LicensingFlow
from simulators.elicensing.metrics import application_families
from simulators.elicensing.permit_query import PermitQuery
from simulators.elicensing.records import quota_key
from simulators.elicensing.service_wire import (
    STATUS_REQUEST_TAG,
    STATUS_SERVICE,
    child_text,
    content_digest,
    payload_of,
    read_form,
    status_response,
    submit_response,
)
from simulators.elicensing.settings import ElicenseSettings
from simulators.elicensing.sla import application_json, sla_report
from simulators.elicensing.store import ApplicationStore, Kind, NewApplication, State
from simulators.kit.calendar import WorkingCalendar
from simulators.kit.clock import KZ_TIME, Clock
from simulators.kit.provider import ProviderResult, SyncProvider


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
        await self.flow.client.aclose()  # the pilot's flow shares it

    # --- intake -------------------------------------------------------------------------------

    async def handle(self, request: SyncRequest) -> ProviderResult:
        if request.data is None:
            raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, "data is missing")
        if self.pilot is not None and request.service_id in PILOT_SERVICES:
            return await self.pilot.handle(request)
        payload = payload_of(request.data)
        if request.service_id == STATUS_SERVICE or payload.tag == STATUS_REQUEST_TAG:
            return ProviderResult(await self._status(payload))
        return ProviderResult(await self.submit(payload))

    async def submit(self, element: etree._Element) -> etree._Element:
        """Register the application or draft permit in ``element``; the registration answer."""
        kind, applicant = read_form(element, self.flow.records)
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
        number = child_text(element, "registrationNumber")
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
        if self.pilot is not None:
            report["exportPilot"] = self.pilot.window_state()
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
        if self.pilot is None:
            return application_families(await self.store.all(), self.clock.now())
        desk = self.pilot.desk
        pilot = await desk.store.all()
        return application_families(await self.store.all(), self.clock.now(), pilot, desk.steps)

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


__all__ = ["Elicense", "State"]
