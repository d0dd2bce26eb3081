"""Sender passwords: stored only as scrypt hashes, compared in constant time.

A scrypt check costs ~50 ms by design, far too much for every request, so a successful check is
remembered as an HMAC under a key that lives only in this process: a later request with the same
password costs one HMAC, and nothing reversible is kept in memory.

Wrong passwords are what still costs a scrypt each, so they are rate-limited per sender: after
``failures_allowed`` wrong ones in a row the sender is locked for ``backoff_seconds``, doubled by
each further wrong one (at most ``max_backoff_seconds``). While locked no password is checked at
all — not even the right one, so the lock says nothing about whether a guess was right — and
nothing costs a scrypt. A right password ends the series. The counters live in this process, so
each gateway worker keeps its own (README, "Authentication without oracles", says what that
means for an attacker).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

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


class SenderLocked(Exception):
    """The sender sent too many wrong passwords; ``retry_after`` seconds until the next try."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"locked for {retry_after:.1f} s")
        self.retry_after = retry_after


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0


class PasswordChecker:
    """Checks passwords against their hashes, remembering successes as process-keyed HMACs and
    rate-limiting wrong ones per sender (see the module doc)."""

    def __init__(
        self,
        *,
        failures_allowed: int = 5,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._verified: dict[str, bytes] = {}
        self._failures: dict[str, _Failures] = {}
        self._allowed = failures_allowed
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._clock = clock
        # Admission runs in worker threads: the counters are read and written under one lock.
        self._lock = threading.Lock()

    def matches(self, sender_id: str, password: str, stored_hash: str) -> bool:
        """Whether ``password`` is right; ``SenderLocked`` while the sender is backing off."""
        # The stored hash is in the tag: a catalogue that gives the sender a new password makes
        # the remembered success miss, so the old password costs a scrypt again and fails.
        tag = hmac.new(
            _PROCESS_KEY, f"{sender_id}\0{password}\0{stored_hash}".encode(), "sha256"
        ).digest()
        self._refuse_if_locked(sender_id)
        known = self._verified.get(sender_id)
        if known is not None and hmac.compare_digest(known, tag):
            self._forget_failures(sender_id)
            return True
        if not check_password(password, stored_hash):
            self._count_failure(sender_id)
            return False
        self._verified[sender_id] = tag
        self._forget_failures(sender_id)
        return True

    def _refuse_if_locked(self, sender_id: str) -> None:
        with self._lock:
            failures = self._failures.get(sender_id)
            wait = 0.0 if failures is None else failures.locked_until - self._clock()
        if wait > 0:
            raise SenderLocked(wait)

    def _count_failure(self, sender_id: str) -> None:
        with self._lock:
            failures = self._failures.setdefault(sender_id, _Failures())
            failures.count += 1
            beyond = failures.count - self._allowed
            if beyond >= 0:
                delay = min(self._backoff * 2**beyond, self._max_backoff)
                failures.locked_until = self._clock() + delay

    def _forget_failures(self, sender_id: str) -> None:
        with self._lock:
            self._failures.pop(sender_id, None)
