"""The one ``MetaData`` every table registers on, and idempotent schema creation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.storage.engine import write_transaction

metadata = MetaData()


# Any constant works; it only has to be the same in every gateway process.
_SCHEMA_LOCK_KEY = 0x6B7A_6761_7465


async def create_schema(engine: AsyncEngine) -> None:
    """Create every missing table; existing tables and their rows are left untouched."""
    # The modules that define tables on ``metadata``, imported here so that no table is missed
    # because the caller did not import its module (they import this one, hence not at the top).
    from gateway.messagelog import schema as _messagelog
    from gateway.storage import seen_messages  # noqa: F401
    from gateway.tracking import store as _tracking  # noqa: F401

    # A log in the single-chain layout of earlier versions becomes one chain of the new one.
    await create_tables(engine, metadata, then=_messagelog.upgrade_single_chain)


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
