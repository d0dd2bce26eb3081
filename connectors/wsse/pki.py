"""The test PKI: a simulated national root CA that issues each system's transport certificate.

Everything it issues carries ``O=KZGATE TEST PKI`` so production can recognise (and refuse) dev
keys. Files are PEM; private keys are unencrypted PKCS#8 written with mode 0600.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from connectors.roster import certificate_holders

# Who gets a transport certificate: the gateway and every system of the roster.
SYSTEMS = certificate_holders()
TEST_ORGANIZATION = "KZGATE TEST PKI"
CA_COMMON_NAME = "KZGATE Test National Root CA"
CA_FILE, CA_KEY_FILE, CRL_FILE = "ca.pem", "ca.key", "crl.pem"

KeyType = Literal["rsa", "ec"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

_CA_LIFETIME = timedelta(days=3650)
_LEAF_LIFETIME = timedelta(days=730)
_BACKDATE = timedelta(days=1)  # tolerates clocks of other systems running slightly behind
_CRL_LIFETIME = timedelta(days=7)
# System names become file names: keep them to a safe alphabet.
_SYSTEM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, TEST_ORGANIZATION),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
        ]
    )


def _new_key(key_type: KeyType = "rsa") -> PrivateKey:
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    # Write-then-rename so a running gateway never reads a half-written file (CRL reload).
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600 if private else 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_system(system: str) -> None:
    if not _SYSTEM_NAME.match(system):
        raise ValueError(f"invalid system name {system!r}")


def _ski(key: PrivateKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def _build_ca(key: PrivateKey, not_before: datetime, not_after: datetime) -> x509.Certificate:
    name = _name(CA_COMMON_NAME)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(_ski(key), critical=False)
        .sign(key, hashes.SHA256())
    )


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _leaf_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _load_ca(directory: Path) -> tuple[x509.Certificate, PrivateKey]:
    cert = x509.load_pem_x509_certificate((directory / CA_FILE).read_bytes())
    key = serialization.load_pem_private_key((directory / CA_KEY_FILE).read_bytes(), None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("the CA key must be RSA or EC")
    return cert, key


def _build_crl(
    ca: x509.Certificate,
    ca_key: PrivateKey,
    revoked: Iterable[x509.RevokedCertificate],
    number: int,
) -> x509.CertificateRevocationList:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(now)
        .next_update(now + _CRL_LIFETIME)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    for entry in revoked:
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(ca_key, hashes.SHA256())


def issue_certificate(
    directory: Path,
    system: str,
    *,
    key_type: KeyType = "rsa",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> tuple[bytes, bytes]:
    """Issue a fresh certificate for ``system`` from the CA in ``directory``; writes nothing.

    Returns ``(certificate PEM, private key PEM)``. ``not_before``/``not_after`` override the
    default validity (yesterday + 2 years) so tests can make expired or not-yet-valid certs.
    """
    _check_system(system)
    start = not_before or datetime.now(UTC) - _BACKDATE
    return _issue_leaf(
        directory, _name(system), key_type, start, not_after or start + _LEAF_LIFETIME
    )


def _issue_leaf(
    directory: Path,
    subject: x509.Name,
    key_type: KeyType,
    not_before: datetime | None,
    not_after: datetime | None,
) -> tuple[bytes, bytes]:
    """A signing leaf for ``subject`` from the CA in ``directory`` (None: the CA's own bounds)."""
    ca, ca_key = _load_ca(directory)
    key = _new_key(key_type)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or ca.not_valid_before_utc)
        .not_valid_after(not_after or ca.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_key_usage(), critical=True)
        .add_extension(_ski(key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return _cert_pem(cert), _key_pem(key)


PERSONAL_DIR = "personal"  # persons' key pairs, apart from the systems' (not trust anchors)


def issue_personal_certificate(
    directory: Path, full_name: str, role: str, *, unit: str | None = None
) -> tuple[bytes, bytes]:
    """A **personal** signing certificate from the CA in ``directory``; writes nothing.

    For an official who signs in person (a committee head signing a permit): CN is the person's
    name, the title their role, OU their unit — never a system id, so a verifier can tell a
    person's signature from a system's. Valid for as long as the CA, so a rehearsal at any
    business time the test PKI covers finds it valid. Returns ``(certificate PEM, key PEM)``.
    """
    if not full_name.strip() or full_name in SYSTEMS:
        raise ValueError(f"a personal certificate needs a person's name, not {full_name!r}")
    attributes = [
        x509.NameAttribute(NameOID.COMMON_NAME, full_name),
        x509.NameAttribute(NameOID.TITLE, role),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, TEST_ORGANIZATION),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
    ]
    if unit:
        attributes.insert(2, x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    return _issue_leaf(directory, x509.Name(attributes), "rsa", None, None)


def ensure_personal_certificate(
    directory: Path, slug: str, full_name: str, role: str, *, unit: str | None = None
) -> tuple[Path, Path]:
    """``personal/<slug>.pem`` and ``.key`` under ``directory``, issued once (idempotent)."""
    _check_system(slug)  # the same safe alphabet: it becomes a file name
    folder = directory / PERSONAL_DIR
    cert_path, key_path = folder / f"{slug}.pem", folder / f"{slug}.key"
    if not (cert_path.exists() and key_path.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        cert_pem, key_pem = issue_personal_certificate(directory, full_name, role, unit=unit)
        _write(key_path, key_pem, private=True)
        _write(cert_path, cert_pem)
    return cert_path, key_path


def _init_ca(directory: Path, validity: Validity) -> list[str]:
    if (directory / CA_FILE).exists():
        if not (directory / CA_KEY_FILE).exists():
            raise FileNotFoundError(f"{directory / CA_KEY_FILE} is missing; the CA cannot issue")
        return []
    key = _new_key("rsa")
    # The CA outlives every leaf it issues: a leaf is never valid where its issuer is not.
    not_after = max(validity.start + _CA_LIFETIME, validity.end)
    _write(directory / CA_KEY_FILE, _key_pem(key), private=True)
    _write(directory / CA_FILE, _cert_pem(_build_ca(key, validity.start, not_after)))
    return [CA_FILE, CA_KEY_FILE]


def _init_crl(directory: Path) -> list[str]:
    if (directory / CRL_FILE).exists():
        return []
    ca, ca_key = _load_ca(directory)
    crl = _build_crl(ca, ca_key, [], number=1)
    _write(directory / CRL_FILE, crl.public_bytes(serialization.Encoding.PEM))
    return [CRL_FILE]


def _init_system(directory: Path, system: str, validity: Validity) -> list[str]:
    cert_path, key_path = directory / f"{system}.pem", directory / f"{system}.key"
    if cert_path.exists() and key_path.exists():
        return []
    cert_pem, key_pem = issue_certificate(
        directory, system, not_before=validity.start, not_after=validity.end
    )
    _write(key_path, key_pem, private=True)
    _write(cert_path, cert_pem)
    return [cert_path.name, key_path.name]


@dataclass(frozen=True)
class Validity:
    """When the certificates of a new PKI are valid: ``start`` to ``end``, both inclusive."""

    start: datetime
    end: datetime

    @classmethod
    def default(cls, now: datetime | None = None) -> Validity:
        """From yesterday for the leaf lifetime (2 years): a PKI for systems on the real clock."""
        start = (now or datetime.now(UTC)) - _BACKDATE
        return cls(start, start + _LEAF_LIFETIME)

    @classmethod
    def covering(cls, *moments: datetime) -> Validity:
        """Valid at each of ``moments`` and for the leaf lifetime after the real now.

        For rehearsals on a virtual clock: a business time in the past (a fixed test date, a
        clock started last year) must find the certificates valid, as must the real clock.
        """
        default = cls.default()
        start = min([default.start, *(m - _BACKDATE for m in moments)])
        end = max([default.end, *(m + _BACKDATE for m in moments)])
        return cls(start, end)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("PKI validity needs timezone-aware datetimes")
        if self.end <= self.start:
            raise ValueError(f"PKI validity ends ({self.end}) before it starts ({self.start})")


def init_pki(
    directory: Path, systems: Iterable[str] = SYSTEMS, *, validity: Validity | None = None
) -> list[str]:
    """Create the CA, its CRL and each system's key pair where missing; return the new files.

    Idempotent: existing files are never touched. A system whose cert or key is missing gets a
    new pair (both files), since a lone cert or key is useless. ``validity`` sets when the new
    certificates are valid (default: ``Validity.default()``, from yesterday for two years).
    """
    validity = validity or Validity.default()
    directory.mkdir(parents=True, exist_ok=True)
    created = _init_ca(directory, validity) + _init_crl(directory)
    for system in systems:
        _check_system(system)
        created += _init_system(directory, system, validity)
    return created


def _crl_number(crl: x509.CertificateRevocationList) -> int:
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return 0


def revoke(directory: Path, system: str) -> int:
    """Put ``system``'s current certificate on the CRL, re-sign ``crl.pem``; return its serial."""
    _check_system(system)
    cert = x509.load_pem_x509_certificate((directory / f"{system}.pem").read_bytes())
    revoke_serial(directory, cert.serial_number)
    return cert.serial_number


def revoke_serial(directory: Path, serial: int) -> None:
    """Put the certificate with ``serial`` on the CRL of the CA in ``directory`` (once)."""
    ca, ca_key = _load_ca(directory)
    old = x509.load_pem_x509_crl((directory / CRL_FILE).read_bytes())
    entries = list(old)
    if old.get_revoked_certificate_by_serial_number(serial) is None:
        entries.append(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(datetime.now(UTC))
            .build()
        )
    crl = _build_crl(ca, ca_key, entries, number=_crl_number(old) + 1)
    _write(directory / CRL_FILE, crl.public_bytes(serialization.Encoding.PEM))


def is_dev_certificate(cert: x509.Certificate) -> bool:
    """True when ``cert`` was issued under the KZGATE TEST PKI (a dev key production refuses)."""
    issuer_orgs = cert.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return any(attr.value == TEST_ORGANIZATION for attr in issuer_orgs)
