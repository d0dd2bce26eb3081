"""An issued export permit's life (Rules p.14-16): terminated by its committee on grounds а-ж
(Annex 4 form, signed by the head), the holder's report on execution, and the reports past
due (the end of validity + 15 calendar days).
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from typing import Any

from lxml import etree

from connectors import GatewayError
from simulators.elicensing.export_pilot import documents
from simulators.elicensing.export_pilot.desk_faults import (
    GROUND_NOT_APPLICABLE,
    NOT_VALID,
    NOT_YOUR_COMMITTEE,
    WRONG_HOLDER,
)
from simulators.elicensing.export_pilot.documents import application_of
from simulators.elicensing.export_pilot.forms import (
    ExportPermitTermination,
    Signatory,
    TerminationGround,
)
from simulators.elicensing.export_pilot.goods import Committee
from simulators.elicensing.export_pilot.store import (
    PermitStatus,
    PilotApplication,
    State,
)
from simulators.kit.clock import KZ_TIME

__all__ = ["REPORT_DAYS", "PermitLife", "report_due"]

REPORT_DAYS = 15  # Rules p.16: calendar days after the permit's validity ends


class PermitLife:
    """An issued permit's life after the desk: termination by the issuing committee (Rules p.14),
    the holder's execution report (p.16) and the reports past due. A mixin of ``Desk``."""

    async def terminate(
        self, permit_number: str, by: str, grounds: TerminationGround, reasoning: str
    ) -> PilotApplication:
        """Rules p.14: the issuing committee terminates on grounds а-ж (Annex 4 form), signed
        by its head; p.15: it then goes to the cabinet and KEDEN (the flow sends it)."""
        app = await self.permit(permit_number)
        committee = Committee(app.committee)
        if self.committee_of(by) is not committee:
            raise GatewayError(NOT_YOUR_COMMITTEE, f"{by} is not of {committee.value}")
        if not reasoning.strip():
            raise GatewayError(GROUND_NOT_APPLICABLE, "a termination states its grounds")
        now = self.clock.now()
        today = now.astimezone(KZ_TIME).date()
        people = self.staff[committee]
        form = application_of(app)

        async def change(current: PilotApplication, counter: Any) -> dict[str, Any]:
            if current.permit_status != PermitStatus.VALID.value:
                raise GatewayError(NOT_VALID, f"{permit_number} is {current.permit_status}")
            sequence = await counter(f"pilot-termination-{today.year}")
            decision = ExportPermitTermination(
                authorized_body=committee,
                number=documents.termination_number(today.year, sequence),
                date=today,
                permit_number=permit_number,
                holder=form.applicant,
                ground=grounds,
                reasoning=reasoning,
                signed_by=Signatory(name=people.head.name, position=people.head.position),
            )
            signed = documents.sign_by_head(decision, self.head_keys[committee])
            certified = documents.certify(signed, self.system_key)
            return {
                "permit_status": PermitStatus.TERMINATED.value,
                "termination_number": decision.number,
                "termination_ground": grounds.value,
                "terminated_at": now,
                "termination_xml": etree.tostring(certified, encoding="unicode"),
            }

        return await self._step(app.number, (State.SIGNED, State.DELIVERED), change)

    async def record_report(self, permit_number: str, holder: str, xml: str) -> PilotApplication:
        """Rules p.16: the holder's report on execution; the first one counts."""
        app = await self.permit(permit_number)
        if app.applicant_id != holder:
            raise GatewayError(WRONG_HOLDER, f"{permit_number} is not held by {holder}")
        if app.report_at is not None:
            return app
        return await self.store.update(app.number, report_at=self.clock.now(), report_xml=xml)

    async def overdue_reports(self) -> list[dict[str, Any]]:
        """Permits whose execution report is past due (Rules p.16) and not received.

        Due = the end of validity + 15 calendar days. Reading: a terminated permit's validity
        ended on the termination day, so its report is due 15 days after that (the text says
        "after the permit's validity expires", and termination ends it).
        """
        today = self.clock.now().astimezone(KZ_TIME).date()
        overdue = []
        for app in await self.store.all():
            due = report_due(app)
            if due is not None and app.report_at is None and today > due:
                overdue.append(
                    {
                        "permitNumber": app.document_number,
                        "holder": app.applicant_id,
                        "committee": app.committee,
                        "validTo": app.valid_to,
                        "status": app.permit_status,
                        "reportDue": due.isoformat(),
                        "daysOverdue": (today - due).days,
                    }
                )
        return overdue


def report_due(app: PilotApplication) -> dt.date | None:
    if app.outcome != "ISSUED" or app.valid_to is None:
        return None
    ended = dt.date.fromisoformat(app.valid_to)
    if app.terminated_at is not None:
        ended = min(ended, app.terminated_at.astimezone(KZ_TIME).date())
    return ended + timedelta(days=REPORT_DAYS)
