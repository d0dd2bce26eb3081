"""Personal signing keys of the test PKI: officials and declarants, not systems.

Seeds 000/001 and 004 want results certified with a *person's* EDS (the head, the authorised
customs official) and seed 004 has the declarant confirm the declaration with their own EDS
(Annex 5 para 10, process 4). The test PKI issues such certificates from its CA on first use,
under ``<pki>/personal/`` so the system certificates beside them stay as they are. The subject's
common name is the person's handle (``KEDEN-OFFICIAL-0001``, ``DECLARANT-<BIN/IIN>``).
"""

from __future__ import annotations

from pathlib import Path

from connectors import TransportKey
from connectors.wsse.pki import PERSONAL_DIR, ensure_personal_certificate

__all__ = ["PERSONAL_DIR", "declarant_name", "personal_key"]


def personal_key(pki_dir: Path, name: str, *, role: str = "person") -> TransportKey:
    """The key and certificate of ``name`` (CN = ``name``), issued by the test CA in ``pki_dir``
    when missing: the one personal-certificate profile of the test PKI, shared with the export
    pilot's committee heads (``connectors.wsse.pki.ensure_personal_certificate``)."""
    cert, key = ensure_personal_certificate(pki_dir, name, name, role)
    return TransportKey.from_files(cert, key)


def declarant_name(identifier: str) -> str:
    """The common name of a declarant's personal certificate in the test PKI."""
    return f"DECLARANT-{identifier}"
