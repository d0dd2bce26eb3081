"""Issue 8, finding 6: a simulator's clock and faults must not be changed by just anyone.

Reading stays open; changing state needs the operator's token once the simulator listens beyond
loopback, and is refused outright under KZGATE_ENV=production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import httpx2
import pytest

from connectors import TrustStore
from connectors.ops_access import operator_headers
from simulators.kit.clock import KZ_TIME, VirtualClock
from simulators.kit.provider import SyncProvider
from tests.simulators.kit.test_fault_endpoints import Counter
from tests.simulators.pushing import client_of, key_of

MORNING = datetime(2026, 7, 7, 9, 30, tzinfo=KZ_TIME)
CHANGES = [
    ("POST", "/ops/clock", {"advance_seconds": 3600}),
    ("POST", "/ops/faults", {"error_rate": 1.0}),
    ("DELETE", "/ops/faults", None),
]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(MORNING)


@pytest.fixture
async def http(pki: Path, clock: VirtualClock) -> AsyncIterator[httpx2.AsyncClient]:
    provider = SyncProvider(
        system_id="GBDUL",
        key=key_of(pki, "GBDUL"),
        trust=TrustStore.from_dir(pki),
        handler=Counter(),
        wsdl_file="GBDUL.wsdl",
        clock=clock,
    )
    async with client_of(provider.app()) as client:
        yield client


async def _change(http: httpx2.AsyncClient, method: str, path: str, body, **headers: str):
    return await http.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), CHANGES)
async def test_on_loopback_the_local_operator_changes_state_without_a_token(
    http, clock, monkeypatch, method, path, body
) -> None:
    monkeypatch.setenv("KZGATE_HOST", "127.0.0.1")
    monkeypatch.delenv("KZGATE_OPS_TOKEN", raising=False)
    assert (await _change(http, method, path, body)).status_code == 200


@pytest.mark.parametrize(("method", "path", "body"), CHANGES)
async def test_beyond_loopback_a_change_without_the_token_is_refused_and_changes_nothing(
    http, clock, monkeypatch, method, path, body
) -> None:
    monkeypatch.setenv("KZGATE_HOST", "0.0.0.0")
    monkeypatch.setenv("KZGATE_OPS_TOKEN", "s3cret-operator-token")
    before = clock.now()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret"}):
        response = await _change(http, method, path, body, **headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert abs((clock.now() - before).total_seconds()) < 60, "the clock did not move"
    faults = (await http.get("/ops/faults")).json()
    assert faults["error_rate"] == 0
    ok = await _change(http, method, path, body, Authorization="Bearer s3cret-operator-token")
    assert ok.status_code == 200


async def test_the_operators_tools_send_what_the_guard_accepts(http, clock, monkeypatch) -> None:
    """The console and the command line build their headers in the kit, the guard reads the token
    in the simulators' kit: both ends must name the same token, or the tools stop working beyond
    loopback."""
    monkeypatch.setenv("KZGATE_HOST", "0.0.0.0")
    monkeypatch.setenv("KZGATE_OPS_TOKEN", "s3cret-operator-token")
    before = clock.now()
    response = await _change(
        http, "POST", "/ops/clock", {"advance_seconds": 3600}, **operator_headers()
    )
    assert response.status_code == 200
    assert (clock.now() - before).total_seconds() >= 3600
    monkeypatch.delenv("KZGATE_OPS_TOKEN")
    assert operator_headers() == {}, "no token configured: the tools send no Authorization"


@pytest.mark.parametrize("token", [None, "s3cret-operator-token"])
async def test_a_request_from_another_machine_needs_the_token_even_if_the_host_says_loopback(
    pki: Path, clock: VirtualClock, monkeypatch, token: str | None
) -> None:
    """KZGATE_HOST is what the simulator was told, not its socket: a process bound to 0.0.0.0 by
    hand (or behind a proxy) with KZGATE_HOST=127.0.0.1 must not hand its clock to the network."""
    monkeypatch.setenv("KZGATE_HOST", "127.0.0.1")
    if token is None:
        monkeypatch.delenv("KZGATE_OPS_TOKEN", raising=False)
    else:
        monkeypatch.setenv("KZGATE_OPS_TOKEN", token)
    provider = SyncProvider(
        system_id="GBDUL",
        key=key_of(pki, "GBDUL"),
        trust=TrustStore.from_dir(pki),
        handler=Counter(),
        wsdl_file="GBDUL.wsdl",
        clock=clock,
    )
    remote = httpx2.ASGITransport(app=provider.app(), client=("10.20.30.40", 51515))
    async with httpx2.AsyncClient(transport=remote, base_url="http://sims.test") as http:
        before = clock.now()
        refused = await _change(http, "POST", "/ops/clock", {"advance_seconds": 3600})
        assert refused.status_code == (403 if token is None else 401)
        if token is None:
            assert "10.20.30.40" in refused.json()["error"]
        assert abs((clock.now() - before).total_seconds()) < 60, "the clock did not move"
        if token is not None:
            ok = await _change(
                http,
                "POST",
                "/ops/clock",
                {"advance_seconds": 3600},
                Authorization=f"Bearer {token}",
            )
            assert ok.status_code == 200


async def test_beyond_loopback_without_a_configured_token_nothing_can_change(
    http, monkeypatch
) -> None:
    monkeypatch.setenv("KZGATE_HOST", "10.1.2.3")
    monkeypatch.delenv("KZGATE_OPS_TOKEN", raising=False)
    response = await _change(http, "POST", "/ops/clock", {"advance_seconds": 60})
    assert response.status_code == 403
    assert "KZGATE_OPS_TOKEN" in response.json()["error"]


@pytest.mark.parametrize(("method", "path", "body"), CHANGES)
async def test_under_production_no_change_is_accepted_even_with_the_token(
    http, monkeypatch, method, path, body
) -> None:
    monkeypatch.setenv("KZGATE_ENV", "production")
    monkeypatch.setenv("KZGATE_OPS_TOKEN", "s3cret-operator-token")
    response = await _change(http, method, path, body, Authorization="Bearer s3cret-operator-token")
    assert response.status_code == 403
    assert "production" in response.json()["error"]


async def test_reading_stays_open(http, monkeypatch) -> None:
    monkeypatch.setenv("KZGATE_HOST", "0.0.0.0")
    monkeypatch.setenv("KZGATE_ENV", "production")
    assert (await http.get("/ops/clock")).status_code == 200
    assert (await http.get("/ops/faults")).status_code == 200
    assert (await http.get("/health")).status_code == 200


async def test_the_operators_tools_send_the_token_and_change_state_beyond_loopback(
    pki: Path, clock: VirtualClock, monkeypatch
) -> None:
    """kzgate sim and the console call /ops through SystemsView: with KZGATE_OPS_TOKEN set they
    authenticate, so the same tools work on a simulator listening beyond loopback."""
    from connectors.config import Settings
    from gateway.console.systems import SystemsView
    from gateway.registry import load_registry

    monkeypatch.setenv("KZGATE_HOST", "0.0.0.0")
    monkeypatch.setenv("KZGATE_OPS_TOKEN", "s3cret-operator-token")
    provider = SyncProvider(
        system_id="GBDUL",
        key=key_of(pki, "GBDUL"),
        trust=TrustStore.from_dir(pki),
        handler=Counter(),
        wsdl_file="GBDUL.wsdl",
        clock=clock,
    )
    settings = Settings(pki_dir_override=pki, host="sims.test")
    registry = load_registry(pki)
    url = f"http://sims.test:{settings.simulator_base_port + registry.senders['GBDUL'].port_offset}"
    async with httpx2.AsyncClient(mounts={url: httpx2.ASGITransport(app=provider.app())}) as ops:
        view = SystemsView(registry, settings, ops)
        before = clock.now()
        answer = await view.call("GBDUL", "POST", "/ops/clock", {"advance_seconds": 3600})
        assert "error" not in answer
        assert (clock.now() - before).total_seconds() >= 3600
        monkeypatch.delenv("KZGATE_OPS_TOKEN")
        refused = await view.call("GBDUL", "POST", "/ops/clock", {"advance_seconds": 60})
        assert "error" in refused
