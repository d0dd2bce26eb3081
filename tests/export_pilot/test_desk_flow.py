"""F3 end to end through the gateway: portal → committee desk (officer, head) → cabinet, KEDEN,
MONITORING; scope refusals as SOAP faults; step lateness; termination reaching KEDEN."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from pathlib import Path

import pytest
from signxml import XMLVerifier

from connectors import GatewayFault, parse_datetime
from simulators.customs.models import DocumentKind, RecordStatus
from simulators.elicensing.export_pilot import documents
from simulators.elicensing.export_pilot.forms import ExportPermit, ExportPermitTermination
from simulators.elicensing.export_pilot.goods import Annex
from simulators.elicensing.export_pilot.samples import sample_application
from simulators.kit.clock import KZ_TIME
from tests.export_pilot.world import PilotWorld
from tests.licensing.world import MONDAY_10, running_world
from tests.waiting import eventually

MONDAY = MONDAY_10.date()


async def test_an_industry_permit_is_signed_by_the_head_and_reaches_cabinet_and_keden(
    pilot: PilotWorld,
) -> None:
    number, permit_number = await pilot.issue(Annex.INDUSTRY)
    [certified] = await pilot.cabinet()
    # the head's personal certificate, as the test PKI issued it (pki/personal/)
    head_pem = (pilot.world.harness.pki_dir / "personal" / "head-industry.pem").read_bytes()
    XMLVerifier().verify(documents.decision_in(certified), x509_cert=head_pem)
    permit = documents.parse_decision(certified)
    assert isinstance(permit, ExportPermit) and permit.number == permit_number
    assert permit.number.startswith("KZ-TMD-IND-2026-")
    assert permit.valid_to == dt.date(2026, 12, 31)  # Rules p.10: the calendar year of issue
    assert permit.signed_by.name == "Серік Жұмабаев"
    record = await pilot.world.keden_record(permit_number)
    assert record is not None and record.content.kind is DocumentKind.EXPORT_PERMIT
    assert record.status is RecordStatus.VALID and record.content.trade_country == "RU"
    stages = await pilot.world.stages(number)
    assert sorted(stages) == sorted(["REGISTERED", "IN_WORK", "ISSUED", "DELIVERED"])
    status = await pilot.status(number)
    assert status.findtext("permitStatus") == "VALID"
    assert [s.findtext("late") for s in status.findall("step")] == ["false"] * 4


async def test_termination_reaches_cabinet_and_keden_as_tokhtatyldy(pilot: PilotWorld) -> None:
    number, permit_number = await pilot.issue(Annex.TELECOM)
    head = pilot.pilot.desk.staff[Annex.TELECOM.committee].head.id
    done = await pilot.desk(
        "POST",
        f"/desk/permits/{permit_number}/terminate",
        by=head,
        ground="ж",
        reasoning="сот шешімі № 2-123/2026",
    )
    assert done.status_code == 200 and done.json()["permitStatus"] == "TERMINATED"

    async def terminated_in_keden() -> bool:
        record = await pilot.world.keden_record(permit_number)
        return record is not None and record.status is RecordStatus.TERMINATED

    await eventually(terminated_in_keden)
    record = await pilot.world.keden_record(permit_number)
    assert record is not None and "тоқтатылды" in (record.status_reason or "")
    certified = (await pilot.cabinet(at_least=2))[-1]
    termination = documents.parse_decision(certified)
    assert isinstance(termination, ExportPermitTermination)
    assert (termination.permit_number, termination.status) == (permit_number, "тоқтатылды")
    status = await pilot.status(number)
    assert status.findtext("permitStatus") == "тоқтатылды"

    async def stage_reached_monitoring() -> bool:
        return "TERMINATED" in await pilot.world.stages(number)

    await eventually(stage_reached_monitoring)  # Rules p.3: the monitoring IS sees the end too
    again = await pilot.desk(
        "POST", f"/desk/permits/{permit_number}/terminate", by=head, ground="а", reasoning="x"
    )
    assert again.status_code == 409 and again.json()["code"] == "Client.ExportPilot.PermitNotValid"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"destination_country": "CN"}, "Client.ExportPilot.DestinationNotCis"),
        ({"code": "0101210000"}, "Client.ExportPilot.GoodsNotListed"),
    ],
)
async def test_an_export_needing_no_pilot_permit_is_a_fault_naming_why(
    pilot: PilotWorld, changes: dict[str, str], code: str
) -> None:
    form = sample_application(Annex.INDUSTRY, pilot.today)
    if "code" in changes:
        goods = form.goods.model_copy(update={"commodity_code": changes.pop("code")})
        form = form.model_copy(update={"goods": goods})
    form = form.model_copy(update=changes)
    with pytest.raises(GatewayFault) as fault:
        await pilot.file(form)
    assert code in str(fault.value)
    assert await pilot.pilot.desk.store.all() == []


async def test_an_officer_who_misses_the_review_step_makes_it_late(pilot: PilotWorld) -> None:
    receipt = await pilot.file(sample_application(Annex.CIVIL_AVIATION, pilot.today))
    number = receipt["applicationNumber"]
    officer = pilot.pilot.desk.staff[Annex.CIVIL_AVIATION.committee].officers[1].id
    await pilot.desk("POST", f"/desk/applications/{number}/take", officer=officer)
    app = await pilot.app(number)
    # taken Monday 10:00: review due at the end of the 2nd working day after, Wed 17:30
    assert app.due_review == dt.datetime(2026, 11, 25, 17, 30, tzinfo=KZ_TIME)
    pilot.world.clock.set(dt.datetime(2026, 11, 25, 17, 0, tzinfo=KZ_TIME))
    on_time = (await pilot.desk("GET", f"/desk/applications/{number}")).json()
    assert on_time["late"] == []
    pilot.world.clock.set(dt.datetime(2026, 11, 26, 9, 30, tzinfo=KZ_TIME))
    late = (await pilot.desk("GET", f"/desk/applications/{number}")).json()
    assert late["late"] == ["review"]
    [review] = [s for s in late["steps"] if s["name"] == "review"]
    assert review["late"] and review["overdueSeconds"] == timedelta(minutes=30).total_seconds()
    status = await pilot.status(number)
    assert [s.findtext("late") for s in status.findall("step")] == [
        "false",
        "true",
        "false",
        "false",
    ]
    sla = (await pilot.desk("GET", "/desk/sla")).json()
    assert sla["lateSteps"] == {"review": 1}
    # reviewing now does not erase the lateness: it stays counted
    await pilot.desk("POST", f"/desk/applications/{number}/approve", officer=officer)
    assert (await pilot.app(number)).late_steps == ("review",)


async def test_a_decreed_day_off_moves_the_committees_deadlines(
    pilot_pki: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A decree makes Tuesday 24 Nov 2026 a day off: set once, for ELICENSE and its pilot desk.
    monkeypatch.setenv("KZGATE_ELICENSE_EXTRA_HOLIDAYS", '["2026-11-24"]')
    async with running_world(pilot_pki, tmp_path, worker=False) as world:
        pilot = world.harness.elicense.pilot
        assert pilot is not None
        receipt = await PilotWorld(world, pilot).file(sample_application(Annex.INDUSTRY, MONDAY))
    # filed Monday 10:00: 1 working day is Wednesday's close (17:30), not Tuesday's
    due = dt.datetime(2026, 11, 25, 17, 30, tzinfo=KZ_TIME)
    assert parse_datetime(receipt["registrationDue"]) == due
