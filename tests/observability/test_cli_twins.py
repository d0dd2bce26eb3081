"""The console's CLI twins on a world that ran a licence flow: the same flow, the same traffic,
the same SLA and clock, printed as tables for people and as JSON for machines."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from gateway.messagelog.flows import find_flow
from kzgate.cli import catalogue
from kzgate.cli.main import main
from tests.gateway.harness import in_process_mounts
from tests.observability.conftest import LicenceFlow


@pytest.fixture
def cli_env(licence_flow: LicenceFlow, monkeypatch: pytest.MonkeyPatch) -> LicenceFlow:
    harness = licence_flow.world.harness
    monkeypatch.setenv("KZGATE_DATABASE_URL", harness.settings.database_url)
    monkeypatch.setenv("KZGATE_PKI_DIR", str(harness.pki_dir))
    monkeypatch.setenv("KZGATE_PORT", "80")
    monkeypatch.setenv("KZGATE_HOST", harness.settings.host)
    mounts = in_process_mounts(harness.settings, harness.apps)
    gateway = httpx.ASGITransport(app=harness.app)
    # The commands' HTTP reaches the in-process gateway and simulators instead of real ports.
    monkeypatch.setattr(
        catalogue,
        "ops_client",
        lambda: httpx.AsyncClient(mounts={**mounts, f"http://{harness.settings.host}:80": gateway}),
    )
    return licence_flow


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
