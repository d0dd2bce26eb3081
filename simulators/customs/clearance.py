"""KEDEN's customs clearance of paperless export declarations (F6, seed 004 Annex 5).

``Clearance.file`` forms a declaration (process 4-5 and condition 2, L1122-1136): the exclusions
of para 1, the declarant identified in GBDUL/GBDFL and the permit documents of the declarant and
the goods asked of E-licensing — both through the gateway — and the registers of
representatives and carriers. A refusal to form is answered at once with every reason; a formed
declaration is stored SUBMITTED with its registration deadline (2 working hours, para 5(1)).

The worker (``run_once``, or ``start`` for a background task) then acts as the customs official:
registers (or refuses registration) — late registrations are flagged, counted and logged, never
silent —, runs the risk system (para 8(2), process 9), releases or refuses (para 8(3), process 10)
writing quantities off the customs records exactly once, and delivers each status to the
declarant's cabinet as an authorised message signed with the official's **personal** key, and
each write-off to E-licensing. Each delivery has a deterministic messageId and is flagged only
after the gateway's ack, so a restart resends and a receiver applies it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from lxml import etree
from pydantic import BaseModel

from connectors import ShepClient, TransportKey, sign_payload
from connectors.soap.values import child
from simulators.customs.declaration_payload import build_notice
from simulators.customs.declaration_rows import Declaration, Event
from simulators.customs.declaration_store import DeclarationStore, StaleDeclaration
from simulators.customs.declarations import (
    EXAMINATION_EXTRA_DAYS,
    REGISTRATION_TERM,
    RELEASE_TERM,
    ControlResult,
    Declarant,
    DeclarationStatus,
    ExportDeclaration,
    PermitDocument,
    PermitGoods,
    Reason,
    RiskProfile,
    add_working_time,
    exclusions,
    identification,
    permit_check,
    record_problem,
)
from simulators.customs.models import RecordStatus, TradeCountryRole, TradeType, customs_day
from simulators.customs.registers import RegisterKind, Registers
from simulators.customs.store import RecordStore
from simulators.elicensing.permit_query import (
    DOCUMENTS_SERVICE,
    EXECUTION_SERVICE,
    build_documents_request,
    build_execution_notice,
)
from simulators.individuals.payload import build_request as gbdfl_request
from simulators.kit.calendar import WorkingCalendar
from simulators.kit.clock import Clock
from simulators.kit.fixtures import load_json
from simulators.kit.identifiers import is_valid_bin
from simulators.kit.payloads import field_text
from simulators.kit.personal_keys import personal_key
from simulators.legal_entities.payload import build_request as gbdul_request
from simulators.monitoring.payload import Stage, build_stage_event
from simulators.tax.customs_account import build_debit_request

log = logging.getLogger(__name__)

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
GBDUL_SERVICE = "GbdulInfoByBin_v1"
GBDFL_SERVICE = "GbdflInfoByIin_v1"
DEBIT_SERVICE = "KgdCustomsPaymentDebit_v1"
# [design] The customs payments of a declaration: a flat customs fee for customs operations.
# Seed 004 names no amounts, and the simulated export goods bear no export duty; a setting.
CUSTOMS_FEE = Decimal("20000.00")
CUSTOMS_FEE_PURPOSE = "CUSTOMS_FEE_EXPORT_DECLARATION"
OFFICIAL_ID = "KEDEN-OFFICIAL-0001"  # the customs official of the simulated post (test PKI)
MESSAGE_NAMESPACE = uuid.UUID("0b7b1f8e-4f0c-5b8e-9d1e-3c2a7f6d5e41")
_ACTIVE_PERSON = {"ALIVE"}


class FactsMissing(Exception):
    """A state database answered without the payload KEDEN needs to form a declaration."""


class OfficerActionRefused(Exception):
    """An officer's action the declaration's state does not allow."""


def official_key(pki_dir: Path, official: str = OFFICIAL_ID) -> TransportKey:
    """The official's personal signing key from the test PKI, issued on first use.

    Seed 004 wants results "certified with the EDS of the provider's authorised official" (para 3,
    L1010-1016): a personal certificate, not KEDEN's system key.
    """
    return personal_key(pki_dir, official, role="authorised customs official")


class _PermitGoodsFile(BaseModel, frozen=True):
    why: str = ""
    prefixes: tuple[str, ...]


def default_permit_goods() -> PermitGoods:
    return PermitGoods(
        load_json(f"{__package__}.fixtures", "permit_goods.json", _PermitGoodsFile).prefixes
    )


@dataclass(frozen=True)
class Filing:
    """What forming a declaration gave: the declaration, or the reasons it was not formed."""

    declaration: Declaration | None
    duplicate: bool = False
    reasons: tuple[Reason, ...] = ()


@dataclass
class Clearance:
    """KEDEN's declaration desk: formation, the official's steps, deliveries."""

    store: DeclarationStore
    records: RecordStore
    client: ShepClient
    official: TransportKey
    clock: Clock
    calendar: WorkingCalendar
    registers: Registers
    permit_goods: PermitGoods
    risk: RiskProfile = field(default_factory=RiskProfile)
    official_id: str = OFFICIAL_ID
    customs_fee: Decimal = CUSTOMS_FEE
    formation_refusals: int = 0
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    # --- formation --------------------------------------------------------------------------

    async def file(
        self, declaration: ExportDeclaration, signature: Sequence[Reason] = ()
    ) -> Filing:
        """Form ``declaration``; ``signature``: what is wrong with the declarant's EDS on it."""
        reasons = exclusions(declaration) + list(signature)
        if not reasons:  # outside the paperless form nothing more is asked of other systems
            declarant = await self._identify(declaration.declarant_id)
            reasons += identification(declarant, declaration.declarant_id)
            reasons += self.registers.check(
                declaration.representative, RegisterKind.CUSTOMS_REPRESENTATIVE
            )
            reasons += self.registers.check(declaration.carrier, RegisterKind.CUSTOMS_CARRIER)
            documents = await self._permit_documents(declaration)
            now = self.clock.now()
            reasons += permit_check(
                declaration,
                documents,
                self.permit_goods,
                customs_day(now),
                await self.store.reserved(),
            )
            if not reasons:  # E-licensing agrees; KEDEN's own record must agree too
                reasons += await self._record_problems(declaration.permit_quantities(), now)
        if reasons:
            self.formation_refusals += 1
            log.info(
                "KEDEN refused to form %s of %s: %s",
                declaration.filing_reference,
                declaration.declarant_id,
                ", ".join(r.code for r in reasons),
            )
            return Filing(None, reasons=tuple(reasons))
        submitted_at = self.clock.now()
        deadline = add_working_time(self.calendar, submitted_at, REGISTRATION_TERM)
        stored, created = await self.store.submit(
            declaration, submitted_at=submitted_at, deadline=deadline
        )
        self.wake()
        return Filing(stored, duplicate=not created)

    async def _identify(self, identifier: str) -> Declarant:
        """Process 4: the declarant's requisites from GBDUL (BIN) or GBDFL (IIN)."""
        if is_valid_bin(identifier):
            answer = await self._answer(GBDUL_SERVICE, gbdul_request(identifier))
            subject, active = child(answer, "organization"), {"ACTIVE"}
        else:
            answer = await self._answer(GBDFL_SERVICE, gbdfl_request(identifier))
            subject, active = child(answer, "person"), _ACTIVE_PERSON
        if field_text(answer, "resultCode") != "FOUND" or subject is None:
            return Declarant(found=False)
        status = field_text(subject, "status")
        return Declarant(found=True, active=status in active, status=status)

    async def _permit_documents(self, declaration: ExportDeclaration) -> list[PermitDocument]:
        """Process 4: E-licensing's permit documents of the declarant and the declared goods."""
        codes = tuple(sorted({i.code for i in declaration.items}))
        answer = await self._answer(
            DOCUMENTS_SERVICE, build_documents_request(declaration.declarant_id, codes)
        )
        return [
            _permit_document(d)
            for d in answer.iterchildren(tag=etree.Element)
            if etree.QName(d).localname == "document"
        ]

    async def _answer(self, service: str, payload: etree._Element) -> etree._Element:
        result = await self.client.send(service, payload)
        data = result.response.data
        found = [] if data is None else list(data.iterchildren(tag=etree.Element))
        if not found:
            raise FactsMissing(f"{service} answered without a payload")
        return found[0]

    # --- the officer ------------------------------------------------------------------------

    async def record_control_result(
        self, number: str, officer: str, *, violations: bool, finding: str
    ) -> Declaration:
        """The officer's result of the examination / paper comparison the risk system ordered;
        a repeated result (a redelivered action) changes nothing."""
        declaration = await self.store.get(number)
        if declaration is None:
            raise OfficerActionRefused(f"no declaration {number}")
        if not any(f.needs_officer for f in declaration.control_forms):
            raise OfficerActionRefused(f"{number} needs no officer's result")
        if declaration.status is not DeclarationStatus.RISK_CHECK:
            return declaration  # decided already: the first result counted
        result = ControlResult(officer, violations, finding, self.clock.now())
        with contextlib.suppress(StaleDeclaration):  # decided meanwhile: the first one counted
            declaration = await self.store.record_control_result(number, result)
        self.wake()
        return declaration

    # --- the worker -------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="keden-clearance")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:  # a provider down or a busy database: the next pass retries
                log.exception("KEDEN clearance pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def run_once(self) -> None:
        """One pass: every open declaration as far as it can go, then the deliveries."""
        for declaration in await self.store.open():
            try:
                await self._advance(declaration)
            except StaleDeclaration:
                continue  # another pass moved it first
            except Exception:  # a provider down: this one waits, the others go on
                log.exception("KEDEN could not advance %s; retried next pass", declaration.number)
        await self.deliver()

    async def _advance(self, d: Declaration) -> None:
        now = self.clock.now()
        if d.status is DeclarationStatus.SUBMITTED:
            if now < self.calendar.registration_moment(d.submitted_at):
                return  # filed off-hours: the official registers in working time
            d = await self._register(d, now)
        if d.status is DeclarationStatus.REGISTERED:
            d = await self._assign_control(d)
        if d.status is DeclarationStatus.RISK_CHECK:
            await self._decide(d, now)

    async def _register(self, d: Declaration, now: datetime) -> Declaration:
        """Para 8(1): register within 2 working hours, or refuse registration with reasons.

        The conditions of art. 288(4) of the 2010 Customs Code are not in the seed (L1141-1145).
        UNCERTAIN reading [design]: the one KEDEN can check is that the documents the
        declaration relies on are still VALID with quantity left in its own records — a permit
        terminated, expired or written off since formation refuses registration.
        """
        late = now > d.registration_deadline
        if late:
            log.error(
                "KEDEN registers %s at %s, after its deadline %s",
                d.number,
                now.isoformat(),
                d.registration_deadline.isoformat(),
            )
        problems = await self._record_problems(d.permit_quantities(), now, ahead_of=d)
        if problems:
            return await self.store.refuse_registration(d.number, problems, late=late)
        return await self.store.register(
            d.number,
            late=late,
            text_="in the information system and the registration journal (Annex 5 para 8(1))",
        )

    async def _record_problems(
        self, quantities: Mapping[str, Decimal], now: datetime, ahead_of: Declaration | None = None
    ) -> list[Reason]:
        """Each cited document against KEDEN's own record, net of the declarations in work (at
        registration: those filed before this one)."""
        reserved = await self.store.reserved(ahead_of=ahead_of)
        problems = []
        for number, quantity in sorted(quantities.items()):
            record = await self.records.by_number(number)
            held = reserved.get(number, Decimal(0))
            problem = record_problem(number, quantity, record, now, held)
            if problem is not None:
                problems.append(problem)
        return problems

    async def _assign_control(self, d: Declaration) -> Declaration:
        """Para 8(2) / process 9: the risk system assigns the forms of customs control."""
        forms = self.risk.forms(d.number, (i.code for i in d.content.items))
        assert d.registered_at is not None
        deadline = add_working_time(self.calendar, d.registered_at, RELEASE_TERM)
        if any(f.needs_officer for f in forms):
            deadline = self.calendar.add_working_days(deadline, EXAMINATION_EXTRA_DAYS)
        return await self.store.start_control(d.number, forms, deadline)

    async def _decide(self, d: Declaration, now: datetime) -> None:
        """Para 8(3) / process 10: release, or refuse with reasons and remedies, before the
        release deadline; past it the lateness is flagged and logged, never silent."""
        if d.release_deadline is not None and now > d.release_deadline and not d.release_late:
            log.error(
                "KEDEN %s is past its release deadline %s", d.number, d.release_deadline.isoformat()
            )
            await self.store.mark_release_late(d.number)
        if d.customs_paid is None:
            unpaid = await self._debit(d)
            if unpaid is not None:
                await self.store.refuse_release(d.number, [unpaid])
                return
        if d.waits_for_officer:
            return
        result = d.control_result
        if result is not None and result.violations:
            await self.store.refuse_release(
                d.number,
                [
                    Reason(
                        "CONTROL_FOUND_VIOLATIONS",
                        f"customs control ({', '.join(f.value for f in d.control_forms)}) by "
                        f"{result.officer}: {result.finding}",
                        "Remove the discrepancy the officer found (correct the declaration or the "
                        "goods) and declare again.",
                    )
                ],
            )
            return
        checked = "documentary check" if result is None else f"{result.officer}: {result.finding}"
        await self.store.release(
            d.number, f"release of goods permitted (Annex 5 para 8(3)); control: {checked}"
        )

    async def _debit(self, d: Declaration) -> Reason | None:
        """Para 8(2) / process 9 (L1155-1158): the customs payments debited from the
        declarant's personal account at KGD — once per declaration, KGD sees to that."""
        answer = await self._answer(
            DEBIT_SERVICE,
            build_debit_request(
                d.content.declarant_id, d.number, self.customs_fee, CUSTOMS_FEE_PURPOSE
            ),
        )
        result = field_text(answer, "resultCode")
        if result in ("DEBITED", "ALREADY_DEBITED"):
            await self.store.mark_paid(d.number, self.customs_fee)
            return None
        return Reason(
            "CUSTOMS_PAYMENTS_NOT_PAID",
            f"the customs payments of {self.customs_fee} KZT could not be debited from the "
            f"personal account: {field_text(answer, 'resultMessage')} (Annex 5 para 8(2))",
            "Top up the personal account for customs payments and declare again.",
        )

    # --- deliveries -------------------------------------------------------------------------

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

    # --- figures ----------------------------------------------------------------------------

    async def report(self) -> dict[str, object]:
        """Counts for testers and ``/ops/declarations``: late registrations and releases too."""
        all_ = await self.store.all()
        by_status: dict[str, int] = {s.value: 0 for s in DeclarationStatus}
        for d in all_:
            by_status[d.status.value] += 1
        return {
            "now": self.clock.now().isoformat(),
            "total": len(all_),
            "byStatus": by_status,
            "formationRefusals": self.formation_refusals,
            "registrationLate": sum(1 for d in all_ if d.registration_late),
            "releaseLate": sum(1 for d in all_ if d.release_late),
            "waitingForOfficer": [d.number for d in all_ if d.waits_for_officer],
        }


def _permit_document(element: etree._Element) -> PermitDocument:
    codes = tuple((c.text or "").strip() for c in element if etree.QName(c).localname == "code")
    return PermitDocument(
        number=field_text(element, "number"),
        kind=field_text(element, "kind"),
        trade_type=TradeType(field_text(element, "type")),
        holder_id=field_text(element, "holderId"),
        codes=codes,
        trade_country=field_text(element, "tradeCountry"),
        trade_country_role=TradeCountryRole(field_text(element, "tradeCountryRole")),
        valid_from=date.fromisoformat(field_text(element, "validFrom")[:10]),
        valid_to=date.fromisoformat(field_text(element, "validTo")[:10]),
        status=RecordStatus(field_text(element, "status")),
        quantity=Decimal(field_text(element, "quantity")),
        remaining_quantity=Decimal(field_text(element, "remainingQuantity")),
        unit=field_text(element, "unit"),
    )


def _message_id(number: str, purpose: str) -> str:
    return str(uuid.uuid5(MESSAGE_NAMESPACE, f"{number}/{purpose}"))


__all__ = ["Clearance", "Filing", "official_key"]
