from __future__ import annotations

from pathlib import Path

import pytest

from tests.gateway.harness import make_pki


@pytest.fixture(scope="session")
def observed_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("observed-pki"))
