"""The console in a real browser: Debian's chromium, headless, driven by Playwright.

One browser session walks an operator's and a tester's path over a world that ran a licence
flow: log in, open the flow browser for the licence's application, see every hop in order, open
one hop's XML, download the flow's evidence bundle and verify it, replay a dead letter and see it
delivered, advance the virtual clock and see a deadline turn missed. Screenshots of each page
are saved to ``test-artifacts/console/``.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
import uvicorn
from playwright.async_api import Page, async_playwright, expect

from connectors import MessageState
from gateway.messagelog.bundle import verify_bundle
from gateway.messagelog.flows import find_flow
from simulators.monitoring.payload import build_stage_event
from tests.licensing.world import MONDAY_10
from tests.observability.conftest import LicenceFlow
from tests.ports import free_port_block
from tests.simulators.elicensing.samples import export_application

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
TIMEOUT_MS = 15_000


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        # Not a skip: `./test` installs chromium (scripts/bootstrap.sh); missing, it is a failure.
        pytest.fail("chromium is not installed: apt-get update && apt-get install -y chromium")
    return path


@asynccontextmanager
async def served(app: object) -> AsyncIterator[str]:
    """The in-process gateway app over real HTTP on a free loopback port (lifespan already on)."""
    port = free_port_block(1)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _dead_letter(flow: LicenceFlow) -> str:
    """A MONITORING push refused once, so it lands in the dead-letter queue."""
    harness = flow.world.harness
    harness.monitoring.failures.fail_next(1, "soap-client-fault")
    portal = harness.client("EGOV_PORTAL")
    event = build_stage_event("KZ-DLQ-1", "REGISTERED", "ELICENSE", datetime.now(UTC))
    ack = await portal.send_async(portal.async_request("MonitoringStage_v1", event))
    for _ in range(500):
        tracked = await harness.context.tracker.get(ack.message_id)
        if tracked is not None and tracked.state is MessageState.NOT_DELIVERED:
            return ack.message_id
        await asyncio.sleep(0.02)
    raise AssertionError("the refused push was not dead-lettered")


async def _stuck_application(flow: LicenceFlow) -> str:
    """A second application that cannot be decided: GBDUL is down for three days."""
    window = {"start": MONDAY_10.isoformat(), "end": (MONDAY_10 + timedelta(days=3)).isoformat()}
    transport = httpx2.ASGITransport(app=flow.world.harness.apps["GBDUL"])
    async with httpx2.AsyncClient(transport=transport, base_url="http://sim") as http:
        (await http.post("/ops/faults", json={"down": [window]})).raise_for_status()
    filed = await flow.world.file(export_application(number=None))  # not the first one again
    return filed.number


async def test_operator_and_tester_walk_the_console(
    licence_flow: LicenceFlow, tmp_path: Path
) -> None:
    executable = chromium_path()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    engine = licence_flow.world.harness.context.message_log._engine
    expected = await find_flow(engine, licence_flow.application)
    dead = await _dead_letter(licence_flow)
    stuck = await _stuck_application(licence_flow)
    async with served(licence_flow.world.harness.app) as base, async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            page = await browser.new_page(viewport={"width": 1500, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            await _log_in(page, base, licence_flow.application)
            await _flow_browser(page, licence_flow, [h.seq for h in expected.hops], tmp_path)
            await _replay(page, base, dead)
            await _deadline_turns_missed(page, base, stuck)
        finally:
            await browser.close()


async def _log_in(page: Page, base: str, application: str) -> None:
    await page.goto(f"{base}/console/flows?q={application}")
    await expect(page).to_have_url(f"{base}/console/login?next=/console/flows%3Fq%3D{application}")
    await page.fill("input[name=user]", "operator")
    await page.fill("input[name=password]", "dev-console")
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{base}/console/flows?q={application}")


async def _flow_browser(page: Page, flow: LicenceFlow, seqs: list[int], tmp_path: Path) -> None:
    rows = page.locator("#hops tbody tr")
    await expect(rows).to_have_count(len(seqs))
    shown = [int(s) for s in await rows.evaluate_all("rs => rs.map(r => r.dataset.seq)")]
    assert shown == seqs  # every hop, in chain order
    text = await page.locator("#hops").inner_text()
    for service in ("ElicenseSubmitApplication_v1", "GbdulInfoByBin_v1", "KedenRegisterRecord_v1"):
        assert service in text
    assert await page.locator("#hops .pill.good").count() == len(seqs)  # every signature valid
    await page.screenshot(path=ARTIFACTS / "flow-browser.png", full_page=True)
    await page.locator("svg").screenshot(path=ARTIFACTS / "flow-sequence-diagram.png")

    async with page.expect_download() as downloading:
        await page.click("#bundle")
    download = await downloading.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    report = verify_bundle(saved.read_bytes())
    assert report.ok and [h.seq for h in report.hops] == seqs

    await page.locator(f"#hops tr[data-seq='{seqs[1]}'] a").click()
    await expect(page.locator("#xml")).to_contain_text("Envelope")
    await expect(page.locator("#verification")).to_contain_text("transport signature: valid")
    await expect(page.locator("#verification li.bad")).to_have_count(0)
    await page.screenshot(path=ARTIFACTS / "hop-xml.png", full_page=True)


async def _replay(page: Page, base: str, message_id: str) -> None:
    await page.goto(f"{base}/console/dead-letters")
    row = page.locator(f"#letters tr[data-message-id='{message_id}']")
    await expect(row).to_have_count(1)
    await row.locator("button").click()
    await expect(page.locator("#replayed .state")).to_have_text("DELIVERED")
    await expect(page.locator(f"#letters tr[data-message-id='{message_id}']")).to_have_count(0)
    await page.screenshot(path=ARTIFACTS / "dead-letter-replayed.png", full_page=True)


async def _deadline_turns_missed(page: Page, base: str, number: str) -> None:
    await page.goto(f"{base}/console/sla")
    deadline = page.locator(f"#sla tr[data-number='{number}'] td.deadline")
    await expect(deadline).to_have_text("on time")
    await page.goto(f"{base}/console/testers")
    await page.select_option("#clock-system", "ALL")
    await page.fill("input[name=advance_hours]", "40")
    await page.click("#clock-apply")
    await page.goto(f"{base}/console/sla")
    await expect(deadline).to_have_text("MISSED")
    await expect(page.locator("#missed-count")).to_have_text("1")
    await page.screenshot(path=ARTIFACTS / "sla-board.png", full_page=True)
