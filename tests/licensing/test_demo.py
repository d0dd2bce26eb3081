"""``kzgate demo licence`` pays its own fee: run twice, it gets two licences, not an R6 refusal
the second time (one fee pays one licence, seed 002 LR p.3)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from kzgate.cli.demo import DEMO_APPLICANT, pay_licence_fee, sample_application
from simulators.elicensing.store import Outcome
from simulators.kit.clock import KZ_TIME
from simulators.tax.store import MRP_FILE_ENV
from tests.licensing.world import World, running_world
from tests.mrp import mrp_file


async def test_the_demo_pays_a_fee_for_each_licence_it_files(world: World) -> None:
    registered_on = world.clock.now().date()
    numbers = []
    for _ in range(2):  # the very same sample each run: after a decision, a new application
        assert await pay_licence_fee(world.portal_client, world.clock.now())
        app = await world.delivered((await world.file(sample_application(registered_on))).number)
        assert app.outcome is Outcome.ISSUED, app.grounds
        numbers.append(app.document_number)
    records = await world.keden_records_of(DEMO_APPLICANT, at_least=len(numbers))
    assert sorted(r.number for r in records) == sorted(numbers)


async def test_the_demo_in_a_year_kgd_has_no_mrp_for_says_what_to_set(
    licensing_pki: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # KGD's table ends at 2026, as the shipped one does until a budget law sets 2027's;
    # 5 January 2027 is what the real clock reaches in five weeks.
    monkeypatch.setenv(MRP_FILE_ENV, str(mrp_file(tmp_path, last_year=2026)))
    january = datetime(2027, 1, 5, 10, 0, tzinfo=KZ_TIME)
    async with running_world(licensing_pki, tmp_path, start=january, worker=False) as world:
        assert not await pay_licence_fee(world.portal_client, world.clock.now())
    err = capsys.readouterr().err
    assert "KGD has no MRP of 2027" in err
    assert "set the MRP of 2027" in err and "KZGATE_KGD_MRP_FILE" in err
    assert 'KZGATE_CLOCK=\'{"start": "2026-11-23T10:00:00+05:00"' in err  # a year KGD knows
