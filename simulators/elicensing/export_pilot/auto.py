"""The automatic officer: unattended rehearsals of the desk on the business clock.

For each committee it plays the officers and the head: takes an application some working time
after it arrived, reviews it some working time later — approving when the machine's review found
no ground of Rules p.11, refusing on exactly the grounds found otherwise — and has the head sign
after a further think time. Think times are **working** time on the committees' calendar, so on a
virtual clock a weekend or a lunch break delays the officer as it would a person.

Settings (environment, read by ``AutoOfficerSettings.from_env``):

- ``KZGATE_EXPORT_PILOT_AUTO`` — ``on`` to run it (off by default: people use the desk);
- ``KZGATE_EXPORT_PILOT_AUTO_MODE`` — ``rules`` (default); ``hold-review`` (the officer takes
  but never reviews: rehearses a late review step); ``hold-signature`` (the head never signs);
- ``KZGATE_EXPORT_PILOT_AUTO_THINK`` — ``take=30m,review=2h,sign=1h`` (the defaults).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from connectors import GatewayError
from simulators.elicensing.export_pilot.desk import Desk
from simulators.elicensing.export_pilot.desk_faults import WRONG_STEP
from simulators.elicensing.export_pilot.forms import TerminationGround
from simulators.elicensing.export_pilot.goods import Committee
from simulators.elicensing.export_pilot.store import (
    PermitStatus,
    PilotApplication,
    State,
    applications,
)


class Mode(StrEnum):
    RULES = "rules"
    HOLD_REVIEW = "hold-review"
    HOLD_SIGNATURE = "hold-signature"


@dataclass(frozen=True)
class AutoOfficerSettings:
    enabled: bool = False
    mode: Mode = Mode.RULES
    take: timedelta = timedelta(minutes=30)
    review: timedelta = timedelta(hours=2)
    sign: timedelta = timedelta(hours=1)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> AutoOfficerSettings:
        env = os.environ if environ is None else environ
        think = parse_think(env.get("KZGATE_EXPORT_PILOT_AUTO_THINK", ""))
        return cls(
            enabled=env.get("KZGATE_EXPORT_PILOT_AUTO", "").lower() in {"1", "on", "true", "yes"},
            mode=Mode(env.get("KZGATE_EXPORT_PILOT_AUTO_MODE", "") or Mode.RULES),
            **think,
        )


_DURATION = re.compile(r"^(\d+)([mh])$")


def parse_think(text: str) -> dict[str, timedelta]:
    """``take=30m,review=2h,sign=1h`` → the think times given (ValueError on anything else)."""
    found = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        match = _DURATION.match(value.strip())
        if name.strip() not in {"take", "review", "sign"} or match is None:
            raise ValueError(f"think time {part!r}: use take=30m,review=2h,sign=1h")
        amount = int(match.group(1))
        found[name.strip()] = (
            timedelta(hours=amount) if match.group(2) == "h" else timedelta(minutes=amount)
        )
    return found


@dataclass
class AutoOfficer:
    desk: Desk
    settings: AutoOfficerSettings

    async def act(self) -> datetime | None:
        """Do every step whose think time has passed; the next moment worth waking for."""
        now = self.desk.clock.now()
        later: list[datetime] = []
        for app in await self.desk.queue():
            at = self._due(app)
            if at is None:
                continue
            if at > now:
                later.append(at)
                continue
            try:
                done = await self._do(app)
            except GatewayError as exc:  # a person at the desk did this step first: fine
                if exc.fault is not WRONG_STEP:
                    raise
            else:
                # the step just done starts the next one's think time: wake for it too, not
                # only at the next idle poll (a second of real time: minutes on a fast clock)
                if (following := self._due(done)) is not None:
                    later.append(following)
        await self._terminations_asked()
        return min(later, default=None)

    async def _terminations_asked(self) -> None:
        """The holder asked (Rules p.14 а): the committee's head terminates at once."""
        for app in await self.desk.store.all(applications.c.termination_requested.is_not(None)):
            if app.permit_status == PermitStatus.VALID.value:
                head = self.desk.staff[Committee(app.committee)].head.id
                reason = f"the holder's application: {app.termination_requested}"
                assert app.document_number is not None
                await self.desk.terminate(app.document_number, head, TerminationGround.A, reason)

    def _due(self, app: PilotApplication) -> datetime | None:
        calendar, s = self.desk.calendar, self.settings
        if app.state is State.RECEIVED:
            return calendar.add_working_time(app.received_at, s.take)
        if app.state is State.REGISTERED and app.registered_at and s.mode is not Mode.HOLD_REVIEW:
            return calendar.add_working_time(app.registered_at, s.review)
        if app.state is State.REVIEWED and app.reviewed_at and s.mode is not Mode.HOLD_SIGNATURE:
            return calendar.add_working_time(app.reviewed_at, s.sign)
        return None

    async def _do(self, app: PilotApplication) -> PilotApplication:
        """The due step of ``app``, done; the application after it."""
        staff = self.desk.staff[Committee(app.committee)]
        # officers share the work by application number, as a head of unit would assign it
        officer = staff.officers[int(app.number[-6:]) % len(staff.officers)].id
        if app.state is State.RECEIVED:
            return await self.desk.take(app.number, officer)
        if app.state is State.REGISTERED:
            reviewer = app.registered_by or officer
            if app.findings_list():
                return await self.desk.refuse(app.number, reviewer)
            return await self.desk.approve(app.number, reviewer)
        assert app.state is State.REVIEWED  # _due gives no moment for any other state
        return await self.desk.sign(app.number, staff.head.id)
