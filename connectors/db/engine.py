"""Engines configured so that a committed transaction is durable and writers never interleave."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL pool: connections kept open between checkouts, and the extra ones a burst may open.
# The default (5 kept) made a gateway serving 8+ concurrent exchanges open and close a connection
# for most transactions (connect + close were ~5 % of its CPU per async message, issue 12); the
# total stays at the default's 15 per engine, so a server's max_connections sees no more.
POSTGRES_POOL_SIZE = 12
POSTGRES_POOL_OVERFLOW = 3
# Execution option read by the SQLite "begin" hook: take the write lock at BEGIN.
_BEGIN_IMMEDIATE = "kzgate_begin_immediate"


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://…``.

    SQLite: the parent directory is created, WAL journal, ``synchronous=FULL`` (a commit is on
    disk before it returns) and a busy timeout so concurrent writers wait instead of failing.
    PostgreSQL: an optional ``search_path`` query parameter (``…/db?search_path=kzgate``) puts
    the process's tables in their own schema.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        return _postgres_engine(parsed)
    raise ValueError(f"unsupported database URL {parsed.render_as_string(hide_password=True)}")


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction that holds SQLite's write lock from BEGIN (``BEGIN IMMEDIATE``).

    A deferred SQLite transaction that reads and then writes can fail with "database is locked"
    without waiting when another connection wrote in between; taking the lock up front makes the
    busy timeout apply. On PostgreSQL this is an ordinary transaction (lock rows explicitly).
    """
    async with engine.connect() as conn:
        await conn.execution_options(**{_BEGIN_IMMEDIATE: True})
        async with conn.begin():
            yield conn


@asynccontextmanager
async def write_statement(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for exactly one writing statement, atomic and durable on its own.

    On PostgreSQL the statement runs in autocommit: one statement is its own transaction, so the
    BEGIN and COMMIT round trips that ``write_transaction`` adds are not needed — through
    SQLAlchemy they were half the CPU of a one-statement write (0.45 → 0.22 ms, issue 12). On
    SQLite it is ``write_transaction`` (the write lock from BEGIN). Use ``write_transaction`` for
    anything that runs two statements or reads before it writes.
    """
    if engine.dialect.name != "postgresql":
        async with write_transaction(engine) as conn:
            yield conn
        return
    async with engine.connect() as conn:
        yield await conn.execution_options(isolation_level="AUTOCOMMIT")


@asynccontextmanager
async def read_statement(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for exactly one reading statement, which sees one snapshot on its own.

    On PostgreSQL it runs in autocommit: a plain ``engine.connect()`` read costs a BEGIN before
    it and a ROLLBACK when the connection goes back to the pool, two round trips for nothing a
    single SELECT needs (issue 12). On SQLite it is a plain connection.
    """
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


def _sqlite_engine(url: URL) -> AsyncEngine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)
    event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own implicit BEGIN is turned off so that _sqlite_on_begin decides the kind.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        "PRAGMA foreign_keys=ON",
    ):
        cursor.execute(pragma)
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_BEGIN_IMMEDIATE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _postgres_engine(url: URL) -> AsyncEngine:
    connect_args: dict[str, Any] = {}
    search_path = url.query.get("search_path")
    if search_path is not None:
        # asyncpg takes server settings as a dict, which a URL cannot carry; translate it here.
        connect_args["server_settings"] = {"search_path": str(search_path)}
        url = url.difference_update_query(["search_path"])
    engine = create_async_engine(
        url,
        connect_args=connect_args,
        pool_size=POSTGRES_POOL_SIZE,
        max_overflow=POSTGRES_POOL_OVERFLOW,
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    return engine


def _refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Hand out no pooled connection the server has closed (a restart, ``pg_terminate_backend``).

    A server that goes away closes its sockets, and asyncpg marks the connection closed as soon as
    the event loop sees that, so this check costs no round trip. The pool retries the checkout on
    ``DisconnectionError`` with a fresh connection, so no transaction fails because the server
    restarted while the connection idled. It replaces ``pool_pre_ping``, whose BEGIN, SELECT and
    ROLLBACK on every checkout were ~7 % of the gateway's CPU per async message (issue 12).
    A connection that breaks mid-transaction fails that transaction, as it did with the ping;
    SQLAlchemy then invalidates the rest of the pool.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("the server closed this pooled connection")
