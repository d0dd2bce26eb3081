"""Keys are generated once per session: RSA key generation dominates the run time otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors import TransportKey, TrustStore
from connectors.wsse import pki
from tests.pki import make_test_pki

SESSION_SYSTEMS = ("GATEWAY", "EGOV_PORTAL", "GBDUL")


def _key(directory: Path, system: str) -> TransportKey:
    return TransportKey.from_files(directory / f"{system}.pem", directory / f"{system}.key")


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    make_test_pki(directory, SESSION_SYSTEMS)
    return directory


@pytest.fixture(scope="session")
def gateway_key(pki_dir: Path) -> TransportKey:
    return _key(pki_dir, "GATEWAY")


@pytest.fixture(scope="session")
def egov_key(pki_dir: Path) -> TransportKey:
    return _key(pki_dir, "EGOV_PORTAL")


@pytest.fixture(scope="session")
def ec_key(pki_dir: Path) -> TransportKey:
    return TransportKey.from_pem(*pki.issue_certificate(pki_dir, "GBDUL", key_type="ec"))


@pytest.fixture(scope="session")
def expired_key(pki_dir: Path) -> TransportKey:
    start = datetime.now(UTC) - timedelta(days=800)
    cert_pem, key_pem = pki.issue_certificate(
        pki_dir, "EGOV_PORTAL", not_before=start, not_after=start + timedelta(days=30)
    )
    return TransportKey.from_pem(cert_pem, key_pem)


@pytest.fixture(scope="session")
def foreign_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second CA with the very same DN as ours: only its signature tells them apart."""
    directory = tmp_path_factory.mktemp("foreign-pki")
    make_test_pki(directory, ("GATEWAY",))
    return directory


@pytest.fixture(scope="session")
def foreign_key(foreign_dir: Path) -> TransportKey:
    return _key(foreign_dir, "GATEWAY")


@pytest.fixture
def trust(pki_dir: Path, gateway_key: TransportKey, egov_key: TransportKey) -> TrustStore:
    store = TrustStore.from_dir(pki_dir)
    for key in (gateway_key, egov_key):
        store.add_known_certificate(key.certificate)
    return store


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC)
