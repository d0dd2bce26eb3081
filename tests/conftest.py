"""Shared fixtures. lxml is imported before xmlsec on purpose: both must bind one libxml2."""

from __future__ import annotations

import lxml.etree  # noqa: F401  (first, see module docstring)

import xmlsec  # noqa: F401  isort: skip

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db import create_engine
from gateway.storage import create_schema
from tests.storage.databases import DATABASE_KINDS, database_url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` (whole systems, minutes each) run first, each module kept together:
    pytest-xdist hands tests out in this order, so a slow module that came last in the alphabet
    would otherwise start when the rest is nearly done and leave three workers idle while it runs
    on alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(params=DATABASE_KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each kind: a SQLite file, and a schema on the real PostgreSQL."""
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    await create_schema(engine)
    yield engine
    await engine.dispose()
