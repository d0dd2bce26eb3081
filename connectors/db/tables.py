"""Creating tables that several processes may create at once on one database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors.db.engine import write_transaction

# Any constant works; it only has to be the same in every process that creates tables.
_SCHEMA_LOCK_KEY = 0x6B7A_6761_7465


async def create_tables(
    engine: AsyncEngine,
    tables: MetaData,
    *,
    then: Callable[[AsyncConnection], Awaitable[None]] | None = None,
) -> None:
    """``create_all`` that several processes may run at once on one database.

    PostgreSQL: an advisory lock serialises the CREATE TABLEs. SQLite: the write lock is taken at
    BEGIN, so a second process waits its busy timeout instead of failing with "database is
    locked". ``then`` runs in the same transaction (e.g. seeding rows).
    """
    async with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK_KEY})
        await conn.run_sync(tables.create_all, checkfirst=True)
        if then is not None:
            await then(conn)
