"""Hot statements on PostgreSQL's driver connection, the same statements through SQLAlchemy
elsewhere.

A statement run through SQLAlchemy's async layer costs the caller ~0.2–0.3 ms of CPU before the
driver sees it: a greenlet switch, the statement's cache key, the result's wrapping. The gateway
runs several per message (the tracker's accept, state changes and checks, the replay claim), and
on the licence flow they were ~16 % of its CPU (py-spy, issue 12). ``DriverStatement`` compiles
a Core statement once for asyncpg and runs it on the pooled connection's asyncpg connection;
its bind parameters still go through their column types' processors, so a value SQLAlchemy
would refuse (a naive ``UtcDateTime``) is refused here too. On SQLite the same Core statement
runs through SQLAlchemy as before: one definition, two ways to send it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable

from connectors.db.engine import read_statement, write_statement, write_transaction

_ASYNCPG = asyncpg_dialect()

__all__ = [
    "DriverStatement",
    "InsertOnce",
    "StatementsByColumns",
    "driver_connection",
    "statement_transaction",
]


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """The asyncpg connection under a pooled connection of a PostgreSQL ``engine``.

    Outside a ``transaction()`` each statement on it commits on its own (autocommit). It goes
    back to the pool, with the pool's checks, when the block ends.
    """
    async with engine.connect() as conn:
        yield (await conn.get_raw_connection()).driver_connection


@asynccontextmanager
async def statement_transaction(engine: AsyncEngine) -> AsyncIterator[Any]:
    """A write transaction to run ``DriverStatement``s in (``rows_in``): on PostgreSQL the
    driver's connection inside a transaction, elsewhere ``write_transaction``. It commits when
    the block ends and rolls back if it raises."""
    if engine.dialect.name == "postgresql":
        async with driver_connection(engine) as connection, connection.transaction():
            yield connection
        return
    async with write_transaction(engine) as conn:
        yield conn


class DriverStatement:
    """One Core statement with named bind parameters, compiled once for asyncpg.

    ``statement`` may be a function of the dialect's name when the SQL differs between the
    databases (``INSERT … ON CONFLICT`` is spelt through each dialect's own ``insert``).
    """

    def __init__(self, statement: Executable | Callable[[str], Executable]) -> None:
        if callable(statement) and not isinstance(statement, Executable):
            self._postgresql, self._portable = statement("postgresql"), statement("sqlite")
        else:
            self._postgresql = self._portable = statement
        compiled = self._postgresql.compile(dialect=_ASYNCPG)
        self.sql: str = compiled.string
        self._order = tuple(compiled.positiontup or ())
        binds = {name: compiled.binds[name] for name in self._order}
        # Values written into the statement itself (``.values(published=True)``).
        self._fixed = {name: b.effective_value for name, b in binds.items() if not b.required}
        processors = {name: b.type.bind_processor(_ASYNCPG) for name, b in binds.items()}
        self._processors = {name: p for name, p in processors.items() if p is not None}

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        """The parameters in the order of the compiled SQL, as their column types bind them."""
        processors, fixed = self._processors, self._fixed
        values = (parameters[name] if name in parameters else fixed[name] for name in self._order)
        return [
            processors[name](value) if name in processors else value
            for name, value in zip(self._order, values, strict=True)
        ]

    async def fetch_on(self, connection: Any, parameters: Mapping[str, Any]) -> list[Any]:
        """The statement's rows on an asyncpg ``connection`` (inside the caller's transaction)."""
        return await connection.fetch(self.sql, *self.arguments(parameters))

    async def rows(
        self, engine: AsyncEngine, parameters: Mapping[str, Any], *, writes: bool
    ) -> list[Mapping[str, Any]]:
        """Run the statement on its own (one statement, atomic and durable when it writes); its
        rows as mappings from column name to value."""
        if engine.dialect.name == "postgresql":
            async with driver_connection(engine) as connection:
                return await self.fetch_on(connection, parameters)  # Records are mappings
        opened: Callable[[AsyncEngine], AbstractAsyncContextManager[AsyncConnection]]
        opened = write_statement if writes else read_statement
        async with opened(engine) as conn:
            return await self.rows_in(conn, parameters)

    async def rows_in(self, connection: Any, parameters: Mapping[str, Any]) -> list[Any]:
        """The statement's rows inside the caller's transaction (``statement_transaction``):
        ``connection`` is an asyncpg connection or a SQLAlchemy ``AsyncConnection``."""
        if not isinstance(connection, AsyncConnection):
            return await self.fetch_on(connection, parameters)
        postgres = connection.dialect.name == "postgresql"
        result = await connection.execute(
            self._postgresql if postgres else self._portable, dict(parameters)
        )
        return [row._mapping for row in result] if result.returns_rows else []


class StatementsByColumns:
    """A ``DriverStatement`` per set of columns a call writes, built by ``build(columns)`` on
    first use and kept: the sets come from code (a flow's steps, a table's rows), so there are a
    handful, and each is compiled once."""

    def __init__(self, build: Callable[[tuple[str, ...]], Any]) -> None:
        self._build = build
        self._by_columns: dict[tuple[str, ...], DriverStatement] = {}

    def __call__(self, columns: tuple[str, ...]) -> DriverStatement:
        statement = self._by_columns.get(columns)
        if statement is None:
            statement = self._by_columns[columns] = DriverStatement(self._build(columns))
        return statement


class InsertOnce:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING`` its first key column, on ``table``: a row
    goes in unless its key (or another unique column) is taken, and the caller learns which —
    the database, not a read before the write, decides between two concurrent inserts.

    One compiled statement per set of columns a row carries (``StatementsByColumns``): building it
    with the row's values inlined cost SQLAlchemy a statement and a cache key on every insert.
    """

    def __init__(self, table: Table) -> None:
        def build(columns: tuple[str, ...]) -> Callable[[str], Executable]:
            def spelt(dialect: str) -> Executable:
                insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
                values = {name: bindparam(name) for name in columns}
                return insert(table).values(values).on_conflict_do_nothing().returning(table.c[0])

            return spelt

        self._statements = StatementsByColumns(build)

    async def insert(self, engine: AsyncEngine, row: Mapping[str, Any]) -> bool:
        """Insert ``row`` in a statement of its own; True when it went in."""
        return bool(await self._statement(row).rows(engine, row, writes=True))

    async def insert_in(self, connection: Any, row: Mapping[str, Any]) -> bool:
        """Insert ``row`` in the caller's transaction (see ``DriverStatement.rows_in``)."""
        return bool(await self._statement(row).rows_in(connection, row))

    def _statement(self, row: Mapping[str, Any]) -> DriverStatement:
        return self._statements(tuple(row))
