"""The automatic officer on the virtual clock: 50 applications filed over three days (some
off-hours, some with refusal grounds) are each registered, reviewed and signed within the terms
of Rules p.9 and within 5 working days of registration.

The registry look-ups go through the gateway; filing goes straight to ELICENSE's intake and the
deliveries of the signed results are left to the worker's own tests (test_desk_flow, where both
cross the gateway), so that 50 applications take seconds."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pytest

from simulators.elicensing.export_pilot import documents
from simulators.elicensing.export_pilot.auto import (
    AutoOfficer,
    AutoOfficerSettings,
    Mode,
    parse_think,
)
from simulators.elicensing.export_pilot.forms import Consent
from simulators.elicensing.export_pilot.goods import Annex
from simulators.elicensing.export_pilot.samples import sample_application
from simulators.elicensing.export_pilot.store import State
from simulators.kit.calendar import EXPORT_PILOT_HOURS, WorkingCalendar
from simulators.kit.clock import KZ_TIME
from tests.export_pilot.world import PilotWorld

MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=KZ_TIME)


def test_think_times_are_working_time_on_the_committees_calendar() -> None:
    calendar = WorkingCalendar(EXPORT_PILOT_HOURS)
    friday_17 = dt.datetime(2026, 11, 27, 17, 0, tzinfo=KZ_TIME)
    # 30 min left on Friday, the weekend and Monday's lunch 12:30-14:30 count nothing
    assert calendar.add_working_time(friday_17, timedelta(hours=4, minutes=30)) == dt.datetime(
        2026, 11, 30, 15, 0, tzinfo=KZ_TIME
    )
    assert parse_think("take=45m, review=3h") == {
        "take": timedelta(minutes=45),
        "review": timedelta(hours=3),
    }


async def test_fifty_applications_each_within_five_working_days(pilot: PilotWorld) -> None:
    await pilot.pilot.flow.stop()  # the test drives the officer pass by pass on the clock
    settings = AutoOfficerSettings(
        enabled=True, take=timedelta(hours=3), review=timedelta(hours=6), sign=timedelta(hours=4)
    )
    officer = AutoOfficer(pilot.pilot.desk, settings)
    clock = pilot.world.clock
    numbers, refused_expected = [], set()
    for i in range(50):
        clock.set(MONDAY_10 + i * timedelta(minutes=83))  # Mon 10:00 → Thu 07:47, nights too
        annex = list(Annex)[i % 3]
        changes = {"consent": Consent(given=False)} if i % 10 == 7 else {}
        form = sample_application(annex, pilot.today, quantity=str(i + 1), **changes)
        # ELICENSE's intake itself (test_desk_flow files through the gateway): 50 SOAP round
        # trips would only measure the gateway
        receipt = await pilot.pilot.submit(form, documents.build(form))
        number = receipt.findtext("applicationNumber")
        numbers.append(number)
        if changes:
            refused_expected.add(number)
        await officer.act()
    for _ in range(400):  # from one think-time moment to the next
        next_moment = await officer.act()
        if next_moment is None:
            break
        clock.set(next_moment)
    apps = {a.number: a for a in await pilot.pilot.desk.store.all()}
    assert set(apps) == set(numbers)
    assert all(a.state is State.SIGNED for a in apps.values())
    for app in apps.values():
        assert app.registered_at <= app.due_registration, app.number
        assert app.reviewed_at <= app.due_review, app.number
        assert app.signed_at <= app.due_signature, app.number
        assert app.signed_at <= app.due_total, app.number  # 5 WD from registration
        assert app.late_steps == ()
    refused = {n for n, a in apps.items() if a.outcome == "REFUSED"}
    assert refused == refused_expected and len(refused) == 5
    assert all(apps[n].grounds_list()[0]["code"] == 3 for n in refused)  # no consent: ground 3
    issued = [a for a in apps.values() if a.outcome == "ISSUED"]
    assert len(issued) == 45
    assert {a.committee for a in issued} == {"INDUSTRY", "TELECOM", "CIVIL_AVIATION"}
    assert len({a.document_number for a in issued}) == 45  # no number handed out twice


@pytest.mark.parametrize(
    ("mode", "held_in", "late_step"),
    [
        (Mode.HOLD_REVIEW, State.REGISTERED, "review"),
        (Mode.HOLD_SIGNATURE, State.REVIEWED, "signature"),
    ],
)
async def test_a_held_step_waits_and_its_lateness_shows(
    pilot: PilotWorld, mode: Mode, held_in: State, late_step: str
) -> None:
    await pilot.pilot.flow.stop()  # the test drives the officer pass by pass on the clock
    officer = AutoOfficer(pilot.pilot.desk, AutoOfficerSettings(enabled=True, mode=mode))
    clock = pilot.world.clock
    form = sample_application(Annex.TELECOM, pilot.today)
    receipt = await pilot.pilot.submit(form, documents.build(form))
    number = receipt.findtext("applicationNumber")
    for _ in range(10):
        next_moment = await officer.act()
        if next_moment is None:  # nothing left the officer would do: the held step waits
            break
        clock.set(next_moment)
    app = await pilot.app(number)
    assert app.state is held_in and app.signed_at is None
    due = app.due_review if late_step == "review" else app.due_signature
    clock.set(due + timedelta(minutes=1))
    assert await officer.act() is None and (await pilot.app(number)).state is held_in
    late = await pilot.pilot.desk.watch(await pilot.app(number))
    assert late.late_steps == (late_step,)  # the earlier steps were on time
