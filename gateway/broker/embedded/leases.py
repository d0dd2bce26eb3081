"""The SQL of at-least-once delivery: claim rows under a lease, renew, release, settle.

A consumer claims up to ``prefetch`` due rows in one UPDATE that sets ``lease_owner`` (a token
per claim) and ``lease_expires_at``; while the handler runs, the broker renews the lease. A row
whose lease expired was held by a consumer that died: the next claim counts it as a
redelivery (attempt + 1), and one that would go past ``max_attempts`` is dead-lettered instead,
so a message that kills its consumer cannot loop forever. Every settlement is checked against
the claim's token (``held_by``): a consumer whose lease was lost must not settle someone else's.

Locking: on SQLite the write transaction holds the database's write lock (BEGIN IMMEDIATE); on
PostgreSQL the candidates are taken ``FOR UPDATE SKIP LOCKED``, so consumers never wait on
each other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Update, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.broker.delivery import worn_reason
from gateway.broker.embedded.tables import messages

log = logging.getLogger(__name__)

# A claimed row, as the settle statements know it: its id and the claim's token.
Claim = tuple[int, str]


def ready(stored: str, now: datetime) -> ColumnElement[bool]:
    """Rows of ``stored`` that may be delivered now: due, and nobody holds a live lease."""
    lease_free = or_(messages.c.lease_expires_at.is_(None), messages.c.lease_expires_at <= now)
    return and_(messages.c.queue == stored, messages.c.available_at <= now, lease_free)


async def any_ready(conn: AsyncConnection, stored: str, now: datetime) -> bool:
    """A plain read: an idle poll must not take SQLite's write lock."""
    query = select(messages.c.id).where(ready(stored, now)).limit(1)
    return (await conn.execute(query)).first() is not None


@dataclass(frozen=True)
class LeaseTerms:
    """How long a claim holds its rows, and how many deliveries a row gets before the DLQ."""

    lease: timedelta
    max_attempts: int
    dead_letter_queue: str  # its stored name


async def claim(
    conn: AsyncConnection, stored: str, limit: int, token: str, now: datetime, terms: LeaseTerms
) -> list[Row[Any]]:
    """Lease up to ``limit`` due rows to ``token``; worn-out ones go to the dead-letter queue."""
    candidates = (
        select(messages.c.id)
        .where(ready(stored, now))
        .order_by(messages.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite holds the write lock
    )
    previous_holder = messages.c.lease_owner.is_not(None)
    statement = (
        update(messages)
        .where(messages.c.id.in_(candidates.scalar_subquery()))
        .values(
            # SET sees the old row: a row that had a holder is a redelivery.
            attempt=case((previous_holder, messages.c.attempt + 1), else_=messages.c.attempt),
            redelivered=previous_holder,
            lease_owner=token,
            lease_expires_at=now + terms.lease,
        )
        .returning(*messages.c)
    )
    rows = sorted((await conn.execute(statement)).all(), key=lambda row: row.id)
    worn = [row for row in rows if row.attempt > terms.max_attempts]
    if worn:
        await _bury_worn(conn, worn, now, terms.dead_letter_queue)
    return [row for row in rows if row.attempt <= terms.max_attempts]


async def _bury_worn(
    conn: AsyncConnection, rows: list[Row[Any]], now: datetime, dead_letter_queue: str
) -> None:
    """Dead-letter rows whose consumers kept dying: they would loop forever otherwise."""
    for row in rows:
        reason = worn_reason(row.attempt - 1)
        log.warning("dead-lettered %s from %s: %s", row.message_id, row.queue, reason)
        await conn.execute(
            update(messages)
            .where(messages.c.id == row.id)
            .values(attempt=row.attempt - 1, **dead_values(dead_letter_queue, reason, now))
        )


def held_by(claim: Claim) -> ColumnElement[bool]:
    """Still this claim's row: a lost lease must not let it settle someone else's claim."""
    row_id, token = claim
    return and_(messages.c.id == row_id, messages.c.lease_owner == token)


def _held_by_any(claims: list[Claim]) -> ColumnElement[bool]:
    # Ids and tokens apart (not pairs): each token is a fresh uuid, so they cannot mix.
    return and_(
        messages.c.id.in_([row_id for row_id, _ in claims]),
        messages.c.lease_owner.in_({token for _, token in claims}),
    )


def retry_later(attempt: int, available_at: datetime) -> Update:
    """The row comes back as ``attempt`` at ``available_at``, its lease cleared."""
    return update(messages).values(
        attempt=attempt,
        available_at=available_at,
        lease_owner=None,
        lease_expires_at=None,
        redelivered=False,
    )


def dead_values(dead_letter_queue: str, reason: str, now: datetime) -> dict[str, Any]:
    """The columns of a row moved to the dead-letter queue."""
    return {
        "queue": dead_letter_queue,
        # A dead letter consumed from the DLQ and dead-lettered again keeps its origin.
        "dead_from_queue": func.coalesce(messages.c.dead_from_queue, messages.c.queue),
        "dead_reason": reason,
        "dead_at": now,
        "available_at": now,
        "lease_owner": None,
        "lease_expires_at": None,
        "redelivered": False,
    }


def release(claims: Iterable[Claim], now: datetime) -> Update:
    """End the leases now (keeping the holder, so the next claim counts a redelivery)."""
    return update(messages).where(_held_by_any(list(claims))).values(lease_expires_at=now)


async def renew(conn: AsyncConnection, claims: list[Claim], until: datetime) -> set[Claim]:
    """Extend the leases still held; the claims returned are those renewed (the rest are lost)."""
    if not claims:
        return set()
    result = await conn.execute(
        update(messages)
        .where(_held_by_any(claims))
        .values(lease_expires_at=until)
        .returning(messages.c.id, messages.c.lease_owner)
    )
    return {(row.id, row.lease_owner) for row in result}


__all__ = [
    "Claim",
    "LeaseTerms",
    "any_ready",
    "claim",
    "dead_values",
    "held_by",
    "release",
    "renew",
    "retry_later",
]
