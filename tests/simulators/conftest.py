"""Fixtures of the simulator tests: one test PKI, the gateway's transport key."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import TransportKey
from tests.pki import make_test_pki
from tests.simulators.pushing import key_of


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    make_test_pki(directory)
    return directory


@pytest.fixture(scope="session")
def gateway_key(pki: Path) -> TransportKey:
    return key_of(pki, "GATEWAY")
