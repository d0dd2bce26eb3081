"""The pilot's worker: the automatic officer (when on), lateness watch, and every delivery.

After the head signs, the result goes (Rules p.7, p.9; p.15 for a termination):

- to the applicant's cabinet (``PortalNotification_v1``): the ``TransportCertified`` decision;
- for a permit, to KEDEN (``KedenRegisterRecord_v1``): a customs record of kind EXPORT_PERMIT
  with the certified permit embedded — "displayed in the КЕДЕН IS" (p.7);
- stages to MONITORING (``MonitoringStage_v1``, Rules p.3): REGISTERED when an officer took it,
  IN_WORK when reviewed (the draft is with the head), ISSUED/REFUSED at signature, DELIVERED.

A termination goes to the cabinet and, as a ``CustomsRecordStatusChange`` TERMINATED with the
signed Annex 4 form, to KEDEN — after the permit's own registration there.

Each delivery carries a messageId derived from the document and purpose, and its flag is set only
after the gateway acknowledged it, so a crash or a retry resends only what is missing, and the
receivers' inboxes make a resend a no-op.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from connectors import ShepClient
from simulators.customs.models import (
    Contract as CustomsContract,
)
from simulators.customs.models import (
    Counterparty,
    CounterpartyRole,
    DocumentKind,
    GoodsItem,
    RecordContent,
    RecordStatus,
    TradeCountryRole,
    TradeType,
)
from simulators.customs.payload import StatusChange, build_registration, build_status_change
from simulators.elicensing.export_pilot import documents
from simulators.elicensing.export_pilot.auto import AutoOfficer
from simulators.elicensing.export_pilot.desk import Desk
from simulators.elicensing.export_pilot.forms import ExportPermit
from simulators.elicensing.export_pilot.store import PilotApplication, State, pending_deliveries
from simulators.elicensing.flow import TRANSIENT
from simulators.elicensing.messages import (
    KEDEN_SERVICE,
    MONITORING_SERVICE,
    PORTAL_SERVICE,
    SYSTEM_ID,
    message_id,
)
from simulators.kit.clock import KZ_TIME
from simulators.kit.workers import Rest, WorkerPool
from simulators.monitoring.payload import Stage, build_stage_event

log = logging.getLogger(__name__)


@dataclass
class PilotFlow:
    desk: Desk
    client: ShepClient
    auto: AutoOfficer | None = None
    retry_delays: Sequence[float] = (1.0, 5.0, 30.0)
    _retry_at: dict[str, float] = field(default_factory=dict, init=False)
    _failures: dict[str, int] = field(default_factory=dict, init=False)
    _pool: WorkerPool = field(init=False)

    def __post_init__(self) -> None:
        # One worker: the automatic officer's passes go in order on the virtual clock.
        self._pool = WorkerPool("export-pilot-flow", self._work, self.desk.clock)

    def wake(self) -> None:
        self._pool.wake()

    def start(self) -> None:
        self._pool.start()

    async def stop(self) -> None:
        await self._pool.stop()

    async def _work(self, worker: str) -> Rest:
        return Rest(until=await self.run_once())

    async def run_once(self) -> datetime | None:
        """One pass: the automatic officer's due steps, lateness, then every pending delivery."""
        moments: list[datetime] = []
        if self.auto is not None:
            if (at := await self.auto.act()) is not None:
                moments.append(at)
        else:
            await self.desk.queue()  # records late steps even when nobody opens the desk
        loop = asyncio.get_running_loop()
        for app in await self.desk.store.all():
            if not _has_work(app) or self._retry_at.get(app.number, 0.0) > loop.time():
                continue
            try:
                await self.deliver(app)
            except TRANSIENT as error:
                await self._failed(app, error)
            else:
                self._retry_at.pop(app.number, None)
                self._failures.pop(app.number, None)
        return min(moments, default=None)

    async def _failed(self, app: PilotApplication, error: Exception) -> None:
        count = self._failures.get(app.number, 0)
        self._failures[app.number] = count + 1
        delay = self.retry_delays[min(count, len(self.retry_delays) - 1)]
        self._retry_at[app.number] = asyncio.get_running_loop().time() + delay
        await self.desk.store.update(
            app.number, attempts=app.attempts + 1, last_error=f"{type(error).__name__}: {error}"
        )
        log.warning("export pilot %s: %s; retry in %.2f s", app.number, error, delay)

    # --- deliveries ---------------------------------------------------------------------------

    async def deliver(self, app: PilotApplication) -> PilotApplication:
        if app.registered_at is not None:
            app = await self._stage(app, "stage_registered", Stage.REGISTERED, app.registered_at)
        if app.reviewed_at is not None:
            app = await self._stage(app, "stage_in_work", Stage.IN_WORK, app.reviewed_at)
        if app.state in (State.SIGNED, State.DELIVERED):
            decided = Stage.ISSUED if app.outcome == "ISSUED" else Stage.REFUSED
            app = await self._stage(app, "stage_decided", decided, app.signed_at)
            document = _element(app.document_xml)
            if not app.sent_portal:
                app = await self._send(app, "sent_portal", PORTAL_SERVICE, document, "portal")
            if app.outcome == "ISSUED" and not app.sent_keden:
                registration = build_registration(customs_content(app), document)
                app = await self._send(app, "sent_keden", KEDEN_SERVICE, registration, "keden")
            if app.completed_at is None:
                app = await self.desk.store.update(app.number, completed_at=self.desk.clock.now())
            app = await self._stage(app, "stage_delivered", Stage.DELIVERED, app.completed_at)
            if app.state is State.SIGNED and not pending_deliveries(app):
                app = await self.desk.store.update(app.number, state=State.DELIVERED.value)
        if app.termination_xml and app.sent_keden:
            app = await self._terminations(app)
        return app

    async def _terminations(self, app: PilotApplication) -> PilotApplication:
        """Rules p.15: the signed termination to the cabinet and to KEDEN."""
        certified = _element(app.termination_xml)
        if not app.term_sent_portal:
            app = await self._send(
                app, "term_sent_portal", PORTAL_SERVICE, certified, "term-portal"
            )
        if not app.term_sent_keden:
            assert app.document_number and app.terminated_at and app.termination_number
            change = StatusChange(
                number=app.document_number,
                issuer=SYSTEM_ID,
                status=RecordStatus.TERMINATED,
                changed_on=app.terminated_at.astimezone(KZ_TIME).date(),
                reason=f"тоқтатылды: {app.termination_number}, Rules p.14 "
                f"{app.termination_ground})",
            )
            payload = build_status_change(change, certified)
            app = await self._send(app, "term_sent_keden", KEDEN_SERVICE, payload, "term-keden")
        # Rules p.3: the stages of the service go to the monitoring IS, its end included.
        return await self._stage(app, "term_stage_sent", Stage.TERMINATED, app.terminated_at)

    async def _stage(
        self, app: PilotApplication, flag: str, stage: Stage, at: datetime | None
    ) -> PilotApplication:
        if getattr(app, flag):
            return app
        comment = None
        if stage is Stage.TERMINATED:
            comment = (
                f"{app.document_number}: {app.termination_number}, ground {app.termination_ground}"
            )
        if stage is Stage.REFUSED:
            comment = "grounds " + ",".join(str(g["code"]) for g in app.grounds_list())
        event = build_stage_event(app.number, stage, SYSTEM_ID, at or app.received_at, comment)
        return await self._send(app, flag, MONITORING_SERVICE, event, f"stage-{stage.value}")

    async def _send(
        self, app: PilotApplication, flag: str, service: str, payload: Any, purpose: str
    ) -> PilotApplication:
        request = self.client.async_request(
            service, payload, message_id=message_id(app.number, f"pilot/{purpose}")
        )
        await self.client.send_async(request)  # raises on refusal: no flag without the ack
        return await self.desk.store.update(app.number, **{flag: True})


def _has_work(app: PilotApplication) -> bool:
    if app.registered_at is not None and not app.stage_registered:
        return True
    if app.reviewed_at is not None and not app.stage_in_work:
        return True
    if app.state is State.SIGNED:
        return True
    return bool(app.termination_xml) and not (
        app.term_sent_portal and app.term_sent_keden and app.term_stage_sent
    )


def _element(xml: str | None) -> etree._Element:
    assert xml is not None
    return etree.fromstring(xml.encode())  # the stored bytes: signatures stay valid


def customs_content(app: PilotApplication) -> RecordContent:
    """KEDEN's record of an issued pilot permit, field for field (Rules Annex 3)."""
    permit = documents.parse_decision(_element(app.document_xml))
    assert isinstance(permit, ExportPermit)
    goods, contract = permit.goods, permit.contract
    return RecordContent(
        number=permit.number,
        kind=DocumentKind.EXPORT_PERMIT,
        trade_type=TradeType.EXPORT,
        valid_from=permit.valid_from,
        valid_to=permit.valid_to,
        holder_id=permit.applicant.identifier,
        holder_name=permit.applicant.name or "",
        trade_country=permit.destination_country,
        trade_country_role=TradeCountryRole.DESTINATION,
        quantity=goods.quantity,  # type: ignore[arg-type]  # an issued permit has it (ground 4)
        unit=goods.unit or "",
        goods=(GoodsItem(goods.commodity_code or "", goods.description or ""),),
        issuer=SYSTEM_ID,
        issue_date=permit.issue_date,
        contract=CustomsContract(contract.number, contract.date, contract.other_document),
        counterparty=Counterparty(permit.buyer.name or "", CounterpartyRole.BUYER),
        counterparty_country=permit.buyer.country,
        currency=goods.currency,
        value=goods.value,
        statistical_value=goods.statistical_value,
        origin_country=goods.origin_country,
        additional_info=permit.additional_info.border_checkpoint,
    )
