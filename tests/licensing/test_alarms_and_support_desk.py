"""An IS failure reaches the operator's support desk once per incident (LR p.8 / PR p.7), and a
missing MRP is an alarm, not a quiet retry until the deadline passes; across New Year the flow
decides in time when the MRP of the new year is set [seed 002]."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from connectors import parse_datetime
from simulators.elicensing.store import Outcome, State
from simulators.kit.clock import KZ_TIME
from simulators.tax.store import MRP_FILE_ENV
from tests.licensing.world import MONDAY_10, World, running_world
from tests.mrp import mrp_file
from tests.simulators.elicensing.samples import (
    IMPORTER,
    applicant,
    export_application,
    import_application,
)
from tests.waiting import eventually

UNPAID = "200640360888"  # ТОО «Семей Тері»: no licence fee in PEP's fixtures
NEW_YEARS_EVE_20 = datetime(2026, 12, 31, 20, 0, tzinfo=KZ_TIME)  # after hours
FIRST_WORKING_MORNING = datetime(2027, 1, 5, 9, 0, tzinfo=KZ_TIME)  # 1-4 Jan: holidays, weekend
MRP_2027_FOR_TESTS = 4500  # a made-up figure: no budget law has set the MRP of 2027 yet
MRP_2027 = {"year": 2027, "amount": MRP_2027_FOR_TESTS, "basis": "test value, not a budget law"}


async def test_gbdul_down_past_the_retry_budget_is_one_support_desk_notice(world: World) -> None:
    recovery = MONDAY_10 + timedelta(hours=2)
    window = {"start": MONDAY_10.isoformat(), "end": recovery.isoformat()}
    await world.ops_post("GBDUL", "/ops/faults", {"down": [window]})
    filed = await world.file(import_application(number=None))

    async def many_failures() -> bool:
        return (await world.application(filed.number)).attempts >= 8

    await eventually(many_failures)
    [notice] = await world.ops_get("ELICENSE", "/ops/support-desk")
    assert notice["recipient"] == "sd@nitec.kz"
    assert notice["serviceName"].endswith("лицензия беру")
    assert (notice["applicationNumber"], notice["applicantId"]) == (filed.number, IMPORTER)
    assert parse_datetime(notice["errorAt"]) == MONDAY_10 and notice["resolvedAt"] is None
    assert "Server.Provider" in notice["error"]
    assert any("registered as" in step for step in notice["steps"])
    sla = await world.harness.elicense.sla()
    assert sla["supportDesk"]["open"] == 1

    world.clock.set(recovery + timedelta(minutes=1))
    app = await world.delivered(filed.number)
    assert app.outcome is Outcome.ISSUED and not app.missed

    async def resolved() -> bool:  # the worker closes the incident once the pass succeeded
        return (await world.harness.elicense.sla())["supportDesk"]["open"] == 0

    await eventually(resolved)
    [closed] = await world.ops_get("ELICENSE", "/ops/support-desk")  # still the one notice
    assert closed["noticeId"] == notice["noticeId"] and closed["resolvedAt"] is not None


async def _new_years_eve_filing(world: World):
    """Filed 31.12.2026 20:00; the fee paid on the first working morning of 2027."""
    form = export_application(
        number=None, applicant=applicant(UNPAID), valid_from=FIRST_WORKING_MORNING.date()
    )
    filed = await world.file(form)
    assert filed.registered_at == FIRST_WORKING_MORNING
    world.clock.set(FIRST_WORKING_MORNING - timedelta(minutes=30))
    await world.pay_fee(UNPAID, f"{MRP_2027_FOR_TESTS * 10}.00", reference="FEE-2027-1")
    world.clock.set(FIRST_WORKING_MORNING)
    return filed


async def test_filed_on_new_years_eve_is_decided_in_january_by_its_deadline(
    licensing_pki: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MRP_FILE_ENV, str(mrp_file(tmp_path, last_year=2026, added=[MRP_2027])))
    async with running_world(licensing_pki, tmp_path, start=NEW_YEARS_EVE_20) as world:
        filed = await _new_years_eve_filing(world)
        app = await world.delivered(filed.number)
        assert app.outcome is Outcome.ISSUED, app.grounds
        assert app.completed_at <= filed.deadline and not app.missed and app.alarm is None
        assert await world.harness.elicense.support_notices() == []


async def test_without_the_mrp_of_2027_an_alarm_and_a_support_notice_not_a_silent_miss(
    licensing_pki: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MRP_FILE_ENV, str(mrp_file(tmp_path, last_year=2026)))
    async with running_world(licensing_pki, tmp_path, start=NEW_YEARS_EVE_20) as world:
        filed = await _new_years_eve_filing(world)

        async def alarmed() -> bool:
            app = await world.application(filed.number)
            return app.alarm is not None and bool(await world.harness.elicense.support_notices())

        await eventually(alarmed)
        app = await world.application(filed.number)
        assert app.state is State.REGISTERED and "KGD has no MRP of 2027" in app.alarm
        sla = await world.harness.elicense.sla()
        assert sla["alarms"] == [{"registrationNumber": filed.number, "alarm": app.alarm}]
        [notice] = sla["supportDesk"]["notices"]
        assert notice["applicationNumber"] == filed.number
        assert "KGD has no MRP of 2027" in notice["error"]
        assert parse_datetime(notice["errorAt"]) == FIRST_WORKING_MORNING
