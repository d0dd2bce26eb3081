"""Personal certificates from the test CA: a committee head signs in person (seed 003 Rules
p.9(3)), with a certificate a verifier can tell from any system's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from connectors import TrustStore
from connectors.wsse.pki import ensure_personal_certificate, issue_personal_certificate
from tests.pki import EARLIEST_BUSINESS_TIME, LATEST_BUSINESS_TIME, make_test_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_pki(tmp_path_factory.mktemp("personal-pki"))


def test_a_head_gets_a_personal_certificate_the_ca_vouches_for(pki: Path) -> None:
    cert_path, key_path = ensure_personal_certificate(
        pki, "head-telecom", "Әсел Нұрланова", "Head of committee", unit="TELECOM"
    )
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Әсел Нұрланова"
    assert subject.get_attributes_for_oid(NameOID.TITLE)[0].value == "Head of committee"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "TELECOM"
    trust = TrustStore.from_dir(pki)
    for moment in (EARLIEST_BUSINESS_TIME, LATEST_BUSINESS_TIME, datetime.now(UTC)):
        trust.check(cert, moment)  # valid wherever the suite's business clock may stand
    # issued once: a second call keeps the same key pair
    again = ensure_personal_certificate(pki, "head-telecom", "Әсел Нұрланова", "Head")
    assert again == (cert_path, key_path) and again[0].read_bytes() == cert_path.read_bytes()
    # the systems' own certificates are untouched and the person's is not among them
    assert not (pki / "head-telecom.pem").exists()
    system = x509.load_pem_x509_certificate((pki / "ELICENSE.pem").read_bytes())
    assert system.public_key().public_numbers() != cert.public_key().public_numbers()


@pytest.mark.parametrize("name", ["", "ELICENSE", "GATEWAY"])
def test_a_personal_certificate_needs_a_persons_name(pki: Path, name: str) -> None:
    with pytest.raises(ValueError, match="person's name"):
        issue_personal_certificate(pki, name, "Head")
