from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.gateway.harness import Harness, make_pki, running_gateway


@pytest.fixture(scope="session")
def shared_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One test PKI for the session; tests that revoke certificates copy it first."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
async def gateway(shared_pki: Path, tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_gateway(shared_pki, tmp_path) as harness:
        yield harness
