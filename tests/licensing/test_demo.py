"""``kzgate demo licence`` pays its own fee: run twice, it gets two licences, not an R6 refusal
the second time (one fee pays one licence, seed 002 LR p.3)."""

from __future__ import annotations

from kzgate.cli.demo import DEMO_APPLICANT, pay_licence_fee, sample_application
from simulators.elicensing.store import Outcome
from tests.licensing.world import World


async def test_the_demo_pays_a_fee_for_each_licence_it_files(world: World) -> None:
    registered_on = world.clock.now().date()
    numbers = []
    for _ in range(2):  # the very same sample each run: after a decision, a new application
        assert await pay_licence_fee(world.portal_client, world.clock.now())
        app = await world.delivered((await world.file(sample_application(registered_on))).number)
        assert app.outcome is Outcome.ISSUED, app.grounds
        numbers.append(app.document_number)
    records = await world.keden_records_of(DEMO_APPLICANT)
    assert sorted(r.number for r in records) == sorted(numbers)
