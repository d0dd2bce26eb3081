"""A simulated provider's replay guard: each (senderId, messageId) the gateway relays is acted on
once, for as long as a copy of the message could still pass freshness. A message the provider
refuses is released, so it can be corrected and resent under the same id (as at the gateway).

A real provider must refuse a replayed envelope even when the gateway signed it: whoever captured
one on the wire could otherwise make the provider act twice in the gateway's name. The kit's
provider has no database, so the claims live in memory, bounded: past ``limit`` claims inside one
window the oldest are forgotten first (a replay of those would pass — the bound is what keeps a
flood of honest traffic from exhausting the simulator's memory).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["SeenMessages"]


class SeenMessages:
    """Claims on (senderId, messageId), each held ``hold_seconds`` after it was first made."""

    def __init__(
        self,
        *,
        hold_seconds: float,
        limit: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._hold = hold_seconds
        self._limit = limit
        self._clock = clock
        # Insertion order is expiry order (one hold for all), so expired claims sit at the front.
        self._expiry: OrderedDict[tuple[str, str], float] = OrderedDict()

    def claim(self, sender_id: str, message_id: str) -> bool:
        """True the first time within the hold; False for a replay."""
        now = self._clock()
        while self._expiry and next(iter(self._expiry.values())) <= now:
            self._expiry.popitem(last=False)
        key = (sender_id, message_id)
        if key in self._expiry:
            return False
        self._expiry[key] = now + self._hold
        if len(self._expiry) > self._limit:
            self._expiry.popitem(last=False)
        return True

    def release(self, sender_id: str, message_id: str) -> None:
        """Forget a claim whose message was refused (nothing acted on): it may be resent."""
        self._expiry.pop((sender_id, message_id), None)

    def __len__(self) -> int:
        return len(self._expiry)
