"""The SQL of the dead-letter queue: list what is parked there, put one back into its queue.

A dead letter is a row moved to the dead-letter queue with why (``dead_reason``), whence
(``dead_from_queue``) and when (``dead_at``); a replay moves it back as a new message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.broker.embedded.tables import fresh_values, messages, row_message
from gateway.broker.naming import Namespace
from gateway.broker.port import DeadLetter


def oldest(dead_letter_queue: str, limit: int) -> Select[Any]:
    return (
        select(messages)
        .where(messages.c.queue == dead_letter_queue)
        .order_by(messages.c.dead_at, messages.c.id)
        .limit(limit)
    )


def to_dead_letter(row: Row[Any], namespace: Namespace) -> DeadLetter:
    return DeadLetter(
        message=row_message(row),
        queue=namespace.port_name(row.dead_from_queue or ""),
        reason=row.dead_reason or "",
        attempts=row.attempt,
        dead_lettered_at=row.dead_at,
    )


async def replay(
    conn: AsyncConnection, dead_letter_queue: str, message_id: str, now: datetime
) -> str | None:
    """Move the oldest dead letter ``message_id`` back to its queue (returned) as attempt 1."""
    found = await conn.execute(
        select(messages.c.id, messages.c.dead_from_queue)
        .where(messages.c.queue == dead_letter_queue, messages.c.message_id == message_id)
        .order_by(messages.c.id)
        .limit(1)
        .with_for_update()
    )
    row = found.first()
    if row is None:
        return None
    fresh = fresh_values(row.dead_from_queue, now)
    await conn.execute(update(messages).where(messages.c.id == row.id).values(fresh))
    return str(row.dead_from_queue)


__all__ = ["oldest", "replay", "to_dead_letter"]
