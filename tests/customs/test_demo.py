"""``kzgate demo declaration`` rehearsed against the whole system in-process."""

from __future__ import annotations

from kzgate.cli.demo_declaration import run
from tests.licensing.world import World


async def test_demo_declaration_releases_writes_off_and_refuses_the_excess(world: World) -> None:
    assert world.harness.keden is not None and world.harness.keden.clearance is not None
    world.harness.keden.clearance.start()  # KEDEN's worker, as its app's lifespan runs it
    lines: list[str] = []
    try:
        code = await run(
            world.portal_client, world.harness.pki_dir, world.clock.now(), 60.0, lines.append
        )
    finally:
        await world.harness.keden.clearance.stop()
    text = "\n".join(lines)
    assert code == 0, text
    assert "RELEASE_PERMITTED" in text
    assert "has 25000 kg left" in text
    assert "FORMATION_REFUSED — PERMIT_QUANTITY_EXCEEDED" in text
