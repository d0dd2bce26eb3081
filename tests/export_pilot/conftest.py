from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.export_pilot.world import PilotWorld, running_pilot
from tests.gateway.harness import make_pki
from tests.licensing.world import running_world


@pytest.fixture(scope="session")
def pilot_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pilot-pki"))


@pytest.fixture
async def pilot(pilot_pki: Path, tmp_path: Path) -> AsyncIterator[PilotWorld]:
    """The whole system in-process on a virtual clock (Monday 23 Nov 2026, 10:00 KZT), the
    pilot's worker running, nobody at the desk unless the test acts."""
    world = running_world(pilot_pki, tmp_path, worker=False)
    async with world as started, running_pilot(started) as pilot:
        yield pilot
