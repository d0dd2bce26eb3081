"""The trust store: chain, validity, CRL (reloaded while running) and the cache's limits."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509

from connectors import (
    FaultCode,
    GatewayError,
    TransportKey,
    TrustStore,
    errors,
    sign_envelope,
    verify_envelope,
)
from connectors.wsse import pki
from connectors.wsse.tokens import parse_dn
from tests.pki import make_test_pki
from tests.security.helpers import new_envelope


def _refused(fault: FaultCode, store: TrustStore, cert: x509.Certificate, at) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        store.check(cert, at)
    assert caught.value.fault is fault, caught.value
    return caught.value


def _ca(directory: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())


def _crl(directory: Path) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl((directory / "crl.pem").read_bytes())


def test_revocation_reaches_a_running_store(tmp_path, now):
    make_test_pki(tmp_path, ("PEP",))
    key = TransportKey.from_files(tmp_path / "PEP.pem", tmp_path / "PEP.key")
    store = TrustStore.from_dir(tmp_path)
    envelope = new_envelope()
    sign_envelope(envelope, key)
    assert verify_envelope(envelope, store, now=now)  # now cached as trusted
    pki.revoke(tmp_path, "PEP")
    with pytest.raises(GatewayError) as caught:
        verify_envelope(envelope, store, now=now)
    assert caught.value.fault is errors.CERT_REVOKED


def test_crl_with_a_foreign_signature_is_refused(pki_dir, foreign_dir, gateway_key, now):
    # Same issuer DN, other key: the CRL cannot be trusted, so nothing under that CA is.
    store = TrustStore([_ca(pki_dir)], [_crl(foreign_dir)])
    error = _refused(errors.CERT_UNTRUSTED, store, gateway_key.certificate, now)
    assert "CRL" in error.detail


def test_unreadable_crl_fails_closed(tmp_path, now):
    make_test_pki(tmp_path, ("PEP",))
    cert = x509.load_pem_x509_certificate((tmp_path / "PEP.pem").read_bytes())
    store = TrustStore.from_dir(tmp_path)
    store.check(cert, now)
    (tmp_path / "crl.pem").write_bytes(
        b"-----BEGIN X509 CRL-----\ngarbage\n-----END X509 CRL-----\n"
    )
    _refused(errors.CERT_UNTRUSTED, store, cert, now)


def test_deleted_crl_keeps_revocations(tmp_path, now):
    make_test_pki(tmp_path, ("PEP",))
    cert = x509.load_pem_x509_certificate((tmp_path / "PEP.pem").read_bytes())
    pki.revoke(tmp_path, "PEP")
    store = TrustStore.from_dir(tmp_path)
    (tmp_path / "crl.pem").unlink()
    _refused(errors.CERT_REVOKED, store, cert, now)


def test_foreign_certificate_with_our_issuer_name_is_untrusted(pki_dir, foreign_key, now):
    assert foreign_key.certificate.issuer == _ca(pki_dir).subject
    _refused(errors.CERT_UNTRUSTED, TrustStore([_ca(pki_dir)]), foreign_key.certificate, now)


def test_the_ca_itself_may_not_sign_messages(pki_dir, now):
    store = TrustStore([_ca(pki_dir)])
    error = _refused(errors.CERT_UNTRUSTED, store, _ca(pki_dir), now)
    assert "keyUsage" in error.detail


def test_cache_does_not_outlive_validity(pki_dir, gateway_key, now):
    store = TrustStore([_ca(pki_dir)], [_crl(pki_dir)])
    store.check(gateway_key.certificate, now)
    after_expiry = gateway_key.certificate.not_valid_after_utc + timedelta(seconds=1)
    _refused(errors.CERT_EXPIRED, store, gateway_key.certificate, after_expiry)
    before_start = gateway_key.certificate.not_valid_before_utc - timedelta(seconds=1)
    _refused(errors.CERT_EXPIRED, store, gateway_key.certificate, before_start)
    store.check(gateway_key.certificate, now)


def test_cache_does_not_outlive_a_crl_change(tmp_path, now):
    make_test_pki(tmp_path, ("PEP",))
    cert = x509.load_pem_x509_certificate((tmp_path / "PEP.pem").read_bytes())
    store = TrustStore([_ca(tmp_path)], [_crl(tmp_path)])
    store.check(cert, now)
    pki.revoke(tmp_path, "PEP")
    store.install_crls([_crl(tmp_path)])
    _refused(errors.CERT_REVOKED, store, cert, now)


def test_naive_time_is_a_programming_error(pki_dir, gateway_key, now):
    with pytest.raises(ValueError):
        TrustStore([_ca(pki_dir)]).check(gateway_key.certificate, now.replace(tzinfo=None))


def test_find_by_issuer_serial_ignores_dn_formatting(pki_dir, gateway_key):
    store = TrustStore([_ca(pki_dir)], known=[gateway_key.certificate])
    serial = gateway_key.certificate.serial_number
    styles = [
        "CN=KZGATE Test National Root CA,O=KZGATE TEST PKI,C=KZ",
        "CN=KZGATE Test National Root CA, O=KZGATE TEST PKI, C=KZ",
        "C=KZ; O=kzgate test pki; CN=KZGATE  Test National Root CA",
    ]
    for style in styles:
        assert store.find_by_issuer_serial(parse_dn(style), serial) == gateway_key.certificate
    assert store.find_by_issuer_serial(parse_dn(styles[0]), serial + 1) is None
