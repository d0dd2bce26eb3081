"""``kzgate demo declaration`` rehearsed against the whole system in-process."""

from __future__ import annotations

import json

from kzgate.cli.demo import DemoReport
from kzgate.cli.demo_declaration import run
from tests.licensing.world import World


async def test_demo_declaration_releases_writes_off_and_refuses_the_excess(world: World) -> None:
    assert world.harness.keden is not None and world.harness.keden.clearance is not None
    world.harness.keden.clearance.start()  # KEDEN's worker, as its app's lifespan runs it
    report = DemoReport()
    try:
        code = await run(
            world.portal_client, world.harness.pki_dir, world.clock.now(), 60.0, report
        )
    finally:
        await world.harness.keden.clearance.stop()
    text = "\n".join(report.lines)
    assert code == 0, text
    assert "RELEASE_PERMITTED" in text
    assert "has 25000 kg left" in text
    assert "FORMATION_REFUSED — PERMIT_QUANTITY_EXCEEDED" in text
    # What --json prints: the same story as facts.
    facts = json.loads(json.dumps(report.facts))
    assert facts["declaration"]["status"] == "RELEASE_PERMITTED"
    assert [e["status"] for e in facts["declaration"]["events"]][-1] == "RELEASE_PERMITTED"
    assert facts["licenceRemainingKg"] == "25000"
    assert facts["excess"]["resultCode"] == "FORMATION_REFUSED"
    assert [r["code"] for r in facts["excess"]["reason"]] == ["PERMIT_QUANTITY_EXCEEDED"]
