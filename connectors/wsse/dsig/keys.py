"""Certificates and xmlsec verification keys, loaded once per certificate (the hot path: every
sender re-sends the same one) and refused as unusable when cryptography cannot read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import xmlsec
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

__all__ = ["key_for", "load_certificate", "public_key", "signer_certificate"]


@lru_cache(maxsize=1024)
def _certificate_from_der(der: bytes) -> tuple[x509.Certificate, xmlsec.Key]:
    # Hot path: every sender re-sends the same certificate, so parse and load its key once.
    cert = x509.load_der_x509_certificate(der)
    # cryptography parses names and extensions lazily: a certificate whose subject, issuer or
    # extensions are malformed would raise ValueError deep in the trust check (found by fuzzing).
    # Parse them here, so an unusable certificate is refused as such.
    _ = cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(), list(cert.extensions)
    return cert, public_key(cert)


def public_key(cert: x509.Certificate) -> xmlsec.Key:
    """An xmlsec key holding only the public key: a key that also carries the certificate costs
    ~50 µs per signature context (xmlsec duplicates it on every ``ctx.key =``)."""
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return xmlsec.Key.from_memory(spki, xmlsec.KeyFormat.DER)


def load_certificate(der: bytes) -> tuple[x509.Certificate, xmlsec.Key]:
    """Certificate and xmlsec verification key for DER bytes (cached); ValueError if unusable."""
    try:
        return _certificate_from_der(der)
    # Found by fuzzing: UnsupportedAlgorithm (a key type cryptography does not know),
    # DuplicateExtension / UnsupportedGeneralNameType (extensions it refuses), InvalidVersion (an
    # X.509 version other than 1 or 3) and TypeError (a name attribute of BitString type under an
    # OID other than x500UniqueIdentifier) are not ValueErrors.
    except (
        ValueError,
        TypeError,
        x509.InvalidVersion,
        UnsupportedAlgorithm,
        x509.DuplicateExtension,
        x509.UnsupportedGeneralNameType,
        xmlsec.Error,
    ) as exc:
        raise ValueError(f"unusable certificate: {exc}") from exc


def signer_certificate(ders: Sequence[bytes]) -> tuple[x509.Certificate, xmlsec.Key]:
    """From X509Data's certificates (maybe a chain), the signer's: the first that is not a CA."""
    loaded = [load_certificate(der) for der in ders]
    for cert, key in loaded:
        try:
            if cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                continue
        except x509.ExtensionNotFound:
            pass
        return cert, key
    return loaded[0]


def key_for(cert: x509.Certificate) -> xmlsec.Key:
    """The (cached) xmlsec verification key of ``cert``."""
    return load_certificate(cert.public_bytes(serialization.Encoding.DER))[1]
