"""The one ``MetaData`` every table registers on, and idempotent schema creation."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

metadata = MetaData()

# Modules that define tables on ``metadata``; imported by create_schema so that no table is
# missed just because its module was not imported yet by the caller.
TABLE_MODULES = (
    "gateway.storage.seen_messages",
    "gateway.messagelog.schema",
    "gateway.storage.broker_queue",
    "gateway.tracking.store",
)

# Any constant works; it only has to be the same in every gateway process.
_SCHEMA_LOCK_KEY = 0x6B7A_6761_7465


async def create_schema(engine: AsyncEngine) -> None:
    """Create every missing table; existing tables and their rows are left untouched."""
    for name in TABLE_MODULES:
        importlib.import_module(name)
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two processes starting at once would otherwise race on CREATE TABLE.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK_KEY})
        await conn.run_sync(metadata.create_all, checkfirst=True)
