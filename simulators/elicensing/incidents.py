"""Failures of ELICENSE's flow: the backoff before a retry, alarms, the support desk (LR p.8).

A failure (a provider down → ``GatewayFault`` ``Server.Provider.*``, the broker unavailable, the
gateway unreachable) leaves the application for a retry after a backoff (real seconds: it is a
transport matter, like the gateway's own redelivery delays). Past ``support_after_attempts``
failures in a row it is an incident of the IS: the operator's support desk gets one notice with
the fields of LR p.8 / PR p.7 (``simulators.support_desk``), resolved when the step succeeds. A
fee that cannot be judged because KGD has no MRP of its year is an alarm at once (on the
application, in ``/ops/sla``, in the log and at the support desk).

The counts are this process's (shared by its workers: a claim gives one application to one
worker at a time); the attempts, errors and alarms are on the application in the store.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simulators.elicensing.messages import SYSTEM_ID
from simulators.elicensing.store import Application, ApplicationStore, Kind
from simulators.elicensing.verdicts import MrpUnavailable
from simulators.kit.clock import Clock
from simulators.support_desk.desk import Notice, SupportDesk

log = logging.getLogger(__name__)

DEFAULT_RETRY_DELAYS: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)
DEFAULT_SUPPORT_AFTER_ATTEMPTS = 3
# The state services' names as the rules title them: the first field of a support-desk notice.
SERVICE_NAMES = {
    Kind.LICENCE: "Жекелеген тауар түрлерінің импортына және (немесе) экспортына лицензия беру",
    Kind.PERMIT: "Қазақстан Республикасының аумағында тауарлардың жекелеген түрлерінің "
    "экспортына және (немесе) импортына рұқсат беру",
}


@dataclass
class Incidents:
    """Failed attempts per application, and what they make of the support desk's day."""

    store: ApplicationStore
    clock: Clock
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS
    desk: SupportDesk | None = None
    # Failed attempts in a row before a failure counts as an incident of the IS (LR p.8): a
    # blip that one retry cures is no incident; a provider down past the budget is.
    support_after_attempts: int = DEFAULT_SUPPORT_AFTER_ATTEMPTS
    _first_failure: dict[str, datetime] = field(default_factory=dict, init=False)
    _failures: dict[str, int] = field(default_factory=dict, init=False)

    async def failed(self, app: Application, error: Exception) -> tuple[float, dict[str, Any]]:
        """(the backoff before the next attempt, the values to record on the application);
        the desk is notified once the failures make an incident."""
        count = self._failures.get(app.number, 0)
        delay = self.retry_delays[min(count, len(self.retry_delays) - 1)]
        self._failures[app.number] = count + 1
        self._first_failure.setdefault(app.number, self.clock.now())
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
        if alarm or count + 1 >= self.support_after_attempts:
            await self._report(current, values["last_error"])
        return delay, values

    async def succeeded(self, app: Application) -> None:
        """The step went through: the incident (if any) is resolved, the alarm cleared."""
        self._failures.pop(app.number, None)
        self._first_failure.pop(app.number, None)
        if not (app.attempts or app.alarm):
            return
        if self.desk is not None:
            await self.desk.resolve(SYSTEM_ID, app.number, self.clock.now())
        if app.alarm:
            await self.store.update(app.number, alarm=None)

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


__all__ = ["DEFAULT_RETRY_DELAYS", "SERVICE_NAMES", "Incidents"]
