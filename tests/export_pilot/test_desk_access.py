"""The committees' desk acts for a person: beyond loopback an officer's action needs the
operator's token (the rule of the simulators' ops endpoints, issue 8), and without it nothing
changes; reading the queue stays open."""

from __future__ import annotations

import httpx2
import pytest

from simulators.elicensing.export_pilot.goods import Annex
from simulators.elicensing.export_pilot.samples import sample_application
from simulators.elicensing.export_pilot.store import State
from tests.export_pilot.world import PilotWorld


async def _desk(pilot: PilotWorld, method: str, path: str, token: str | None = None, **body):
    transport = httpx2.ASGITransport(app=pilot.world.harness.apps["ELICENSE"])
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(transport=transport, base_url="http://elicense") as http:
        return await http.request(method, path, json=body or None, headers=headers)


async def test_beyond_loopback_an_officer_acts_only_with_the_operators_token(
    pilot: PilotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = (await pilot.file(sample_application(Annex.INDUSTRY, pilot.today)))[
        "applicationNumber"
    ]
    officer = pilot.pilot.desk.staff[Annex.INDUSTRY.committee].officers[0].id
    monkeypatch.setenv("KZGATE_HOST", "0.0.0.0")
    monkeypatch.setenv("KZGATE_OPS_TOKEN", "s3cret-desk")
    take = f"/desk/applications/{number}/take"

    refused = await _desk(pilot, "POST", take, officer=officer)
    assert refused.status_code == 401
    wrong = await _desk(pilot, "POST", take, token="guess", officer=officer)
    assert wrong.status_code == 401
    assert (await pilot.app(number)).state is State.RECEIVED, "nothing changed"
    queue = await _desk(pilot, "GET", "/desk/queue?committee=INDUSTRY")
    assert queue.status_code == 200 and [a["applicationNumber"] for a in queue.json()] == [number]

    taken = await _desk(pilot, "POST", take, token="s3cret-desk", officer=officer)
    assert taken.status_code == 200
    assert (await pilot.app(number)).state is not State.RECEIVED


async def test_taking_while_the_registry_is_down_is_a_503_naming_it_and_changes_nothing(
    pilot: PilotWorld,
) -> None:
    number = (await pilot.file(sample_application(Annex.INDUSTRY, pilot.today)))[
        "applicationNumber"
    ]
    officer = pilot.pilot.desk.staff[Annex.INDUSTRY.committee].officers[0].id
    gbdul = pilot.world.harness.apps["GBDUL"]
    down = await _ops(gbdul, "POST", "/ops/faults", {"kind": "http-503", "count": 5})
    assert down.status_code == 200
    answer = await _desk(pilot, "POST", f"/desk/applications/{number}/take", officer=officer)
    assert answer.status_code == 503, answer.text
    assert "did not answer" in answer.json()["message"]
    assert (await pilot.app(number)).state is State.RECEIVED


async def _ops(app, method: str, path: str, body: dict) -> httpx2.Response:
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://system") as http:
        return await http.request(method, path, json=body)
