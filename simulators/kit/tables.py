"""Create-on-first-use: a simulator's tables are made the first time it touches its database.

Not at start-up: an ASGI app driven in-process (httpx2 ``ASGITransport``) never runs the lifespan
events, and a simulator must work the same either way. ``OnFirstUse`` runs the creation once per
process — concurrent first requests wait for the one that creates — and again only if that one
failed. Several processes racing on one database are the creation's own concern
(``create_tables`` serialises them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class OnFirstUse:
    """Awaiting it runs ``create`` the first time, and is free afterwards."""

    def __init__(self, create: Callable[[], Awaitable[None]]) -> None:
        self._create = create
        self._done = False
        self._lock = asyncio.Lock()

    async def __call__(self) -> None:
        if self._done:
            return
        async with self._lock:
            if not self._done:
                await self._create()
                self._done = True
