"""The one ``MetaData`` every gateway table registers on, and idempotent schema creation."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db import create_tables

metadata = MetaData()


async def create_schema(engine: AsyncEngine) -> None:
    """Create every missing table; existing tables and their rows are left untouched."""
    # The modules that define tables on ``metadata``, imported here so that no table is missed
    # because the caller did not import its module (they import this one, hence not at the top).
    from gateway.messagelog import schema as _messagelog
    from gateway.storage import seen_messages  # noqa: F401
    from gateway.tracking import store as _tracking  # noqa: F401

    # A log in the single-chain layout of earlier versions becomes one chain of the new one.
    await create_tables(engine, metadata, then=_messagelog.upgrade_single_chain)
