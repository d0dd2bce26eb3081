"""A test PKI of its own, and ELICENSE's (and another system's) transport keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import TransportKey, TrustStore
from tests.pki import make_test_pki


@pytest.fixture(scope="session")
def elicense_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("elicense-pki")
    make_test_pki(directory, ["ELICENSE", "EGOV_PORTAL"])
    return directory


def _key(directory: Path, system: str) -> TransportKey:
    return TransportKey.from_files(directory / f"{system}.pem", directory / f"{system}.key")


@pytest.fixture(scope="session")
def elicense_key(elicense_pki: Path) -> TransportKey:
    return _key(elicense_pki, "ELICENSE")


@pytest.fixture(scope="session")
def portal_key(elicense_pki: Path) -> TransportKey:
    return _key(elicense_pki, "EGOV_PORTAL")


@pytest.fixture(scope="session")
def trust(elicense_pki: Path) -> TrustStore:
    return TrustStore.from_dir(elicense_pki)
