"""Test databases: a fresh SQLite file, or a fresh schema on the real PostgreSQL.

Each PostgreSQL test gets its own schema (through the URL's ``search_path``) that is dropped
afterwards, so runs — and other developers' tests on the same database — never see each
other's rows.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.services import require_postgres

DATABASE_KINDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@contextmanager
def database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        # A directory that does not exist yet: create_engine must make it.
        yield f"sqlite+aiosqlite:///{tmp_path / 'var' / 'kzgate.db'}"
        return
    base = require_postgres()
    schema = f"kzgate_test_{uuid.uuid4().hex[:16]}"
    asyncio.run(_execute(base, f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?search_path={schema}"
    finally:
        asyncio.run(_execute(base, f'DROP SCHEMA "{schema}" CASCADE'))


async def _execute(url: str, statement: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()
