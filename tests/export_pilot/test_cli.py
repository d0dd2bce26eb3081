"""``kzgate officer …`` and ``kzgate demo export-permit`` against the in-process system."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx2
import pytest

from kzgate.cli.demo import EXIT_FAULT, DemoReport
from kzgate.cli.demo_export_permit import run_demo
from kzgate.cli.main import build_parser
from kzgate.cli.officer import officer_command
from simulators.elicensing.export_pilot.goods import Annex
from simulators.elicensing.export_pilot.samples import sample_application
from simulators.kit.clock import KZ_TIME
from tests.export_pilot.world import PilotWorld
from tests.licensing.world import running_world

JANUARY_2027 = dt.datetime(2027, 1, 5, 10, 0, tzinfo=KZ_TIME)


def _desk(pilot: PilotWorld) -> httpx2.AsyncClient:
    app = pilot.world.harness.apps["ELICENSE"]
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://elicense")


async def _officer(pilot: PilotWorld, *argv: str) -> int:
    args = build_parser().parse_args(["officer", *argv])
    async with _desk(pilot) as http:
        return await officer_command(args, http)


async def test_an_officer_works_the_queue_from_the_command_line(
    pilot: PilotWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    number = (await pilot.file(sample_application(Annex.TELECOM, pilot.today)))["applicationNumber"]
    assert await _officer(pilot, "queue", "--committee", "TELECOM") == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["applicationNumber"] == number and listed["state"] == "RECEIVED"
    # an officer of another committee is turned away with the code and the hint
    assert await _officer(pilot, "take", number, "--as", "ind-aigerim") == 2
    err = capsys.readouterr().err
    assert "Client.ExportPilot.NotYourCommittee" in err and "hint: Annex 1 goes to" in err
    assert await _officer(pilot, "take", number, "--as", "tel-marat") == 0
    capsys.readouterr()
    assert await _officer(pilot, "refuse", number, "--as", "tel-marat", "--ground", "1:") == 2
    assert "ground 1 needs the reason" in capsys.readouterr().err
    code = await _officer(
        pilot, "refuse", number, "--as", "tel-marat", "--ground", "1:the invoice is forged"
    )
    assert code == 0 and json.loads(capsys.readouterr().out)["grounds"] == [1]
    assert await _officer(pilot, "sign", number, "--as", "head-telecom") == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == "REFUSED"


async def test_demo_export_permit_issues_and_terminates(
    pilot: PilotWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    report = DemoReport()
    async with _desk(pilot) as http:
        code = await run_demo(
            pilot.portal, http, pilot.world.clock.now(), timeout=20, terminate=True, report=report
        )
    out = capsys.readouterr().out
    assert code == 0, out
    facts = report.facts  # what --json prints
    assert [step["action"] for step in facts["desk"]] == ["take", "approve", "sign"]
    assert facts["outcome"] == "ISSUED" and facts["documentNumber"] in out
    assert facts["keden"].startswith("TERMINATED") and facts["terminationNumber"]
    assert "for the INDUSTRY committee" in out and "ISSUED KZ-TMD-IND-2026-" in out
    assert "VALID (EXPORT_PERMIT)" in out and "TERMINATED (EXPORT_PERMIT) тоқтатылды" in out


async def test_demo_export_permit_after_the_pilot_window_says_what_to_set(
    pilot_pki: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 5 January 2027 on the virtual clock: past the window of 2026 (today's default), as the
    # real clock will be on the first working days of 2027.
    monkeypatch.setenv("KZGATE_EXPORT_PILOT_START", "2026-01-01")
    async with running_world(pilot_pki, tmp_path, start=JANUARY_2027, worker=False) as world:
        pilot = world.harness.elicense.pilot
        assert pilot is not None
        async with _desk(PilotWorld(world, pilot)) as http:
            code = await run_demo(world.portal_client, http, world.clock.now(), timeout=5)
    err = capsys.readouterr().err
    assert code == EXIT_FAULT
    assert "not in force on 2027-01-05" in err and "2026-01-01..2026-12-31" in err
    assert "KZGATE_EXPORT_PILOT_START" in err and "KZGATE_EXPORT_PILOT_END" in err
    # the offered virtual clock starts on a working day inside the window
    assert 'KZGATE_CLOCK=\'{"start": "2026-12-03T10:00:00+05:00"' in err
