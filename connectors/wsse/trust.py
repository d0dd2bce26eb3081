"""The trust store: which CAs the gateway trusts, their CRLs, and the senders' known certificates.

``check`` sits on the hot path, so a positive answer is cached per certificate fingerprint — but
only until the CRL changes or the certificate (or its CA) leaves its validity period.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from connectors import errors
from connectors.errors import GatewayError
from connectors.wsse.pki import CA_FILE, CRL_FILE

_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class _Trusted:
    generation: int
    not_before: datetime
    not_after: datetime


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("trust checks need a timezone-aware datetime")
    return moment


def name_key(name: x509.Name) -> tuple[tuple[str, str], ...]:
    """An order-, case- and spacing-insensitive key for a DN (issuer names arrive in any style)."""
    return tuple(
        sorted(
            (attr.oid.dotted_string, " ".join(str(attr.value).split()).casefold()) for attr in name
        )
    )


def _load_pem_crls(data: bytes) -> list[x509.CertificateRevocationList]:
    marker = b"-----BEGIN X509 CRL-----"
    return [x509.load_pem_x509_crl(marker + part) for part in data.split(marker)[1:]]


class TrustStore:
    """Trusted CAs, their CRLs and the registry of known certificates (for X509IssuerSerial)."""

    def __init__(
        self,
        cas: Sequence[x509.Certificate],
        crls: Sequence[x509.CertificateRevocationList] = (),
        *,
        known: Iterable[x509.Certificate] = (),
    ) -> None:
        if not cas:
            raise ValueError("a trust store needs at least one CA")
        self._cas = list(cas)
        self._known: dict[tuple[tuple[tuple[str, str], ...], int], x509.Certificate] = {}
        self._cache: dict[x509.Certificate, _Trusted] = {}
        self._generation = 0
        self._revoked: dict[int, frozenset[int]] = {}
        self._bad_crl: dict[int, str] = {}
        self._crl_path: Path | None = None
        self._crl_stamp: tuple[int, int, int] | None = None
        self.install_crls(crls)
        for cert in known:
            self.add_known_certificate(cert)

    @classmethod
    def from_dir(cls, pki_dir: Path) -> TrustStore:
        """Trust ``ca.pem`` (one or more CAs) and follow ``crl.pem``, re-read once rewritten."""
        cas = x509.load_pem_x509_certificates((pki_dir / CA_FILE).read_bytes())
        store = cls(cas)
        store._crl_path = pki_dir / CRL_FILE
        store._refresh()
        return store

    @property
    def cas(self) -> list[x509.Certificate]:
        return list(self._cas)

    def install_crls(self, crls: Sequence[x509.CertificateRevocationList]) -> None:
        """Replace the CRLs; a CRL naming a trusted CA must carry that CA's valid signature."""
        revoked: dict[int, set[int]] = {}
        bad: dict[int, str] = {}
        for crl in crls:
            for index, ca in enumerate(self._cas):
                if crl.issuer != ca.subject:
                    continue
                if not crl.is_signature_valid(ca.public_key()):  # type: ignore[arg-type]
                    bad[index] = "the CRL's signature does not verify with its CA"
                    continue
                revoked.setdefault(index, set()).update(e.serial_number for e in crl)
        self._set_revocations({i: frozenset(s) for i, s in revoked.items()}, bad)

    def _set_revocations(self, revoked: dict[int, frozenset[int]], bad: dict[int, str]) -> None:
        self._revoked, self._bad_crl = revoked, bad
        self._generation += 1
        self._cache.clear()

    def _refresh(self) -> None:
        # One stat per check: cheap, and `kzgate pki revoke` takes effect on the next message.
        if self._crl_path is None:
            return
        try:
            st = os.stat(self._crl_path)
        except FileNotFoundError:
            # Deleting the CRL must not silently un-revoke anything: keep the last one read.
            return
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp == self._crl_stamp:
            return
        self._crl_stamp = stamp
        try:
            self.install_crls(_load_pem_crls(self._crl_path.read_bytes()))
        except (OSError, ValueError) as exc:
            # Fail closed: an unreadable CRL means revocation status is unknown for every CA.
            reason = f"the CRL file cannot be read ({exc.__class__.__name__})"
            self._set_revocations({}, dict.fromkeys(range(len(self._cas)), reason))

    def add_known_certificate(self, cert: x509.Certificate) -> None:
        """Register a sender's certificate so an X509IssuerSerial reference can find it."""
        self._known[(name_key(cert.issuer), cert.serial_number)] = cert

    def find_by_issuer_serial(self, issuer: x509.Name, serial: int) -> x509.Certificate | None:
        """The registered certificate with this issuer DN and serial, if any."""
        return self._known.get((name_key(issuer), serial))

    def check(self, cert: x509.Certificate, at: datetime) -> None:
        """Raise CERT_UNTRUSTED / CERT_EXPIRED / CERT_REVOKED unless ``cert`` is good at ``at``."""
        at = _aware(at)
        self._refresh()
        # Checks run in worker threads: the generation is taken before the revocation check, so a
        # CRL installed meanwhile makes this result stale instead of caching it as current.
        generation = self._generation
        # Certificates hash and compare by their DER bytes: the same key as a fingerprint, cheaper.
        hit = self._cache.get(cert)
        if hit and hit.generation == generation and hit.not_before <= at <= hit.not_after:
            return
        index = self._issuer_index(cert)
        ca = self._cas[index]
        not_before, not_after = self._validity(cert, ca, at)
        self._check_revocation(cert, index)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[cert] = _Trusted(generation, not_before, not_after)

    def _issuer_index(self, cert: x509.Certificate) -> int:
        for index, ca in enumerate(self._cas):
            if cert.issuer != ca.subject:
                continue
            try:
                cert.verify_directly_issued_by(ca)
            except (ValueError, TypeError, InvalidSignature):
                continue
            _require_signing_usage(cert)
            return index
        raise GatewayError(
            errors.CERT_UNTRUSTED, f"{cert.subject.rfc4514_string()} is not issued by a trusted CA"
        )

    @staticmethod
    def _validity(
        cert: x509.Certificate, ca: x509.Certificate, at: datetime
    ) -> tuple[datetime, datetime]:
        if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
            start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
            raise GatewayError(errors.CERT_EXPIRED, f"valid {start:%Y-%m-%d} to {end:%Y-%m-%d}")
        if not ca.not_valid_before_utc <= at <= ca.not_valid_after_utc:
            raise GatewayError(errors.CERT_EXPIRED, "the issuing CA is outside its validity")
        return (
            max(cert.not_valid_before_utc, ca.not_valid_before_utc),
            min(cert.not_valid_after_utc, ca.not_valid_after_utc),
        )

    def _check_revocation(self, cert: x509.Certificate, index: int) -> None:
        if index in self._bad_crl:
            raise GatewayError(errors.CERT_UNTRUSTED, self._bad_crl[index])
        if cert.serial_number in self._revoked.get(index, frozenset()):
            raise GatewayError(errors.CERT_REVOKED, f"serial {cert.serial_number} is on the CRL")


def _require_signing_usage(cert: x509.Certificate) -> None:
    # A CA certificate (keyCertSign only) or an encryption-only cert may not sign messages.
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.digital_signature:
        raise GatewayError(errors.CERT_UNTRUSTED, "the certificate's keyUsage forbids signing")
