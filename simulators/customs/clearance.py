"""KEDEN's customs clearance of paperless export declarations (F6, seed 004 Annex 5).

``Clearance`` is the declaration desk. ``file`` forms a declaration (``clearance_intake``); the
worker (``run_once``, or ``start`` for a background task) then acts as the customs official:
registers (or refuses registration) — late registrations are flagged, counted and logged, never
silent —, runs the risk system (para 8(2), process 9), releases or refuses (para 8(3), process 10)
writing quantities off the customs records exactly once; ``deliver`` (``clearance_delivery``)
sends each status to the declarant's cabinet as an authorised message signed with the official's
**personal** key, and each write-off to E-licensing, each exactly once to its receiver.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from connectors import ShepClient, TransportKey
from simulators.customs.clearance_delivery import OFFICIAL_ID, Deliveries
from simulators.customs.clearance_intake import Intake
from simulators.customs.declaration_rows import Declaration
from simulators.customs.declaration_store import DeclarationStore, StaleDeclaration
from simulators.customs.declarations import (
    EXAMINATION_EXTRA_DAYS,
    RELEASE_TERM,
    ControlResult,
    DeclarationStatus,
    Reason,
)
from simulators.customs.formation import (
    PermitGoods,
    record_problem,
)
from simulators.customs.registers import Registers
from simulators.customs.risk import RiskProfile
from simulators.customs.store import RecordStore
from simulators.kit.calendar import WorkingCalendar
from simulators.kit.clock import Clock
from simulators.kit.payloads import field_text
from simulators.kit.workers import Rest, WorkerPool
from simulators.tax.customs_account import build_debit_request

log = logging.getLogger(__name__)

DEBIT_SERVICE = "KgdCustomsPaymentDebit_v1"
# [design] The customs payments of a declaration: a flat customs fee for customs operations.
# Seed 004 names no amounts, and the simulated export goods bear no export duty; a setting.
CUSTOMS_FEE = Decimal("20000.00")
CUSTOMS_FEE_PURPOSE = "CUSTOMS_FEE_EXPORT_DECLARATION"


class OfficerActionRefused(Exception):
    """An officer's action the declaration's state does not allow."""


@dataclass
class Clearance(Intake, Deliveries):
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
    _pool: WorkerPool = field(init=False)

    def __post_init__(self) -> None:
        # One worker: the official's steps on a declaration go in order.
        self._pool = WorkerPool("keden-clearance", self._work, self.clock)

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
        self._pool.wake()

    def start(self) -> None:
        self._pool.start()

    async def stop(self) -> None:
        await self._pool.stop()

    async def _work(self, worker: str) -> Rest:
        await self.run_once()
        return Rest()

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
        deadline = self.calendar.add_working_time(d.registered_at, RELEASE_TERM)
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


__all__ = ["Clearance", "OfficerActionRefused"]
