"""The embedded broker's way into its database: one transaction, bounded in time, port errors.

Every broker operation is one transaction run through ``Database.run``: it gives up at its
timeout (a publish must never hang), and a database failure surfaces as the port's
``BrokerUnavailable`` — or ``Unroutable`` when the queue's foreign key refuses the row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from sqlalchemy import MetaData, Row, Select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors.db import create_tables, write_transaction
from gateway.broker.port import BrokerUnavailable, Unroutable

# Bound on database operations other than publish (which has its own timeout argument).
OPERATION_TIMEOUT_SECONDS = 10.0
_T = TypeVar("_T")


class Database:
    """Bounded transactions on ``engine``; ``description`` names the broker in errors.

    ``tables`` are created, if missing, before the first operation: any operation may come
    first (a consumer may start before anything called ``start()``), and the storage layer that
    creates the gateway's other tables need not know them.
    """

    def __init__(self, engine: AsyncEngine, description: str, tables: MetaData) -> None:
        self.engine = engine
        self._description = description
        self._tables = tables
        self._tables_ready = False
        self._tables_lock = asyncio.Lock()
        self._detached: set[asyncio.Task[Any]] = set()

    async def run(
        self,
        work: Callable[[AsyncConnection], Awaitable[_T]],
        *,
        what: str,
        timeout: float = OPERATION_TIMEOUT_SECONDS,
        write: bool = True,
    ) -> _T:
        """One transaction, bounded in time, its failures as port errors.

        The transaction runs in a task of its own: a timed-out SQLite statement keeps its
        thread until the busy timeout, and the caller must not wait for that.
        """
        if not self._tables_ready:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            await self._create_tables(what, timeout)
            timeout = max(deadline - loop.time(), 0.0)  # one bound for both
        return await self._bounded(self._transaction(work, write=write), what, timeout)

    async def _create_tables(self, what: str, timeout: float) -> None:
        async with self._tables_lock:
            if not self._tables_ready:
                await self._bounded(create_tables(self.engine, self._tables), what, timeout)
                self._tables_ready = True

    async def _bounded(self, operation: Coroutine[Any, Any, _T], what: str, timeout: float) -> _T:
        task = asyncio.create_task(operation)
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout)
        except IntegrityError as exc:
            # The only constraint a broker write can break is the queue's foreign key.
            raise Unroutable(f"{what}: no such queue") from exc
        except TimeoutError as exc:
            task.cancel()
            raise BrokerUnavailable(f"{what}: no answer from {self._description} in time") from exc
        except (SQLAlchemyError, OSError) as exc:
            raise BrokerUnavailable(f"{what} failed on {self._description}: {exc!r}") from exc
        finally:
            if not task.done():
                self._detach(task)

    async def fetch_all(self, query: Select[Any], *, what: str) -> Sequence[Row[Any]]:
        """The rows of a read-only ``query``."""
        return await self.run(lambda conn: _fetch_all(conn, query), what=what, write=False)

    async def settle_detached(self) -> None:
        """Let operations that timed out end before the engine is disposed, without hanging."""
        if self._detached:
            await asyncio.wait(self._detached, timeout=1.0)

    async def _transaction(
        self, work: Callable[[AsyncConnection], Awaitable[_T]], *, write: bool
    ) -> _T:
        if write:
            async with write_transaction(self.engine) as conn:
                return await work(conn)
        async with self.engine.connect() as conn:
            return await work(conn)

    def _detach(self, task: asyncio.Task[Any]) -> None:
        """Let an abandoned operation finish in the background without an unread exception."""
        self._detached.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._detached.discard(finished)
            if not finished.cancelled():
                finished.exception()

        task.add_done_callback(done)


async def _fetch_all(conn: AsyncConnection, query: Select[Any]) -> Sequence[Row[Any]]:
    return (await conn.execute(query)).all()


__all__ = ["OPERATION_TIMEOUT_SECONDS", "Database"]
