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
from datetime import datetime
from types import TracebackType
from typing import Self

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.messagelog.chain import body_digest, compute_record_hash
from gateway.messagelog.records import HopRecord, StoredRecord
from gateway.messagelog.schema import HEAD_ID, from_row, head, records, to_row, traces
from gateway.messagelog.verify import VerifyReport, verify_log
from gateway.storage.engine import write_transaction
from gateway.storage.seen_messages import claim_on

DEFAULT_BATCH_SIZE = 256
_HOP_FIELDS = tuple(f.name for f in fields(HopRecord))


class MessageLogClosed(RuntimeError):
    """Raised by ``append`` when the log was not started or is closing."""


class MessageLogCorrupted(RuntimeError):
    """The chain's head row is missing: the log cannot be extended without hiding tampering."""


@dataclass(frozen=True)
class MessageClaim:
    """A claim on (sender, messageId) taken in the same transaction as the hops it accepts."""

    sender_id: str
    message_id: str
    expires_at: datetime
    now: datetime


class AlreadyClaimed(Exception):
    """The claim is held by an earlier message: nothing of this group was written (a replay)."""


@dataclass
class _Group:
    """Hops written together, in order, or not at all (when their claim is lost)."""

    records: list[HopRecord]
    digests: list[str]
    claim: MessageClaim | None = None
    future: asyncio.Future[list[StoredRecord]] = field(
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
        self._queue: asyncio.Queue[_Group | None] = asyncio.Queue()
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
        return (await self.append_many([record]))[0]

    async def append_many(
        self, hops: Sequence[HopRecord], *, claim: MessageClaim | None = None
    ) -> list[StoredRecord]:
        """Append hops in this order, atomically with ``claim`` when one is given.

        Raises ``AlreadyClaimed`` (and writes none of them) when the claim is held already.
        """
        if not self._accepting:
            raise MessageLogClosed("the message log is not running")
        group = _Group(list(hops), [body_digest(h.body) for h in hops], claim)
        self._queue.put_nowait(group)
        return await group.future

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

    async def _commit(self, batch: list[_Group]) -> None:
        try:
            outcomes = await self._write(batch)
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0], exc)
                return
            # The whole transaction rolled back; retry one by one so that one bad record
            # (say, a NUL byte PostgreSQL refuses) fails only its own caller.
            for group in batch:
                await self._commit([group])
            return
        for group, outcome in zip(batch, outcomes, strict=True):
            _settle(group, outcome)

    async def _write(self, batch: list[_Group]) -> list[list[StoredRecord] | Exception]:
        async with write_transaction(self._engine) as conn:
            seq, prev = await _lock_head(conn)
            outcomes: list[list[StoredRecord] | Exception] = []
            rows: list[StoredRecord] = []
            for group in batch:
                if group.claim is not None and not await _claim(conn, group.claim):
                    outcomes.append(AlreadyClaimed(group.claim.message_id))
                    continue
                stored = []
                for record, digest in zip(group.records, group.digests, strict=True):
                    seq += 1
                    link = compute_record_hash(prev, seq, record, digest)
                    stored.append(_stored(record, digest, seq, prev, link))
                    prev = link
                outcomes.append(stored)
                rows += stored
            if rows:
                await conn.execute(records.insert(), [to_row(item) for item in rows])
                traced = [{"seq": r.seq, "trace_id": r.trace_id} for r in rows if r.trace_id]
                if traced:
                    await conn.execute(traces.insert(), traced)
                await conn.execute(
                    head.update().where(head.c.id == HEAD_ID).values(last_seq=seq, last_hash=prev)
                )
        return outcomes


async def _claim(conn: AsyncConnection, claim: MessageClaim) -> bool:
    return await claim_on(conn, claim.sender_id, claim.message_id, claim.expires_at, claim.now)


async def _lock_head(conn: AsyncConnection) -> tuple[int, str]:
    # FOR UPDATE serializes writers on PostgreSQL; on SQLite BEGIN IMMEDIATE already did.
    query = select(head.c.last_seq, head.c.last_hash).where(head.c.id == HEAD_ID).with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        raise MessageLogCorrupted("messagelog_head row is missing; run `kzgate log verify`")
    return int(row.last_seq), str(row.last_hash)


def _stored(record: HopRecord, digest: str, seq: int, prev: str, link: str) -> StoredRecord:
    hop = {name: getattr(record, name) for name in _HOP_FIELDS}
    return StoredRecord(**hop, seq=seq, body_sha256=digest, prev_hash=prev, record_hash=link)


def _settle(group: _Group, outcome: list[StoredRecord] | Exception) -> None:
    # The caller may have been cancelled meanwhile; its records are written all the same.
    with contextlib.suppress(asyncio.InvalidStateError):
        if isinstance(outcome, Exception):
            group.future.set_exception(outcome)
        else:
            group.future.set_result(outcome)
