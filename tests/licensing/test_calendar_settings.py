"""A decree needs no code change: ELICENSE's extra holidays, extra working days and each
service's deadline rule come from settings (KZGATE_ELICENSE_*) and move registrations and
deadlines on the whole flow [seed 002, LR-L3 row 7, LR p.5, PR p.5]."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from simulators.elicensing.settings import ElicenseSettings
from simulators.elicensing.store import Kind
from simulators.kit.calendar import DeadlineRule
from simulators.kit.clock import KZ_TIME
from tests.licensing.world import MONDAY_10, running_world
from tests.simulators.elicensing.samples import import_application, permit_draft


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KZGATE_ELICENSE_EXTRA_HOLIDAYS", '["2026-08-31"]')
    monkeypatch.setenv("KZGATE_ELICENSE_DEADLINE_RULES", '{"PERMIT": "same-time"}')
    settings = ElicenseSettings()
    assert not settings.calendar(Kind.LICENCE).is_working_day(datetime(2026, 8, 31).date())
    assert settings.calendar(Kind.PERMIT).deadline_rule is DeadlineRule.SAME_TIME
    assert settings.calendar(Kind.LICENCE).deadline_rule is DeadlineRule.END_OF_DAY


async def test_a_decreed_day_off_and_working_saturday_and_a_per_service_rule_apply(
    licensing_pki: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A decree: Tue 24.11.2026 is a day off, worked on Sat 28.11.2026 instead.
    monkeypatch.setenv("KZGATE_ELICENSE_EXTRA_HOLIDAYS", '["2026-11-24"]')
    monkeypatch.setenv("KZGATE_ELICENSE_EXTRA_WORKING_DAYS", '["2026-11-28"]')
    monkeypatch.setenv("KZGATE_ELICENSE_DEADLINE_RULES", '{"PERMIT": "same-time"}')
    async with running_world(licensing_pki, tmp_path, worker=False) as world:
        licence = await world.file(import_application(number=None))
        assert licence.registered_at == MONDAY_10
        assert licence.deadline == datetime(2026, 11, 25, 18, 0, tzinfo=KZ_TIME)  # skips Tue
        permit = await world.file(permit_draft())
        assert permit.deadline == datetime(2026, 11, 25, 10, 0, tzinfo=KZ_TIME)  # same time
        world.clock.set(datetime(2026, 11, 27, 19, 0, tzinfo=KZ_TIME))  # Friday evening
        late = await world.file(import_application(number=None, additional_info="late"))
        assert late.registered_at == datetime(2026, 11, 28, 9, 0, tzinfo=KZ_TIME)  # Saturday
