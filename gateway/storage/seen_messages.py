"""Claims on messageIds: which (sender, messageId) pairs were accepted, until when (replay guard).

Shared by every gateway process through the database, so a replay sent to another instance
is still caught. Atomicity comes from the primary key, not from a read-then-write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Index, String, Table, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db import DriverStatement, UtcDateTime, write_transaction
from gateway.storage.schema import metadata

seen_messages = Table(
    "seen_messages",
    metadata,
    Column("sender_id", String, primary_key=True),
    Column("message_id", String, primary_key=True),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_seen_messages_expires_at", "expires_at"),
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _claim_statement(dialect: str) -> Any:
    """The claim as one statement, built once per dialect: only its parameters change per call.

    Building it anew for every message (values inlined) cost SQLAlchemy a statement, its bind
    parameters and its cache key each time; this one is compiled once and then only executed.
    """
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = seen_messages
    expires_at = bindparam("expires_at", type_=UtcDateTime)
    return (
        insert(table)
        .values(sender_id=bindparam("sender_id"), message_id=bindparam("message_id"))
        .values(expires_at=expires_at)
        .on_conflict_do_update(
            index_elements=[table.c.sender_id, table.c.message_id],
            set_={"expires_at": expires_at},
            where=table.c.expires_at <= bindparam("now", type_=UtcDateTime),
        )
        .returning(table.c.sender_id)
    )


# Built and compiled once per dialect; a claim only binds its parameters. It runs on a
# SQLAlchemy connection or on the driver's (the message log's PostgreSQL append).
_CLAIM = DriverStatement(_claim_statement)


async def claim_on(
    connection: Any, sender_id: str, message_id: str, expires_at: datetime, now: datetime
) -> bool:
    """Claim (sender_id, message_id) inside the caller's transaction; False while a claim holds.

    ``connection`` is a SQLAlchemy ``AsyncConnection`` or an asyncpg connection in a transaction.
    One statement decides: insert, or on a key conflict take over the row only if it has
    expired. Concurrent claimers in any number of processes get exactly one True.
    """
    parameters = {
        "sender_id": sender_id,
        "message_id": message_id,
        "expires_at": expires_at,
        "now": now,
    }
    return bool(await _CLAIM.rows_in(connection, parameters))


class SeenMessages:
    """The claims on their own: a claim in its own transaction, and the purge of expired ones."""

    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], datetime] = _utc_now):
        self._engine = engine
        self._clock = clock

    async def claim(self, sender_id: str, message_id: str, expires_at: datetime) -> bool:
        async with write_transaction(self._engine) as conn:
            return await claim_on(conn, sender_id, message_id, expires_at, self._clock())

    async def purge(self, now: datetime | None = None) -> int:
        """Delete claims that expired at or before ``now``; returns how many were deleted."""
        cutoff = now or self._clock()
        async with write_transaction(self._engine) as conn:
            result = await conn.execute(
                delete(seen_messages).where(seen_messages.c.expires_at <= cutoff)
            )
        return result.rowcount
