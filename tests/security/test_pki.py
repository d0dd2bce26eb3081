"""The test PKI: files, certificate profile, idempotence, revocation."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from connectors import TrustStore
from connectors.wsse import pki


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _crl(directory: Path) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl((directory / "crl.pem").read_bytes())


@pytest.fixture(scope="module")
def small_pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    directory = tmp_path_factory.mktemp("small-pki")
    return directory, pki.init_pki(directory, ("KGD", "PEP"))


def test_init_creates_the_files(small_pki):
    directory, created = small_pki
    expected = {"ca.pem", "ca.key", "crl.pem", "KGD.pem", "KGD.key", "PEP.pem", "PEP.key"}
    assert set(created) == expected
    assert {p.name for p in directory.iterdir()} == expected
    for key in ("ca.key", "KGD.key"):
        assert stat.S_IMODE((directory / key).stat().st_mode) == 0o600
        assert (directory / key).read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_init_is_idempotent_and_fills_gaps(small_pki):
    directory, _ = small_pki
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    assert pki.init_pki(directory, ("KGD", "PEP")) == []
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before
    assert pki.init_pki(directory, ("KGD", "PEP", "MONITORING")) == [
        "MONITORING.pem",
        "MONITORING.key",
    ]
    assert (directory / "ca.pem").read_bytes() == before["ca.pem"]


def test_default_systems():
    assert pki.SYSTEMS == (
        "GATEWAY",
        "EGOV_PORTAL",
        "ELICENSE",
        "KEDEN",
        "GBDUL",
        "GBDFL",
        "KGD",
        "PEP",
        "MONITORING",
    )


def test_ca_profile(small_pki):
    directory, _ = small_pki
    ca = _cert(directory / "ca.pem")
    assert ca.subject == ca.issuer
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "KZGATE Test National Root CA"
    )
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    lifetime = ca.not_valid_after_utc - ca.not_valid_before_utc
    assert timedelta(days=3640) < lifetime < timedelta(days=3660)
    assert ca.not_valid_before_utc < datetime.now(UTC) - timedelta(hours=23)
    assert isinstance(ca.signature_hash_algorithm, hashes.SHA256)


def test_leaf_profile(small_pki):
    directory, _ = small_pki
    ca, leaf = _cert(directory / "ca.pem"), _cert(directory / "KGD.pem")
    leaf.verify_directly_issued_by(ca)
    assert leaf.subject.rfc4514_string() == "C=KZ,O=KZGATE TEST PKI,CN=KGD"
    assert isinstance(leaf.public_key(), rsa.RSAPublicKey)
    assert leaf.public_key().key_size == 2048
    assert leaf.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    ski = leaf.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest and ski.digest
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert timedelta(days=725) < lifetime < timedelta(days=735)


def test_crl_is_signed_by_the_ca_and_lasts_a_week(small_pki):
    directory, _ = small_pki
    crl, ca = _crl(directory), _cert(directory / "ca.pem")
    assert crl.is_signature_valid(ca.public_key())
    assert crl.next_update_utc - crl.last_update_utc == timedelta(days=7)


def test_revoke_updates_the_crl(tmp_path):
    pki.init_pki(tmp_path, ("PEP",))
    number_before = _crl(tmp_path).extensions.get_extension_for_class(x509.CRLNumber).value
    serial = pki.revoke(tmp_path, "PEP")
    assert serial == _cert(tmp_path / "PEP.pem").serial_number
    crl = _crl(tmp_path)
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert crl.is_signature_valid(_cert(tmp_path / "ca.pem").public_key())
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value
    assert number.crl_number == number_before.crl_number + 1
    pki.revoke(tmp_path, "PEP")  # revoking twice keeps one entry
    assert len(_crl(tmp_path)) == 1


def test_issue_certificate_writes_nothing_and_honours_options(small_pki):
    directory, _ = small_pki
    before = sorted(p.name for p in directory.iterdir())
    start = datetime(2020, 1, 1, tzinfo=UTC)
    cert_pem, key_pem = pki.issue_certificate(
        directory, "KGD", key_type="ec", not_before=start, not_after=start + timedelta(days=1)
    )
    assert sorted(p.name for p in directory.iterdir()) == before
    cert = x509.load_pem_x509_certificate(cert_pem)
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"
    assert cert.not_valid_after_utc == start + timedelta(days=1)
    assert key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")


def test_is_dev_certificate(small_pki, foreign_key):
    directory, _ = small_pki
    assert pki.is_dev_certificate(_cert(directory / "KGD.pem"))
    assert pki.is_dev_certificate(foreign_key.certificate)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "NCA of RK")])
    now = datetime.now(UTC)
    production = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    assert not pki.is_dev_certificate(production)


@pytest.mark.parametrize("system", ["../evil", "a/b", "", ".hidden"])
def test_system_names_cannot_escape_the_directory(small_pki, system):
    directory, _ = small_pki
    with pytest.raises(ValueError):
        pki.issue_certificate(directory, system)


def test_default_validity_starts_yesterday_for_two_years(small_pki):
    directory, _ = small_pki
    leaf, ca = _cert(directory / "KGD.pem"), _cert(directory / "ca.pem")
    now = datetime.now(UTC)
    assert now - timedelta(days=2) < leaf.not_valid_before_utc < now
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == timedelta(days=730)
    assert ca.not_valid_before_utc <= leaf.not_valid_before_utc
    assert ca.not_valid_after_utc >= leaf.not_valid_after_utc


def test_a_pki_for_a_virtual_clock_is_valid_then_and_now(tmp_path):
    """A rehearsal pinned to a past business day verifies signatures at that day, and today."""
    past = datetime(2025, 12, 31, 20, 0, tzinfo=UTC)
    validity = pki.Validity.covering(past)
    pki.init_pki(tmp_path, ("PEP",), validity=validity)
    leaf, ca = _cert(tmp_path / "PEP.pem"), _cert(tmp_path / "ca.pem")
    now = datetime.now(UTC)
    for cert in (leaf, ca):
        assert cert.not_valid_before_utc < past
        assert cert.not_valid_after_utc > now + timedelta(days=700)
    trust = TrustStore.from_dir(tmp_path)
    trust.check(leaf, past)
    trust.check(leaf, now)


def test_validity_must_be_a_sound_aware_interval():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="before it starts"):
        pki.Validity(start, start - timedelta(days=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        pki.Validity(datetime(2026, 1, 1), datetime(2027, 1, 1))
