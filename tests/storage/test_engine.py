from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, Table, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors.db import (
    UtcDateTime,
    create_engine,
    read_statement,
    write_statement,
    write_transaction,
)
from gateway.storage import create_schema, metadata

# A table of the tests' own, on a private MetaData so create_schema never creates it elsewhere.
_probe_metadata = type(metadata)()
probe = Table(
    "storage_probe",
    _probe_metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime),
)


async def test_sqlite_engine_is_durable_and_waits_for_locks(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "gw.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as conn:
            journal = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            synchronous = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar()
            busy = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
    finally:
        await engine.dispose()
    assert path.parent.is_dir()
    assert (journal, synchronous) == ("wal", 2)  # 2 == FULL
    assert busy >= 1000


async def test_sqlite_write_transaction_takes_the_write_lock_at_begin(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"
    holder, other = create_engine(url), create_engine(url)
    try:
        async with other.connect() as conn:
            await conn.exec_driver_sql("PRAGMA busy_timeout=50")
            async with write_transaction(holder):
                # Without BEGIN IMMEDIATE nothing would be locked yet: no statement has run.
                with pytest.raises(OperationalError, match="locked"):
                    await conn.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        await holder.dispose()
        await other.dispose()


def test_unsupported_url_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        create_engine("mysql+aiomysql://user@host/db")


async def test_create_schema_is_idempotent_and_keeps_rows(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO messagelog_chains (chain_id, instance_id, worker, opened_at, length,"
                " head_hash) VALUES ('i/1/a', 'i', '1', '2025-01-01 00:00:00', 7, :h)"
            ),
            {"h": "a" * 64},
        )
    await create_schema(engine)
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT length FROM messagelog_chains"))).scalar() == 7


async def test_utc_datetime_round_trips_with_microseconds(engine: AsyncEngine) -> None:
    almaty = timezone(timedelta(hours=5))
    moment = datetime(2025, 3, 21, 9, 30, 15, 123456, tzinfo=almaty)
    async with engine.begin() as conn:
        await conn.run_sync(_probe_metadata.create_all)
        await conn.execute(insert(probe).values(id=1, at=moment))
        stored = (await conn.execute(select(probe.c.at))).scalar_one()
        await conn.run_sync(_probe_metadata.drop_all)
    assert stored == moment
    assert stored.tzinfo == UTC
    assert stored.microsecond == 123456


async def test_a_single_write_statement_is_all_or_nothing_and_committed_when_it_returns(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_probe_metadata.create_all)
    try:
        async with write_statement(engine) as conn:
            await conn.execute(insert(probe), [{"id": 1}, {"id": 2}])
        # Seen by another connection at once: committed, with no COMMIT of its own.
        async with engine.connect() as other:
            assert (await other.execute(select(probe.c.id))).scalars().all() == [1, 2]
        with pytest.raises(IntegrityError):
            async with write_statement(engine) as conn:  # 3 is new, 2 is taken: neither
                await conn.execute(insert(probe), [{"id": 3}, {"id": 2}])
        async with engine.connect() as other:
            assert (await other.execute(select(probe.c.id))).scalars().all() == [1, 2]
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(_probe_metadata.drop_all)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("one_statement", [read_statement, write_statement])
async def test_postgres_one_statement_leaves_no_transaction_open(
    engine: AsyncEngine,
    one_statement: Callable[[AsyncEngine], AbstractAsyncContextManager[AsyncConnection]],
) -> None:
    # A plain connection would sit "idle in transaction" after its statement (holding a
    # snapshot until the pool's ROLLBACK); these run the statement as its own transaction.
    async with one_statement(engine) as conn:
        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
        async with engine.connect() as other:
            state = (
                await other.execute(
                    text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                )
            ).scalar()
    assert state == "idle"


async def test_utc_datetime_refuses_naive_values(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_probe_metadata.create_all)
        with pytest.raises(Exception, match="aware"):
            await conn.execute(insert(probe).values(id=1, at=datetime(2025, 1, 1)))


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_postgres_search_path_keeps_tables_in_their_own_schema(
    engine: AsyncEngine, db_url: str
) -> None:
    schema = db_url.rsplit("search_path=", 1)[1]
    query = text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s")
    async with engine.connect() as conn:
        tables = set((await conn.execute(query, {"s": schema})).scalars())
    assert {"messagelog_records", "messagelog_chains", "seen_messages"} <= tables


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_postgres_pooled_connections_the_server_closed_are_replaced(
    engine: AsyncEngine, db_url: str
) -> None:
    """A server restart while connections idle in the pool fails no later transaction.

    The pool holds several connections; the server ends every one of them (as a restart does),
    and each of the next transactions still succeeds on its first try, on a fresh connection.
    """
    held = [await engine.connect() for _ in range(3)]
    pids = [(await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar() for conn in held]
    for conn in held:
        await conn.close()  # back into the pool, idle
    admin = create_engine(db_url)
    try:
        async with admin.connect() as conn:
            for pid in pids:
                await conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    finally:
        await admin.dispose()
    await asyncio.sleep(0.2)  # the server's goodbye reaches the idle sockets
    concurrent = await asyncio.gather(*(_new_backend(engine) for _ in range(3)))
    assert not set(concurrent) & set(pids)


async def _new_backend(engine: AsyncEngine) -> int:
    async with write_transaction(engine) as conn:
        return (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar()
