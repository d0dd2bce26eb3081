"""Sender passwords: stored only as scrypt hashes, compared in constant time.

A scrypt check costs ~50 ms by design, far too much for every request, so a successful check is
remembered as an HMAC under a key that lives only in this process: a later request with the same
password costs one HMAC, and nothing reversible is kept in memory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

_N, _R, _P = 2**14, 8, 1
_PROCESS_KEY = os.urandom(32)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` with base64 fields, for the catalogue."""
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored_hash: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored_hash.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        password.encode(),
        salt=base64.b64decode(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=32,
    )
    return hmac.compare_digest(candidate, base64.b64decode(digest))


class PasswordChecker:
    """Checks passwords against their hashes, remembering successes as process-keyed HMACs."""

    def __init__(self) -> None:
        self._verified: dict[str, bytes] = {}

    def matches(self, sender_id: str, password: str, stored_hash: str) -> bool:
        tag = hmac.new(_PROCESS_KEY, f"{sender_id}\0{password}".encode(), "sha256").digest()
        known = self._verified.get(sender_id)
        if known is not None and hmac.compare_digest(known, tag):
            return True
        if not check_password(password, stored_hash):
            return False
        self._verified[sender_id] = tag
        return True
