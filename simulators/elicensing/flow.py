"""The automated processing of E-licensing (F1 licences, F2 permits): no human in the loop.

A background worker takes every application not yet DELIVERED whose registration moment has come
(by the business clock) through three steps, each recorded in the store so that a restart resumes
where the last process stopped:

1. decide — gather the facts through the gateway (``facts.gather``), ``rules.decide``, build and
   sign the licence / refusal / permit with ELICENSE's key, store it (REGISTERED → DECIDED);
2. deliver — the signed document to the applicant's cabinet (EGOV_PORTAL
   ``PortalNotification_v1``), an issued document to KEDEN's customs records
   (``KedenRegisterRecord_v1``), the stages to MONITORING (``MonitoringStage_v1``);
3. done — every target acknowledged → DELIVERED.

Every message has a deterministic messageId (uuid5 of the application number and the purpose)
and the same content on a resend, so the gateway accepts a retry after a crash as the message it
already has: nothing reaches a receiver twice. A flag is set only after the gateway's ack.

A failure (a provider down → ``GatewayFault`` ``Server.Provider.*``, the broker unavailable, the
gateway unreachable) leaves the application for a retry after a backoff (real seconds: it is a
transport matter, like the gateway's own redelivery delays). Past ``support_after_attempts``
failures in a row it is an incident of the IS: the operator's support desk gets one notice with
the fields of LR p.8 / PR p.7 (``simulators.support_desk``), resolved when the step succeeds. A
fee that cannot be judged because KGD has no MRP of its year is an alarm at once (on the
application, in ``/ops/sla``, in the log and at the support desk). The 1-working-day deadline is
measured in business time; a miss is recorded on the application, counted in ``/ops/sla`` and
logged — never silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import httpx
from lxml import etree

from connectors import AnswerNotTrusted, GatewayFault, ShepClient, TransportKey
from gateway.observability.tracing import TraceLinks, continued
from simulators.customs.models import (
    Contract as CustomsContract,
)
from simulators.customs.models import (
    Counterparty as CustomsCounterparty,
)
from simulators.customs.models import (
    CounterpartyRole,
    DocumentKind,
    GoodsItem,
    RecordContent,
    TradeCountryRole,
)
from simulators.customs.models import TradeType as CustomsTradeType
from simulators.customs.payload import build_registration
from simulators.elicensing import documents
from simulators.elicensing.facts import FactsUnavailable, gather, registry_answer
from simulators.elicensing.forms import LicenceApplication, PermitDraft
from simulators.elicensing.records import QuotaCheck, Records, default_records
from simulators.elicensing.rules import (
    Decision,
    Facts,
    GroundCode,
    RegistryAnswer,
    decide,
    permit_registry_obstacles,
)
from simulators.elicensing.rules import Outcome as DecisionOutcome
from simulators.elicensing.store import (
    Application,
    ApplicationStore,
    Judge,
    Kind,
    Ledger,
    Outcome,
    QuotaDraw,
    StaleState,
    State,
    Verdict,
    pending_flags,
)
from simulators.kit.clock import KZ_TIME, Clock
from simulators.monitoring.payload import Stage, build_stage_event
from simulators.support_desk.desk import Notice, SupportDesk

log = logging.getLogger(__name__)

SYSTEM_ID = "ELICENSE"
PORTAL_SERVICE = "PortalNotification_v1"
KEDEN_SERVICE = "KedenRegisterRecord_v1"
MONITORING_SERVICE = "MonitoringStage_v1"
# uuid5 namespace of ELICENSE's outgoing messageIds (any fixed UUID: it only has to never change).
MESSAGE_NAMESPACE = uuid.UUID("6f1d3c1e-8a52-5d0e-9a63-2b0f6e4c7a11")
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)
DEFAULT_SUPPORT_AFTER_ATTEMPTS = 3
_COMMENT_LIMIT = 500  # a stage comment is a note for the monitoring screen, not the document
# The state services' names as the rules title them: the first field of a support-desk notice.
SERVICE_NAMES = {
    Kind.LICENCE: "Жекелеген тауар түрлерінің импортына және (немесе) экспортына лицензия беру",
    Kind.PERMIT: "Қазақстан Республикасының аумағында тауарлардың жекелеген түрлерінің "
    "экспортына және (немесе) импортына рұқсат беру",
}
IDLE_POLL_SECONDS = 1.0  # another instance may have registered work on the shared database
TRANSIENT = (GatewayFault, AnswerNotTrusted, FactsUnavailable, httpx.HTTPError, OSError)


class MrpUnavailable(FactsUnavailable):
    """KGD has no MRP for a year a fee payment was made in: the fee cannot be judged.

    Not a refusal (the applicant did nothing wrong) and not a transient fault that retrying
    cures by itself: the flow raises an alarm and notifies the support desk at once.
    """

    def __init__(self, years: Sequence[int]) -> None:
        self.years = tuple(years)
        super().__init__(f"KGD has no MRP of {', '.join(map(str, self.years))}")


async def consumed(ledger: Ledger, facts: Facts) -> Facts:
    """``facts`` with what earlier decisions consumed: used payments, the quota drawn down."""
    ids = [p.payment_id for p in facts.payments if p.payment_id]
    uses = await ledger.payment_uses(ids)
    payments = tuple(replace(p, used_by=uses.get(p.payment_id or "")) for p in facts.payments)
    quota = facts.quota
    if quota.key is not None and quota.remaining is not None:
        remaining = await ledger.quota_remaining(quota.key, quota.remaining)
        quota = replace(quota, remaining=remaining)
    return replace(facts, payments=payments, quota=quota)


async def licence_verdict(
    ledger: Ledger,
    form: LicenceApplication,
    facts: Facts,
    registered_on: dt.date,
    builder: Callable[[Decision], Callable[[int], dict[str, Any]]],
) -> Verdict:
    """The decision on what earlier decisions left (unused payments, the quota's balance), and
    what an issued licence consumes; ``builder(decision)`` makes the column values."""
    decision = decide(form, await consumed(ledger, facts))
    if GroundCode.R6 in decision.codes and decision.unknown_mrp_years:
        raise MrpUnavailable(decision.unknown_mrp_years)
    year = registered_on.year
    if decision.outcome is not DecisionOutcome.ISSUE:
        return Verdict(f"refusal-{year}", builder(decision))
    return Verdict(
        f"licence-{form.type.value}-{year}",
        builder(decision),
        fee_payment=decision.fee_payment,
        quota=_draw(form, facts.quota),
    )


def _draw(form: LicenceApplication, quota: QuotaCheck) -> QuotaDraw | None:
    """The quantity an issued licence takes from its quota (None for goods under no quota)."""
    if quota.key is None or quota.remaining is None or form.goods.quantity is None:
        return None
    return QuotaDraw(quota.key, quota.remaining, form.goods.quantity)


def message_id(application_number: str, purpose: str) -> str:
    """The messageId of one delivery: the same for every retry of it."""
    return str(uuid.uuid5(MESSAGE_NAMESPACE, f"{application_number}/{purpose}"))


def parse_form(app: Application) -> LicenceApplication | PermitDraft:
    element = etree.fromstring(app.application_xml.encode())
    if app.kind is Kind.PERMIT:
        return documents.parse_permit_draft(element)
    return documents.parse_application(element).model_copy(update={"number": app.number})


@dataclass
class LicensingFlow:
    """ELICENSE's worker: decides and delivers every due application, resuming after restarts."""

    store: ApplicationStore
    client: ShepClient
    key: TransportKey
    clock: Clock
    records: Records = field(default_factory=default_records)
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS
    desk: SupportDesk | None = None
    # Failed attempts in a row before a failure counts as an incident of the IS (LR p.8): a
    # blip that one retry cures is no incident; a provider down past the budget is.
    support_after_attempts: int = DEFAULT_SUPPORT_AFTER_ATTEMPTS
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _first_failure: dict[str, datetime] = field(default_factory=dict, init=False)
    _retry_at: dict[str, float] = field(default_factory=dict, init=False)
    _failures: dict[str, int] = field(default_factory=dict, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    # The filing's trace, so that every hop of one application's flow lands in one trace.
    traces: TraceLinks = field(default_factory=TraceLinks, init=False)

    # --- the worker ---------------------------------------------------------------------------

    def wake(self) -> None:
        """New work (intake) or a changed world: look at the register now."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self.run(), name="elicense-flow")

    async def stop(self) -> None:
        """Stop the worker; an application in flight is simply resumed by the next one."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                wake_at = await self.run_once()
            except Exception:  # the worker must outlive a bad database moment; retried next pass
                log.exception("ELICENSE flow pass failed")
                wake_at = None
            await self._wait(wake_at)

    async def run_once(self) -> datetime | None:
        """One pass over the register; the next business moment worth waking up for."""
        now = self.clock.now()
        moments: list[datetime] = []
        for app in await self.store.unfinished():
            await self._watch_deadline(app, now)
            if app.registered_at > now:
                moments.append(app.registered_at)
                continue
            moments.append(app.deadline)
            if self._retry_at.get(app.number, 0.0) <= asyncio.get_running_loop().time():
                await self._attempt(app)
        future = [m for m in moments if m > now]
        return min(future, default=None)

    async def _wait(self, wake_at: datetime | None) -> None:
        waits = [asyncio.ensure_future(self._wake.wait())]
        if wake_at is not None:
            waits.append(asyncio.ensure_future(self.clock.sleep_until(wake_at)))
        timeout = min([IDLE_POLL_SECONDS, *self._retry_delays_left()])
        try:
            await asyncio.wait(waits, timeout=max(timeout, 0.0), return_when="FIRST_COMPLETED")
        finally:
            for waiter in waits:
                waiter.cancel()

    def _retry_delays_left(self) -> list[float]:
        now = asyncio.get_running_loop().time()
        return [at - now for at in self._retry_at.values()]

    async def _attempt(self, app: Application) -> None:
        try:
            with continued(self.traces.of(app.number), "ELICENSE flow", application=app.number):
                await self.advance(app)
        except TRANSIENT as error:
            await self._failed(app, error)
        else:
            self._retry_at.pop(app.number, None)
            self._failures.pop(app.number, None)
            self._first_failure.pop(app.number, None)
            if app.attempts or app.alarm:
                await self._recovered(app)

    async def _failed(self, app: Application, error: Exception) -> None:
        count = self._failures.get(app.number, 0)
        delay = self.retry_delays[min(count, len(self.retry_delays) - 1)]
        self._failures[app.number] = count + 1
        self._first_failure.setdefault(app.number, self.clock.now())
        self._retry_at[app.number] = asyncio.get_running_loop().time() + delay
        current = await self.store.get(app.number) or app
        values: dict[str, Any] = {
            "attempts": current.attempts + 1,
            "last_error": f"{type(error).__name__}: {error}",
        }
        # A missing MRP is no outage that passes by itself: an alarm at once, never a quiet
        # retry until the deadline is missed (issue 13 item 5).
        alarm = isinstance(error, MrpUnavailable)
        if alarm:
            values["alarm"] = f"{error}: set it (KZGATE_KGD_MRP_FILE, restart KGD) and it resumes"
            log.error("ELICENSE %s ALARM: %s", app.number, values["alarm"])
        else:
            log.warning("ELICENSE %s: %s; retry in %.2f s", app.number, error, delay)
        await self.store.update(app.number, **values)
        if alarm or count + 1 >= self.support_after_attempts:
            await self._report(current, values["last_error"])

    async def _report(self, app: Application, error: str) -> None:
        """Notify the operator's support desk of this incident, once (LR p.8, PR p.7)."""
        if self.desk is None:
            return
        now = self.clock.now()
        failed_at = self._first_failure.get(app.number, now)
        steps = [f"{app.filed_at.isoformat()} filed through the portal"]
        steps.append(f"{app.registered_at.isoformat()} registered as {app.number}")
        if app.in_work_at is not None:
            steps.append(f"{app.in_work_at.isoformat()} taken into work")
        if app.document_number is not None:
            decided_at = app.decided_at.isoformat() if app.decided_at else "?"
            steps.append(f"{decided_at} decided: {app.outcome} {app.document_number}")
        steps.append(f"{failed_at.isoformat()} first failure: {error}")
        steps.append(f"{now.isoformat()} still failing after {app.attempts + 1} attempts")
        notice = Notice(
            provider=SYSTEM_ID,
            service_name=SERVICE_NAMES[app.kind],
            application_number=app.number,
            document_number=app.document_number,
            applicant_id=app.applicant_id,
            error_at=failed_at,
            reported_at=now,
            error=error,
            steps=tuple(steps),
        )
        if await self.desk.report(notice):
            log.error("ELICENSE %s: IS failure reported to %s", app.number, notice.recipient)

    async def _recovered(self, app: Application) -> None:
        if self.desk is not None:
            await self.desk.resolve(SYSTEM_ID, app.number, self.clock.now())
        if app.alarm:
            await self.store.update(app.number, alarm=None)

    async def _watch_deadline(self, app: Application, now: datetime) -> None:
        if not app.missed and app.completed_at is None and now > app.deadline:
            await self.store.update(app.number, missed=True)
            log.error("ELICENSE %s missed its deadline %s", app.number, app.deadline.isoformat())

    # --- the steps ----------------------------------------------------------------------------

    async def advance(self, app: Application) -> Application:
        """Take ``app`` as far as it goes: registered stage, decision, deliveries, DELIVERED."""
        await self._stage_once(app, "stage_registered", Stage.REGISTERED, app.registered_at)
        if app.state is State.REGISTERED:
            app = await self.decide_step(app)
        return await self.deliver_step(app)

    async def decide_step(self, app: Application) -> Application:
        """REGISTERED → DECIDED: facts, decision, the signed document, stored in one step."""
        if app.in_work_at is None:
            app = await self._mark(app, in_work_at=self.clock.now())
        await self._stage_once(app, "stage_in_work", Stage.IN_WORK, app.in_work_at)
        form = parse_form(app)
        registered_on = app.registered_at.astimezone(KZ_TIME).date()
        if isinstance(form, PermitDraft):
            registry = await registry_answer(self.client, form)  # PR p.4 ¶2
            judge = self._permit_judge(app, form, registry, registered_on)
        else:
            filed_on = app.filed_at.astimezone(KZ_TIME).date()
            facts = await gather(self.client, form, registered_on, self.records, filed_on=filed_on)
            judge = self._licence_judge(form, facts, registered_on)
        try:
            decided = await self.store.decide(app.number, judge)
        except StaleState:
            return await self.store.get(app.number) or app
        log.info("ELICENSE %s %s: %s", app.number, decided.outcome, decided.document_number)
        return decided

    def _permit_judge(
        self,
        app: Application,
        draft: PermitDraft,
        registry: RegistryAnswer,
        registered_on: dt.date,
    ) -> Judge:
        obstacles = permit_registry_obstacles(draft, registry)

        def build(sequence: int) -> dict[str, Any]:
            today = self.clock.now().astimezone(KZ_TIME).date()
            number = documents.permit_number(draft.type, registered_on.year, sequence)
            permit = documents.issue_permit(draft, number, today)
            return self._decided(Outcome.ISSUED, number, documents.build_permit(permit, self.key))

        def not_issued(sequence: int) -> dict[str, Any]:
            reason = "; ".join(obstacles)
            notice = documents.not_issued(
                draft,
                application_number=app.number,
                application_date=registered_on,
                date=self.clock.now().astimezone(KZ_TIME).date(),
                reason=reason,
            )
            element = documents.build_permit_not_issued(notice, self.key)
            return {**self._decided(Outcome.NOT_ISSUED, None, element), "reason": reason}

        async def judge(ledger: Ledger) -> Verdict:
            if obstacles:
                return Verdict(f"permit-not-issued-{registered_on.year}", not_issued)
            return Verdict(f"permit-{draft.type.value}-{registered_on.year}", build)

        return judge

    def _licence_judge(
        self, form: LicenceApplication, facts: Facts, registered_on: dt.date
    ) -> Judge:
        async def judge(ledger: Ledger) -> Verdict:
            return await licence_verdict(
                ledger,
                form,
                facts,
                registered_on,
                lambda d: self._licence_build(form, d, registered_on),
            )

        return judge

    def _licence_build(
        self, form: LicenceApplication, decision: Decision, registered_on: dt.date
    ) -> Callable[[int], dict[str, Any]]:
        year = registered_on.year

        def build(sequence: int) -> dict[str, Any]:
            today = self.clock.now().astimezone(KZ_TIME).date()
            if decision.outcome is DecisionOutcome.ISSUE:
                number = documents.licence_number(form.type, year, sequence)
                licence = documents.issue_licence(form, number, today)
                element = documents.build_licence(licence, self.key)
                return self._decided(Outcome.ISSUED, number, element)
            number = documents.refusal_number(year, sequence)
            refusal = documents.refuse(
                form, decision, number=number, date=today, application_date=registered_on
            )
            element = documents.build_refusal(refusal, self.key)
            values = self._decided(Outcome.REFUSED, number, element)
            return {**values, "grounds": ",".join(decision.codes)}

        return build

    def _decided(
        self, outcome: Outcome, number: str | None, element: etree._Element
    ) -> dict[str, Any]:
        return {
            "outcome": outcome.value,
            "document_number": number,
            "document_xml": etree.tostring(element, encoding="unicode"),
            "decided_at": self.clock.now(),
        }

    async def deliver_step(self, app: Application) -> Application:
        """Send what is not acknowledged yet; DELIVERED once every target has it."""
        # IN_WORK again: a crash may have come between the decision and that stage's ack.
        await self._stage_once(app, "stage_in_work", Stage.IN_WORK, app.in_work_at)
        decided_stage = Stage.ISSUED if app.outcome is Outcome.ISSUED else Stage.REFUSED
        await self._stage_once(app, "stage_decided", decided_stage, app.decided_at)
        if not app.sent_portal:
            app = await self._send(app, "sent_portal", PORTAL_SERVICE, self._document(app))
        if app.outcome is Outcome.ISSUED and not app.sent_keden:
            app = await self._send(app, "sent_keden", KEDEN_SERVICE, self._registration(app))
        if app.completed_at is None:
            app = await self._complete(app)
        await self._stage_once(app, "stage_delivered", Stage.DELIVERED, app.completed_at)
        app = await self.store.get(app.number) or app
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
    ) -> None:
        if getattr(app, flag):
            return
        comment = None
        if stage is Stage.REFUSED and app.grounds:
            comment = f"grounds {app.grounds}"
        elif stage is Stage.REFUSED and app.reason:
            comment = f"permit not issued: {app.reason}"[:_COMMENT_LIMIT]
        event = build_stage_event(
            app.number, stage, SYSTEM_ID, occurred_at or app.registered_at, comment
        )
        await self._send(app, flag, MONITORING_SERVICE, event, purpose=f"stage-{stage.value}")

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
        await self.store.update(app.number, **values)
        return await self.store.get(app.number) or app

    def _document(self, app: Application) -> etree._Element:
        # The stored bytes, unchanged: the signature stays valid and a resend has the same content.
        return etree.fromstring(app.document_xml.encode())

    def _registration(self, app: Application) -> etree._Element:
        element = self._document(app)
        if app.kind is Kind.PERMIT:
            issued: documents.Licence | documents.Permit = documents.parse_permit(element)
        else:
            issued = documents.parse_licence(element)
        return build_registration(customs_content(issued, app.kind), element)


def customs_content(doc: documents.Licence | documents.Permit, kind: Kind) -> RecordContent:
    """KEDEN's record of an issued licence or permit, field for field [F6]."""
    goods, contract, counterparty = doc.goods, doc.contract, doc.counterparty
    return RecordContent(
        number=doc.number,
        kind=DocumentKind(kind.value),
        trade_type=CustomsTradeType(doc.type.value),
        valid_from=doc.valid_from,
        valid_to=doc.valid_to,
        holder_id=doc.applicant.identifier,
        holder_name=doc.applicant.name or "",
        trade_country=doc.trade_country.country or "",
        trade_country_role=TradeCountryRole(doc.trade_country.role.value),
        quantity=goods.quantity,
        unit=goods.unit or "",
        goods=(GoodsItem(goods.commodity_code or "", goods.description or ""),),
        issuer=SYSTEM_ID,
        issue_date=doc.issue_date,
        contract=CustomsContract(contract.number, contract.date, contract.other_document),
        counterparty=CustomsCounterparty(
            counterparty.name or "", CounterpartyRole(counterparty.role.value)
        ),
        counterparty_country=counterparty.country,
        currency=goods.currency,
        value=goods.value,
        statistical_value=goods.statistical_value,
        origin_country=goods.origin_country,
        additional_info=doc.additional_info,
        basis=getattr(doc, "basis", None),
    )
