from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.gateway.harness import make_pki
from tests.licensing.world import World, running_world


@pytest.fixture(scope="session")
def licensing_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("licensing-pki"))


@pytest.fixture
async def world(licensing_pki: Path, tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(licensing_pki, tmp_path) as world:
        yield world
