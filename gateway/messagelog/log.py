"""Appending to and reading the message log, with group commit.

Each ``append`` waits for its record's transaction to commit. One writer task per ``MessageLog``
drains whatever appends are queued (up to ``batch_size``) into one transaction: one fsync for
many records instead of one each. Extending the chain takes the head row's lock (PostgreSQL
``SELECT … FOR UPDATE``, SQLite ``BEGIN IMMEDIATE``), so several processes never fork the chain.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from types import TracebackType
from typing import Self

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.messagelog.chain import body_digest, compute_record_hash
from gateway.messagelog.records import HopRecord, StoredRecord
from gateway.messagelog.schema import HEAD_ID, from_row, head, records, to_row
from gateway.messagelog.verify import VerifyReport, verify_log
from gateway.storage.engine import write_transaction

DEFAULT_BATCH_SIZE = 256
_HOP_FIELDS = tuple(f.name for f in fields(HopRecord))


class MessageLogClosed(RuntimeError):
    """Raised by ``append`` when the log was not started or is closing."""


class MessageLogCorrupted(RuntimeError):
    """The chain's head row is missing: the log cannot be extended without hiding tampering."""


@dataclass
class _Pending:
    record: HopRecord
    digest: str
    future: asyncio.Future[StoredRecord] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class MessageLog:
    """The hash-chained log of every hop; use ``async with MessageLog(engine) as log``."""

    def __init__(self, engine: AsyncEngine, *, batch_size: int = DEFAULT_BATCH_SIZE):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._engine = engine
        self._batch_size = batch_size
        # None is queued by close(): everything queued before it is still written.
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._accepting = False

    async def start(self) -> None:
        """Start the writer task; appends are refused until then."""
        if self._writer is not None:
            raise RuntimeError("MessageLog already started")
        self._writer = asyncio.create_task(self._run(), name="messagelog-writer")
        self._accepting = True

    async def close(self) -> None:
        """Stop accepting appends, write every one already queued, then stop the writer."""
        if self._writer is None or not self._accepting:
            return
        self._accepting = False
        self._queue.put_nowait(None)
        await self._writer

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def append(self, record: HopRecord) -> StoredRecord:
        """Append one hop; returns once its transaction has committed (durably)."""
        if not self._accepting:
            raise MessageLogClosed("the message log is not running")
        pending = _Pending(record, body_digest(record.body))
        self._queue.put_nowait(pending)
        return await pending.future

    async def append_many(self, hops: Sequence[HopRecord]) -> list[StoredRecord]:
        """Append several hops in this order (they share one commit when the writer is free)."""
        if not self._accepting:
            raise MessageLogClosed("the message log is not running")
        pending = [_Pending(record, body_digest(record.body)) for record in hops]
        for item in pending:
            self._queue.put_nowait(item)
        return [await item.future for item in pending]

    async def find(
        self, *, correlation_id: str | None = None, message_id: str | None = None
    ) -> list[StoredRecord]:
        """Records matching every given criterion, in chain order."""
        if correlation_id is None and message_id is None:
            raise ValueError("give correlation_id, message_id or both")
        query = select(records).order_by(records.c.seq)
        if correlation_id is not None:
            query = query.where(records.c.correlation_id == correlation_id)
        if message_id is not None:
            query = query.where(records.c.message_id == message_id)
        async with self._engine.connect() as conn:
            result = await conn.execute(query)
            return [from_row(row) for row in result]

    async def verify(self) -> VerifyReport:
        """Walk the whole chain; see ``gateway.messagelog.verify``."""
        return await verify_log(self._engine)

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._batch_size and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            await self._commit(batch)

    async def _commit(self, batch: list[_Pending]) -> None:
        try:
            stored = await self._write(batch)
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0], exc)
                return
            # The whole transaction rolled back; retry one by one so that one bad record
            # (say, a NUL byte PostgreSQL refuses) fails only its own caller.
            for pending in batch:
                await self._commit([pending])
            return
        for pending, result in zip(batch, stored, strict=True):
            _settle(pending, result)

    async def _write(self, batch: list[_Pending]) -> list[StoredRecord]:
        async with write_transaction(self._engine) as conn:
            seq, prev = await _lock_head(conn)
            stored = []
            for pending in batch:
                seq += 1
                link = compute_record_hash(prev, seq, pending.record, pending.digest)
                stored.append(_stored(pending, seq, prev, link))
                prev = link
            await conn.execute(records.insert(), [to_row(item) for item in stored])
            await conn.execute(
                head.update().where(head.c.id == HEAD_ID).values(last_seq=seq, last_hash=prev)
            )
        return stored


async def _lock_head(conn: AsyncConnection) -> tuple[int, str]:
    # FOR UPDATE serializes writers on PostgreSQL; on SQLite BEGIN IMMEDIATE already did.
    query = select(head.c.last_seq, head.c.last_hash).where(head.c.id == HEAD_ID).with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        raise MessageLogCorrupted("messagelog_head row is missing; run `kzgate log verify`")
    return int(row.last_seq), str(row.last_hash)


def _stored(pending: _Pending, seq: int, prev: str, link: str) -> StoredRecord:
    hop = {name: getattr(pending.record, name) for name in _HOP_FIELDS}
    return StoredRecord(
        **hop, seq=seq, body_sha256=pending.digest, prev_hash=prev, record_hash=link
    )


def _settle(pending: _Pending, outcome: StoredRecord | Exception) -> None:
    # The caller may have been cancelled meanwhile; its record is written all the same.
    with contextlib.suppress(asyncio.InvalidStateError):
        if isinstance(outcome, Exception):
            pending.future.set_exception(outcome)
        else:
            pending.future.set_result(outcome)
