"""``kzgate officer …`` and ``kzgate demo export-permit`` against the in-process system."""

from __future__ import annotations

import json

import httpx
import pytest

from kzgate.cli.demo import DemoReport
from kzgate.cli.demo_export_permit import run_demo
from kzgate.cli.main import build_parser
from kzgate.cli.officer import officer_command
from simulators.elicensing.export_pilot.goods import Annex
from simulators.elicensing.export_pilot.samples import sample_application
from tests.export_pilot.world import PilotWorld


def _desk(pilot: PilotWorld) -> httpx.AsyncClient:
    app = pilot.world.harness.apps["ELICENSE"]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://elicense")


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
