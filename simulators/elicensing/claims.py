"""Which deciding worker has which application in hand, and for how long (row claims).

ELICENSE decides several applications at once, on several workers of one process and on several
processes sharing the database. A worker *claims* the oldest due application (registered by the
business clock, not DELIVERED) that nobody holds, works on it, and releases it; only the holder
works on an application, so each is decided by one worker at a time.

- PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` picks the candidate, so concurrent claimers
  skip each other's rows instead of queueing on them; the claim is written in that transaction.
- SQLite: the write transaction holds the database's write lock from BEGIN, and the UPDATE
  repeats the claim's condition: an atomic conditional claim.

A claim has a lease in real time (wall clock, UTC — a transport matter, like the retry delays,
not business time): a worker that died holding a claim (the process killed mid-decision) blocks
its application only until the lease expires; then another worker takes it and resumes it from
the store. A live worker renews its claim every third of the lease while it works (``held``), so
a decision slower than the lease — a provider answering late, GBDUL down for a while — is not
mistaken for a dead worker's and gathered and judged a second time. A release after a failure
keeps ``lease_until`` as the retry moment with no holder: the backoff, seen by every worker and
instance. The state guards in the store (a decision only from REGISTERED, in one transaction with
the fee and quota it consumes) and the deterministic messageIds stay the last line of defence
should a claim be lost all the same (a process stalled for longer than the lease).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from simulators.elicensing.register_tables import applications
from simulators.elicensing.store import (
    Application,
    ApplicationStore,
    State,
)

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 120.0  # far above a decision's time (a few gateway round trips)


def real_now() -> datetime:
    return datetime.now(UTC)


class Claims:
    """Claims on ``store``'s applications, each for ``lease`` real seconds."""

    def __init__(self, store: ApplicationStore, lease: float = DEFAULT_LEASE_SECONDS) -> None:
        self.store = store
        self.lease = lease

    async def claim(self, worker: str, due_by: datetime) -> Application | None:
        """The oldest application registered by ``due_by`` that nobody holds, now held by
        ``worker``; None when there is none."""
        await self.store.ready()
        now = real_now()
        free = or_(applications.c.lease_until.is_(None), applications.c.lease_until <= now)
        candidate = (
            select(applications.c.number)
            .where(
                applications.c.state != State.DELIVERED.value,
                applications.c.registered_at <= due_by,
                free,
            )
            .order_by(applications.c.registered_at, applications.c.number)
            .limit(1)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite holds its write lock
        )
        async with self.store.write() as conn:
            number = (await conn.execute(candidate)).scalar_one_or_none()
            if number is None:
                return None
            taken = (
                update(applications)
                .where(applications.c.number == number, free)
                .values(claimed_by=worker, lease_until=now + timedelta(seconds=self.lease))
                .returning(*applications.c)
            )
            row = (await conn.execute(taken)).first()
        return None if row is None else Application.from_row(dict(row._mapping))

    @asynccontextmanager
    async def held(self, number: str, worker: str) -> AsyncIterator[None]:
        """While the body runs, ``worker``'s claim on ``number`` is renewed every third of the
        lease, so that only a worker that stopped living loses it."""
        done = asyncio.Event()
        keeper = asyncio.create_task(self._keep(number, worker, done), name=f"claim {number}")
        try:
            yield
        finally:
            done.set()
            # Not cancelled: a renewal in flight must commit before the release that follows,
            # or it would write a lease after it.
            await keeper

    async def renew(self, number: str, worker: str) -> bool:
        """A full lease from now on ``worker``'s claim; False if it no longer holds ``number``."""
        async with self.store.write_one() as conn:
            result = await conn.execute(
                update(applications)
                .where(applications.c.number == number, applications.c.claimed_by == worker)
                .values(lease_until=real_now() + timedelta(seconds=self.lease))
            )
        return bool(result.rowcount)

    async def _keep(self, number: str, worker: str, done: asyncio.Event) -> None:
        beat = self.lease / 3  # two beats may fail (a database moment) before the lease ends
        while True:
            try:
                await asyncio.wait_for(done.wait(), beat)
                return
            except TimeoutError:
                pass
            try:
                if not await self.renew(number, worker):
                    log.warning(
                        "ELICENSE %s: %s lost its claim (stalled past the lease); the worker "
                        "holding it now resumes it, the store's guards keep it decided once",
                        number,
                        worker,
                    )
                    return
            except (SQLAlchemyError, OSError):
                log.warning("ELICENSE %s: claim not renewed; next beat", number, exc_info=True)

    async def release(
        self, number: str, worker: str, *, retry_in: float | None = None, **values: Any
    ) -> bool:
        """Let go of ``number`` (with ``values`` written), retryable after ``retry_in`` real
        seconds; False if ``worker`` no longer held it (its lease expired and another took it)."""
        retry_at = None if retry_in is None else real_now() + timedelta(seconds=retry_in)
        async with self.store.write_one() as conn:
            result = await conn.execute(
                update(applications)
                .where(applications.c.number == number, applications.c.claimed_by == worker)
                .values(claimed_by=None, lease_until=retry_at, **values)
            )
        return bool(result.rowcount)


def seconds_until_free(apps: list[Application]) -> float | None:
    """Real seconds until the first held or backed-off application of ``apps`` is free again."""
    now = real_now()
    waits = [(a.lease_until - now).total_seconds() for a in apps if a.lease_until is not None]
    return min((w for w in waits if w > 0), default=None)


__all__ = ["DEFAULT_LEASE_SECONDS", "Claims", "real_now", "seconds_until_free"]
