"""Personal signing keys of the test PKI: officials and declarants, not systems.

Seeds 000/001 and 004 want results certified with a *person's* EDS (the head, the authorised
customs official) and seed 004 has the declarant confirm the declaration with their own EDS
(Annex 5 para 10, process 4). The test PKI issues such certificates from its CA on first use,
under ``<pki>/personal/`` so the system certificates beside them stay as they are. The subject's
common name is the person's handle (``KEDEN-OFFICIAL-0001``, ``DECLARANT-<BIN/IIN>``).
"""

from __future__ import annotations

from pathlib import Path

from gateway.security.pki import issue_certificate
from gateway.security.transport import TransportKey

PERSONAL_DIR = "personal"


def personal_key(pki_dir: Path, name: str) -> TransportKey:
    """The key and certificate of ``name``, issued by the test CA in ``pki_dir`` when missing."""
    directory = pki_dir / PERSONAL_DIR
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    if not (cert.exists() and key.exists()):
        directory.mkdir(parents=True, exist_ok=True)
        cert_pem, key_pem = issue_certificate(pki_dir, name)
        key.write_bytes(key_pem)
        key.chmod(0o600)
        cert.write_bytes(cert_pem)
    return TransportKey.from_files(cert, key)


def declarant_name(identifier: str) -> str:
    """The common name of a declarant's personal certificate in the test PKI."""
    return f"DECLARANT-{identifier}"
