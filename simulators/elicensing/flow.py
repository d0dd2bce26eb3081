"""The automated processing of E-licensing (F1 licences, F2 permits): no human in the loop.

A pool of deciding workers (``KZGATE_ELICENSE_WORKERS``) takes every application not yet
DELIVERED whose registration moment has come (by the business clock) through three steps, each
recorded in the store so that a restart resumes where the last process stopped:

1. decide — gather the facts through the gateway (``facts.gather``), ``rules.decide``, build and
   sign the licence / refusal / permit with ELICENSE's key, store it (REGISTERED → DECIDED);
2. deliver — the signed document to the applicant's cabinet (EGOV_PORTAL
   ``PortalNotification_v1``), an issued document to KEDEN's customs records
   (``KedenRegisterRecord_v1``), the stages to MONITORING (``MonitoringStage_v1``);
3. done — every target acknowledged → DELIVERED.

Several applications are in flight at once, each held by one worker through a claim with a
lease (``claims``): a worker of this or another process takes the oldest due application nobody
holds, and renews its claim while it works; a crashed worker's claim is taken over once its lease
expires. The decision is one transaction guarded on REGISTERED with the fee and quota it consumes
(``store.decide``), so an application is decided once; every message has a deterministic
messageId (``messages``) and its flag is set only after the gateway's ack, so nothing reaches a
receiver twice.

A failure leaves the application for a retry after a backoff (``incidents``: the support desk,
alarms). The 1-working-day deadline is measured in business time; a miss is recorded on the
application, counted in ``/ops/sla`` and logged — never silent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx2
from lxml import etree

from connectors import AnswerNotTrusted, GatewayFault, ShepClient, TransportKey
from connectors.tracing import TraceLinks, continued
from simulators.elicensing.claims import DEFAULT_LEASE_SECONDS, Claims, seconds_until_free
from simulators.elicensing.facts import FactsUnavailable, gather, registry_answer
from simulators.elicensing.forms import PermitDraft
from simulators.elicensing.incidents import (
    DEFAULT_RETRY_DELAYS,
    DEFAULT_SUPPORT_AFTER_ATTEMPTS,
    Incidents,
)
from simulators.elicensing.messages import (
    KEDEN_SERVICE,
    MONITORING_SERVICE,
    PORTAL_SERVICE,
    SYSTEM_ID,
    document,
    message_id,
    parse_form,
    registration,
    stage_event,
)
from simulators.elicensing.records import Records, default_records
from simulators.elicensing.store import (
    Application,
    ApplicationStore,
    Outcome,
    StaleState,
    State,
    pending_flags,
)
from simulators.elicensing.verdicts import Judges, licence_verdict
from simulators.kit.clock import KZ_TIME, Clock
from simulators.kit.workers import IDLE_POLL_SECONDS, Rest, WorkerPool
from simulators.monitoring.payload import Stage
from simulators.support_desk.desk import SupportDesk

log = logging.getLogger(__name__)

WATCH_EVERY_SECONDS = 0.25  # idle workers read the whole register at most this often
TRANSIENT = (GatewayFault, AnswerNotTrusted, FactsUnavailable, httpx2.HTTPError, OSError)


@dataclass
class LicensingFlow:
    """ELICENSE's deciding workers: every due application decided once and delivered, resuming
    after restarts."""

    store: ApplicationStore
    client: ShepClient
    key: TransportKey
    clock: Clock
    records: Records = field(default_factory=default_records)
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS
    desk: SupportDesk | None = None
    support_after_attempts: int = DEFAULT_SUPPORT_AFTER_ATTEMPTS
    workers: int = 1
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    # The filing's trace, so that every hop of one application's flow lands in one trace.
    traces: TraceLinks = field(default_factory=TraceLinks, init=False)
    _pool: WorkerPool = field(init=False)
    _claims: Claims = field(init=False)
    _incidents: Incidents = field(init=False)
    _judges: Judges = field(init=False)
    _name: str = field(init=False)
    _watched_at: float = field(default=float("-inf"), init=False)
    _rest: Rest = field(default_factory=Rest, init=False)

    def __post_init__(self) -> None:
        # Unique among every process on the shared database: a claim names its holder.
        self._name = f"elicense@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._pool = WorkerPool(self._name, self._work, self.clock, self.workers)
        self._claims = Claims(self.store, self.lease_seconds)
        self._incidents = Incidents(
            self.store, self.clock, self.retry_delays, self.desk, self.support_after_attempts
        )
        self._judges = Judges(self.key, self.clock)

    # --- the workers --------------------------------------------------------------------------

    def wake(self) -> None:
        """New work (intake) or a changed world: look at the register now."""
        self._pool.wake()

    def start(self) -> None:
        self._pool.start()

    async def stop(self) -> None:
        """Stop the workers; a worker stopped mid-step lets its claim go, and the application is
        resumed from the store by the next worker (a crashed process's claim expires instead)."""
        await self._pool.stop()

    async def run_once(self) -> datetime | None:
        """One pass over the register by one worker (tests, the CLI): every due application it
        can claim, in order; the next business moment worth waking up for."""
        worker = f"{self._name}-once"
        while await self._claim_and_work(worker):
            pass
        return (await self._watch()).until

    async def _work(self, worker: str) -> Rest | None:
        """A pool worker's pass: one claimed application; the register watched now and then."""
        loop = asyncio.get_running_loop()
        if await self._claim_and_work(worker):
            if loop.time() - self._watched_at >= IDLE_POLL_SECONDS:
                await self._watch()
            return None
        if loop.time() - self._watched_at < WATCH_EVERY_SECONDS:
            return self._rest  # a wake reaches every worker: one of them reads the register
        return await self._watch()

    async def _claim_and_work(self, worker: str) -> bool:
        app = await self._claims.claim(worker, self.clock.now())
        if app is None:
            return False
        values: dict[str, Any] = {}
        retry_in = None
        try:
            with continued(self.traces.of(app.number), "ELICENSE flow", application=app.number):
                async with self._claims.held(app.number, worker):
                    await self.advance(app)
        except TRANSIENT as error:
            retry_in, values = await self._incidents.failed(app, error)
        else:
            await self._incidents.succeeded(app)
        finally:  # any other error too: the claim is let go, the next pass retries
            await self._claims.release(app.number, worker, retry_in=retry_in, **values)
        return True

    async def _watch(self) -> Rest:
        """Record missed deadlines (also of applications nobody can move now); how long to rest:
        until the next registration or deadline, or a claim or backoff expires."""
        self._watched_at = asyncio.get_running_loop().time()
        now = self.clock.now()
        unfinished = await self.store.unfinished()
        moments: list[datetime] = []
        for app in unfinished:
            if not app.missed and app.completed_at is None and now > app.deadline:
                await self.store.update(app.number, missed=True)
                log.error(
                    "ELICENSE %s missed its deadline %s", app.number, app.deadline.isoformat()
                )
            moments.append(app.registered_at if app.registered_at > now else app.deadline)
        free_in = seconds_until_free([a for a in unfinished if a.registered_at <= now])
        until = min((m for m in moments if m > now), default=None)
        self._rest = Rest(until, min(IDLE_POLL_SECONDS, free_in if free_in is not None else 1e9))
        return self._rest

    # --- the steps ----------------------------------------------------------------------------

    async def advance(self, app: Application) -> Application:
        """Take ``app`` as far as it goes: registered stage, decision, deliveries, DELIVERED."""
        app = await self._stage_once(app, "stage_registered", Stage.REGISTERED, app.registered_at)
        if app.state is State.REGISTERED:
            app = await self.decide_step(app)
        return await self.deliver_step(app)

    async def decide_step(self, app: Application) -> Application:
        """REGISTERED → DECIDED: facts, decision, the signed document, stored in one step."""
        if app.in_work_at is None:
            app = await self._mark(app, in_work_at=self.clock.now())
        app = await self._stage_once(app, "stage_in_work", Stage.IN_WORK, app.in_work_at)
        form = parse_form(app)
        registered_on = app.registered_at.astimezone(KZ_TIME).date()
        if isinstance(form, PermitDraft):
            registry = await registry_answer(self.client, form)  # PR p.4 ¶2
            judge = self._judges.permit(app, form, registry, registered_on)
        else:
            filed_on = app.filed_at.astimezone(KZ_TIME).date()
            facts = await gather(self.client, form, registered_on, self.records, filed_on=filed_on)
            judge = self._judges.licence(form, facts, registered_on)
        try:
            decided = await self.store.decide(app.number, judge)
        except StaleState:
            return await self.store.get(app.number) or app
        log.info("ELICENSE %s %s: %s", app.number, decided.outcome, decided.document_number)
        return decided

    async def deliver_step(self, app: Application) -> Application:
        """Send what is not acknowledged yet; DELIVERED once every target has it."""
        # IN_WORK again: a crash may have come between the decision and that stage's ack.
        app = await self._stage_once(app, "stage_in_work", Stage.IN_WORK, app.in_work_at)
        decided_stage = Stage.ISSUED if app.outcome is Outcome.ISSUED else Stage.REFUSED
        app = await self._stage_once(app, "stage_decided", decided_stage, app.decided_at)
        if not app.sent_portal:
            app = await self._send(app, "sent_portal", PORTAL_SERVICE, document(app))
        if app.outcome is Outcome.ISSUED and not app.sent_keden:
            app = await self._send(app, "sent_keden", KEDEN_SERVICE, registration(app))
        if app.completed_at is None:
            app = await self._complete(app)
        app = await self._stage_once(app, "stage_delivered", Stage.DELIVERED, app.completed_at)
        if not pending_flags(app):
            app = await self._mark(app, state=State.DELIVERED.value)
        return app

    async def _complete(self, app: Application) -> Application:
        now = self.clock.now()
        missed = app.missed or now > app.deadline
        if missed:
            log.error(
                "ELICENSE %s completed at %s after its deadline %s", app.number, now, app.deadline
            )
        return await self._mark(app, completed_at=now, missed=missed)

    # --- sending ------------------------------------------------------------------------------

    async def _stage_once(
        self, app: Application, flag: str, stage: Stage, occurred_at: datetime | None
    ) -> Application:
        """Report ``stage`` to MONITORING unless ``flag`` says it was; ``app`` as it now stands."""
        if getattr(app, flag):
            return app
        event = stage_event(app, stage, occurred_at)
        return await self._send(
            app, flag, MONITORING_SERVICE, event, purpose=f"stage-{stage.value}"
        )

    async def _send(
        self,
        app: Application,
        flag: str,
        service: str,
        payload: etree._Element,
        *,
        purpose: str | None = None,
    ) -> Application:
        request = self.client.async_request(
            service, payload, message_id=message_id(app.number, purpose or service)
        )
        await self.client.send_async(request)  # raises on any refusal: no flag without an ack
        return await self._mark(app, **{flag: True})

    async def _mark(self, app: Application, **values: Any) -> Application:
        return await self.store.update(app.number, **values) or app


__all__ = [
    "DEFAULT_RETRY_DELAYS",
    "KEDEN_SERVICE",
    "MONITORING_SERVICE",
    "PORTAL_SERVICE",
    "SYSTEM_ID",
    "TRANSIENT",
    "LicensingFlow",
    "licence_verdict",
    "message_id",
]
