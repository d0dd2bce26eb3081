"""KEDEN's deliveries: each status of a declaration to the declarant's cabinet as an authorised
message signed with the customs official's **personal** key (seed 004 para 3), each status to
MONITORING as a stage, each write-off to E-licensing. Each delivery has a deterministic
messageId and is flagged only after the gateway's ack, so a restart resends and a receiver
applies it once.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from lxml import etree

from connectors import TransportKey, sign_payload
from simulators.customs.declaration_payload import build_notice
from simulators.customs.declaration_rows import Declaration, Event
from simulators.customs.declarations import (
    DeclarationStatus,
)
from simulators.elicensing.permit_query import (
    EXECUTION_SERVICE,
    build_execution_notice,
)
from simulators.kit.personal_keys import personal_key
from simulators.monitoring.payload import Stage, build_stage_event

__all__ = [
    "MESSAGE_NAMESPACE",
    "MONITORING_SERVICE",
    "MONITORING_STAGE",
    "OFFICIAL_ID",
    "PORTAL_SERVICE",
    "SYSTEM_ID",
    "Deliveries",
    "official_key",
]

# One logger for the whole clearance desk, as before it was split into modules.
log = logging.getLogger("simulators.customs.clearance")

PORTAL_SERVICE = "PortalNotification_v1"
MONITORING_SERVICE = "MonitoringStage_v1"
SYSTEM_ID = "KEDEN"
# The declaration's statuses as stages of a state service for the monitoring IS [design: the
# seed asks results be notified to "interested persons" (para 3); MONITORING is one of them].
MONITORING_STAGE = {
    DeclarationStatus.REGISTERED: Stage.REGISTERED,
    DeclarationStatus.RISK_CHECK: Stage.IN_WORK,
    DeclarationStatus.RELEASE_PERMITTED: Stage.ISSUED,
    DeclarationStatus.REGISTRATION_REFUSED: Stage.REFUSED,
    DeclarationStatus.RELEASE_REFUSED: Stage.REFUSED,
}
OFFICIAL_ID = "KEDEN-OFFICIAL-0001"  # the customs official of the simulated post (test PKI)
MESSAGE_NAMESPACE = uuid.UUID("0b7b1f8e-4f0c-5b8e-9d1e-3c2a7f6d5e41")


def official_key(pki_dir: Path, official: str = OFFICIAL_ID) -> TransportKey:
    """The official's personal signing key from the test PKI, issued on first use.

    Seed 004 wants results "certified with the EDS of the provider's authorised official" (para 3,
    L1010-1016): a personal certificate, not KEDEN's system key.
    """
    return personal_key(pki_dir, official, role="authorised customs official")


class Deliveries:
    """Each status to the declarant's cabinet and to MONITORING, each write-off to E-licensing.
    A mixin of ``Clearance``, whose store, client and official key it uses."""

    async def deliver(self) -> None:
        """Unsent statuses to the cabinet (signed by the official) and to MONITORING, write-offs
        to E-licensing. A receiver that is down is retried on the next pass; the statuses of one
        declaration keep their order (a later one waits for an earlier one that failed)."""
        stuck: set[str] = set()
        for event in await self.store.unsent_events():
            if event.number in stuck:
                continue
            try:
                await self._deliver_event(event)
            except Exception as error:  # the gateway or a receiver down: next pass resends
                stuck.add(event.number)
                log.warning(
                    "KEDEN %s status %s not delivered yet: %s", event.number, event.seq, error
                )
        for write_off in await self.store.write_offs():
            if write_off.reported_elicense:
                continue
            notice = build_execution_notice(
                write_off.record_number,
                write_off.declaration_number,
                write_off.quantity,
                write_off.unit,
                write_off.written_off_at,
            )
            try:
                await self.client.send(EXECUTION_SERVICE, notice)
            except Exception as error:  # E-licensing applies it once whenever it arrives
                log.warning(
                    "KEDEN write-off %s/%s not reported yet: %s",
                    write_off.declaration_number,
                    write_off.record_number,
                    error,
                )
                continue
            await self.store.mark_reported(write_off.declaration_number, write_off.record_number)

    async def _deliver_event(self, event: Event) -> None:
        if not event.sent_portal:
            declaration = await self.store.get(event.number)
            assert declaration is not None
            notice = event.notice or await self._sign_notice(declaration, event)
            request = self.client.async_request(
                PORTAL_SERVICE,
                etree.fromstring(notice.encode()),
                message_id=_message_id(event.number, f"status-{event.seq}"),
            )
            await self.client.send_async(request)
            await self.store.mark_sent(event.number, event.seq, "sent_portal")
        if not event.sent_monitoring:
            stage = MONITORING_STAGE.get(event.status)
            if stage is not None:  # SUBMITTED has no stage of its own: REGISTERED follows
                request = self.client.async_request(
                    MONITORING_SERVICE,
                    build_stage_event(event.number, stage, SYSTEM_ID, event.at, event.status.value),
                    message_id=_message_id(event.number, f"stage-{event.seq}"),
                )
                await self.client.send_async(request)
            await self.store.mark_sent(event.number, event.seq, "sent_monitoring")

    async def _sign_notice(self, declaration: Declaration, event: Event) -> str:
        forms = declaration.control_forms if event.status is DeclarationStatus.RISK_CHECK else ()
        element = build_notice(declaration, event, self.official_id, forms)
        sign_payload(element, self.official)
        text = etree.tostring(element, encoding="unicode")
        await self.store.set_notice(event.number, event.seq, text)
        # Another pass may have signed first: send what is stored, so every resend is identical.
        stored = [e for e in await self.store.events_of(event.number) if e.seq == event.seq]
        return stored[0].notice or text


def _message_id(number: str, purpose: str) -> str:
    return str(uuid.uuid5(MESSAGE_NAMESPACE, f"{number}/{purpose}"))
