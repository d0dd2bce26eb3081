"""The SQL of declared queues: durable ones, and auto-delete ones kept alive by their owner.

A durable queue (a system queue, the dead-letter queue) is a row of ``broker_queues`` that stays.
An auto-delete queue (a private reply or event queue) has ``expires_at``: its broker renews it
while it lives; once it has expired (its process died) any broker drops it, and its messages
with it (the foreign key cascades). An event queue carries its topic ``binding_key``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Delete, Select, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.broker.embedded.tables import messages, queues

log = logging.getLogger(__name__)


async def declare_durable(conn: AsyncConnection, names: Iterable[str]) -> None:
    rows = [{"name": name} for name in dict.fromkeys(names)]
    await conn.execute(_upsert(conn).values(rows).on_conflict_do_nothing())


async def declare_auto_delete(
    conn: AsyncConnection, name: str, binding_key: str | None, *, expires_at: datetime
) -> None:
    statement = _upsert(conn).values(name=name, binding_key=binding_key, expires_at=expires_at)
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[queues.c.name], set_={"expires_at": expires_at}
        )
    )


def deletion(name: str) -> Delete:
    return delete(queues).where(queues.c.name == name)


def lookup(name: str) -> Select[Any]:
    return select(queues.c.name).where(queues.c.name == name)


async def event_queues(conn: AsyncConnection, prefix: str, now: datetime) -> list[tuple[str, str]]:
    """The live event subscription queues (names starting with ``prefix``), with their keys."""
    bound = await conn.execute(
        select(queues.c.name, queues.c.binding_key).where(
            queues.c.binding_key.is_not(None),
            queues.c.name.startswith(prefix, autoescape=True),
            queues.c.expires_at > now,
        )
    )
    return [(name, key) for name, key in bound]


async def renew_owned(conn: AsyncConnection, owned: dict[str, str | None], until: datetime) -> None:
    """Extend the auto-delete queues of this broker (name → binding key) until ``until``."""
    result = await conn.execute(
        update(queues)
        .where(queues.c.name.in_(owned))
        .values(expires_at=until)
        .returning(queues.c.name)
    )
    missing = set(owned) - set(result.scalars())
    if missing:
        # This process stalled past the expiry and another dropped them (and what they held).
        log.warning("auto-delete queue(s) %s had expired; declared again", sorted(missing))
        rows = [{"name": n, "binding_key": owned[n], "expires_at": until} for n in missing]
        await conn.execute(_upsert(conn).values(rows).on_conflict_do_nothing())


async def drop_expired(conn: AsyncConnection, now: datetime) -> None:
    """Drop the auto-delete queues whose owner stopped renewing them, and their messages."""
    await conn.execute(delete(queues).where(queues.c.expires_at <= now))


def depths() -> Select[Any]:
    """Messages waiting (or in flight) per durable queue: the system queues and the DLQ."""
    return (
        select(messages.c.queue, func.count())
        .join(queues, queues.c.name == messages.c.queue)
        .where(queues.c.expires_at.is_(None), queues.c.binding_key.is_(None))
        .group_by(messages.c.queue)
    )


def _upsert(conn: AsyncConnection) -> Any:
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return dialect_insert(queues)


__all__ = [
    "declare_auto_delete",
    "declare_durable",
    "deletion",
    "depths",
    "drop_expired",
    "event_queues",
    "lookup",
    "renew_owned",
]
