"""The console's CLI twins on a world that ran a licence flow: the same flow, the same traffic,
the same SLA and clock, printed as tables for people and as JSON for machines."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path

import httpx2
import pytest

from gateway.messagelog.flows import find_flow
from kzgate.cli import catalogue
from kzgate.cli.main import main
from simulators.kit.clock import KZ_TIME
from simulators.tax.store import MRP_FILE_ENV
from tests.gateway.harness import in_process_mounts
from tests.licensing.world import World, running_world
from tests.mrp import mrp_file
from tests.observability.conftest import LicenceFlow
from tests.simulators.elicensing.samples import applicant, export_application
from tests.waiting import eventually

UNPAID = "200640360888"  # ТОО «Семей Тері»: no licence fee in PEP's fixtures
FIRST_WORKING_DAY_2027 = datetime(2027, 1, 5, 10, 0, tzinfo=KZ_TIME)


@pytest.fixture
def cli_env(licence_flow: LicenceFlow, monkeypatch: pytest.MonkeyPatch) -> LicenceFlow:
    _route_commands(licence_flow.world, monkeypatch)
    return licence_flow


def _route_commands(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    harness = world.harness
    monkeypatch.setenv("KZGATE_DATABASE_URL", harness.settings.database_url)
    monkeypatch.setenv("KZGATE_PKI_DIR", str(harness.pki_dir))
    monkeypatch.setenv("KZGATE_PORT", "80")
    monkeypatch.setenv("KZGATE_HOST", harness.settings.host)
    mounts = in_process_mounts(harness.settings, harness.apps)
    gateway = httpx2.ASGITransport(app=harness.app)
    # The commands' HTTP reaches the in-process gateway and simulators instead of real ports.
    monkeypatch.setattr(
        catalogue,
        "ops_client",
        lambda: httpx2.AsyncClient(
            mounts={**mounts, f"http://{harness.settings.host}:80": gateway}
        ),
    )


async def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = await asyncio.to_thread(main, list(argv))
    return code, capsys.readouterr().out


async def test_flow_and_traffic_twins(
    cli_env: LicenceFlow, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = cli_env.world.harness.context.message_log._engine
    expected = await find_flow(engine, cli_env.licence)
    code, out = await _run(capsys, "log", "flow", cli_env.licence, "--json")
    assert code == 0
    flow = json.loads(out)
    assert [h["seq"] for h in flow["hops"]] == [h.seq for h in expected.hops]
    assert flow["traceIds"] == [cli_env.trace_id]
    code, table = await _run(capsys, "log", "flow", cli_env.licence)
    assert code == 0 and f"{len(expected.hops)} hops across EGOV_PORTAL, GATEWAY" in table
    assert "KedenRegisterRecord_v1" in table and "valid (GBDUL)" in table

    code, out = await _run(capsys, "log", "traffic", "--json", "--service", "GbdulInfoByBin_v1")
    assert code == 0
    [gbdul] = json.loads(out)
    assert (gbdul["sender"], gbdul["outcome"]) == ("ELICENSE", "ok")
    code, out = await _run(capsys, "log", "checkpoint", "--json")
    assert code == 0 and json.loads(out)["seq"] == expected.hops[-1].seq


async def test_status_and_clock_twins(
    cli_env: LicenceFlow, capsys: pytest.CaptureFixture[str]
) -> None:
    code, table = await _run(capsys, "status")
    assert code == 0
    assert cli_env.application in table and "on time" in table and "MISSED" not in table
    code, out = await _run(capsys, "status", "--json")
    status = json.loads(out)
    assert status["gateway"]["status"] == "ok" and status["sla"]["issued"] == 1
    assert {s["systemId"] for s in status["systems"]} >= {"ELICENSE", "GBDUL", "KEDEN"}

    before = cli_env.world.clock.now()
    code, out = await _run(capsys, "sim", "clock", "--advance-hours", "2", "--json")
    assert code == 0
    # One shared clock (one process) moved once, not once per system.
    assert (cli_env.world.clock.now() - before).total_seconds() == pytest.approx(7200, abs=5)
    assert len({c["now"] for c in json.loads(out)}) == 1
    code, out = await _run(capsys, "catalogue", "--json")
    assert code == 0 and any(
        s["serviceId"] == "KedenRegisterRecord_v1" for s in json.loads(out)["services"]
    )


async def test_status_on_a_day_the_settings_do_not_cover_warns_alarms_and_lists_notices(
    observed_pki: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    # 5 January 2027, with KGD's table and the pilot window ending at 2026 (as shipped today)
    monkeypatch.setenv(MRP_FILE_ENV, str(mrp_file(tmp_path, last_year=2026)))
    monkeypatch.setenv("KZGATE_EXPORT_PILOT_START", "2026-01-01")
    async with running_world(observed_pki, tmp_path, start=FIRST_WORKING_DAY_2027) as world:
        _route_commands(world, monkeypatch)
        code, out = await _run(capsys, "status", "--json")
        assert code == 0
        [pilot, mrp] = json.loads(out)["warnings"]
        assert "2027-01-05 is outside its window 2026-01-01..2026-12-31" in pilot
        assert "KZGATE_EXPORT_PILOT_START/END" in pilot
        assert "KGD has no MRP of 2027 (it has " in mrp and "2026)" in mrp
        assert "KZGATE_KGD_MRP_FILE" in mrp

        # A fee paid in 2027 cannot be judged: the application waits on an alarm and the
        # support desk gets a notice, and status shows both to the tester.
        await world.pay_fee(UNPAID, "43250.00", reference="FEE-2027-STATUS")
        form = export_application(
            number=None, applicant=applicant(UNPAID), valid_from=FIRST_WORKING_DAY_2027.date()
        )
        filed = await world.file(form)

        async def alarmed() -> bool:
            sla = await world.harness.elicense.sla()
            return bool(sla["alarms"]) and bool(sla["supportDesk"]["notices"])

        await eventually(alarmed)
        code, table = await _run(capsys, "status")
    assert code == 0
    assert "WARNINGS (settings to change)" in table
    alarms = table[table.index("ALARMS") :]
    assert filed.number in alarms and "KGD has no MRP of 2027" in alarms
    notices = table[table.index("notices to the operator's support desk (LR p.8)") :]
    assert filed.number in notices and UNPAID in notices and "open" in notices
