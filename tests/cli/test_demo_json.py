"""``kzgate demo … --json``: the demo tells its story on stderr and prints one JSON document of
what it did on stdout — on success, and when the system cannot be reached."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.roster import roster_entry
from kzgate.cli.demo import EXIT_FAULT, DemoReport, run_licence
from kzgate.cli.main import main as kzgate
from tests.licensing.world import World


async def test_the_licence_demo_prints_what_it_did_as_json(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    report = DemoReport(as_json=True)
    cabinet = "http://portal.test/ops/inbox"
    code = await run_licence(world.portal_client, world.clock.now(), 30.0, report, cabinet)
    assert report.finish(code) == 0
    out, err = capsys.readouterr()
    facts = json.loads(out)  # stdout is the JSON document alone; the story went to stderr
    app = await world.application(facts["application"])
    assert app.outcome is not None and app.document_number is not None
    assert (facts["flow"], facts["exitCode"], facts["cabinet"]) == ("licence", 0, cabinet)
    assert (facts["outcome"], facts["documentNumber"]) == (app.outcome.value, app.document_number)
    assert facts["customsRecord"]["number"] == app.document_number
    assert facts["customsRecord"]["status"] == "VALID"
    assert facts["fee"]["paymentId"] and facts["fee"]["paymentId"] in err
    assert f"registered {facts['application']}" in err and "ISSUED" in err


@pytest.fixture
def nothing_listening(licensing_pki: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The simulators' ports start where ELICENSE's is a bound socket that never listens: the
    demo's first call (ELICENSE's business clock) is refused at once."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        monkeypatch.setenv("KZGATE_HOST", "127.0.0.1")
        monkeypatch.setenv("KZGATE_PKI_DIR", str(licensing_pki))
        base = port - roster_entry("ELICENSE").port_offset
        monkeypatch.setenv("KZGATE_SIMULATOR_BASE_PORT", str(base))
        yield


@pytest.mark.parametrize("flow", ["licence", "export-permit", "declaration"])
def test_a_demo_that_cannot_reach_the_system_says_so_in_json(
    flow: str, nothing_listening: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kzgate(["demo", flow, "--json"]) == EXIT_FAULT
    out, err = capsys.readouterr()
    facts = json.loads(out)
    assert facts["exitCode"] == EXIT_FAULT
    assert facts["error"].startswith("cannot reach the system") and facts["error"] in err
