"""The console is the operator's: nothing is shown or done without the login, and production
refuses to start with the console's dev password."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.config import Settings
from gateway.assembly import StartupRefused, assemble
from tests.gateway.harness import Harness, running_gateway

PAGES = [
    "/console/", "/console/catalogue", "/console/traffic", "/console/flows?q=KZ-IM-2026-000001",
    "/console/flows/bundle?q=x-1", "/console/hops/1", "/console/hops/1/raw", "/console/integrity",
    "/console/dead-letters", "/console/sla", "/console/testers",
]  # fmt: skip
ACTIONS = [
    "/console/integrity/verify", "/console/integrity/checkpoint",
    "/console/dead-letters/some-id/replay", "/console/testers/clock", "/console/testers/faults",
    "/console/api/integrity/verify", "/console/api/integrity/checkpoint",
    "/console/api/dead-letters/some-id/replay", "/console/api/clock", "/console/api/faults",
]  # fmt: skip
API = [
    "/console/api/catalogue", "/console/api/traffic", "/console/api/flows?q=abc",
    "/console/api/hops/1", "/console/api/integrity", "/console/api/dead-letters",
    "/console/api/sla", "/console/api/clock", "/console/api/faults",
]  # fmt: skip


@pytest.fixture
async def gateway(observed_pki: Path, tmp_path: Path):
    async with running_gateway(observed_pki, tmp_path) as harness:
        yield harness


async def _checkpoints(gateway: Harness) -> int:
    answer = await gateway.http.get("/console/api/integrity", auth=("operator", "dev-console"))
    return 0 if answer.json()["checkpoint"] is None else 1


async def test_without_login_every_page_redirects_and_every_action_is_refused(
    gateway: Harness,
) -> None:
    for page in PAGES:
        answer = await gateway.http.get(page)
        assert answer.status_code == 303, page
        assert answer.headers["location"].startswith("/console/login?next="), page
    for action in ACTIONS:
        answer = await gateway.http.post(action, data={"system": "ALL", "advance_hours": "1"})
        assert answer.status_code == 401, action
    for call in API:
        assert (await gateway.http.get(call)).status_code == 401, call
    wrong = await gateway.http.get("/console/api/catalogue", auth=("operator", "guess"))
    assert wrong.status_code == 401
    gateway.http.cookies.set("kzgate_console", "operator|9999999999|00")
    assert (await gateway.http.get("/console/")).status_code == 303  # a forged session
    gateway.http.cookies.clear()
    assert await _checkpoints(gateway) == 0  # the refused checkpoint action did nothing


async def test_login_opens_the_console_and_basic_auth_opens_its_api(gateway: Harness) -> None:
    refused = await gateway.http.post(
        "/console/login", data={"user": "operator", "password": "nope", "next": "/console/"}
    )
    assert refused.status_code == 401 and "wrong operator name or password" in refused.text
    login = await gateway.http.post(
        "/console/login",
        data={"user": "operator", "password": "dev-console", "next": "/console/catalogue"},
    )
    assert login.status_code == 303 and login.headers["location"] == "/console/catalogue"
    page = await gateway.http.get("/console/catalogue")  # the client keeps the session cookie
    assert page.status_code == 200 and "GbdulInfoByBin_v1" in page.text
    made = await gateway.http.post(
        "/console/api/integrity/checkpoint", auth=("operator", "dev-console")
    )
    assert made.status_code == 200 and made.json()["seq"] == 0
    assert await _checkpoints(gateway) == 1


async def test_production_refuses_the_consoles_dev_password(
    observed_pki: Path, tmp_path: Path
) -> None:
    settings = Settings(
        env="production", var_dir=tmp_path, pki_dir_override=observed_pki, broker="embedded"
    )
    with pytest.raises(StartupRefused, match="console operator still has the dev password"):
        await assemble(settings)
