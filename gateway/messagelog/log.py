"""Appending to and reading the message log, with group commit, one chain per writer.

Each ``append`` waits for its record's transaction to commit. One writer task per ``MessageLog``
drains whatever appends are queued (up to ``batch_size``) into one transaction: one fsync for
many records instead of one each. Each ``MessageLog`` that is started opens a hash chain of its
own (its id names the instance, the worker process and the start) and is the only writer of that
chain, so it keeps the chain's head in memory and writers never wait for one another's locks;
the chain's row moves in the same transaction as its records (on SQLite the database itself
still admits one writing transaction at a time). ``close`` signs a checkpoint over every chain
when it was given the gateway's key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors import TransportKey, TrustStore
from connectors.db import driver_connection, write_transaction
from gateway.messagelog.chain import GENESIS_HASH, body_digest, compute_record_hash
from gateway.messagelog.checkpoint import make_checkpoint
from gateway.messagelog.postgres import Head, append_rows
from gateway.messagelog.records import HopRecord, StoredRecord, linked_record, utc_now
from gateway.messagelog.schema import (
    chains,
    from_row,
    numbers_after_last,
    records,
    to_row,
    traces,
)
from gateway.messagelog.verify import VerifyReport, verify_log
from gateway.storage.seen_messages import claim_on

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 256


class MessageLogClosed(RuntimeError):
    """Raised by ``append`` when the log was not started or is closing."""


class MessageLogCorrupted(RuntimeError):
    """The chain's row is missing or moved by someone else: extending it would hide tampering."""


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
    """The hash-chained log of every hop; use ``async with MessageLog(engine) as log``.

    ``instance_id`` names the gateway instance (host) in the chain id; ``key`` and ``clock``,
    when given, sign a checkpoint on ``close``.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        instance_id: str = "local",
        batch_size: int = DEFAULT_BATCH_SIZE,
        key: TransportKey | None = None,
        clock: Callable[[], datetime] = utc_now,
    ):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if "/" in instance_id:
            raise ValueError("instance_id cannot hold '/' (it separates the chain id's parts)")
        self._engine = engine
        self._batch_size = batch_size
        self._instance_id = instance_id
        self._key = key
        self._clock = clock
        self.chain_id = ""  # set by start()
        self._length = 0
        self._head = GENESIS_HASH
        self._opened = False  # whether the chain's row exists (written with its first records)
        # None is queued by close(): everything queued before it is still written.
        self._queue: asyncio.Queue[_Group | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._accepting = False

    async def start(self) -> None:
        """Name this writer's chain and start the writer task; appends are refused until then.

        The chain's row is written with its first records: a process that never logs (say, a
        connector process) leaves no empty chain behind.
        """
        if self._writer is not None:
            raise RuntimeError("MessageLog already started")
        # A new chain per start: a restarted or replaced worker never continues a chain whose
        # last transaction it cannot be sure of; the token keeps two starts in one pid apart.
        self.chain_id = f"{self._instance_id}/{os.getpid()}/{secrets.token_hex(4)}"
        self._writer = asyncio.create_task(self._run(), name="messagelog-writer")
        self._accepting = True

    async def close(self) -> None:
        """Stop accepting appends, write every one already queued, then stop the writer.

        Then the chain is marked closed and, with a key, a checkpoint over every chain signed.
        """
        if self._writer is None or not self._accepting:
            return
        self._accepting = False
        self._queue.put_nowait(None)
        await self._writer
        try:
            if self._opened:
                async with write_transaction(self._engine) as conn:
                    await conn.execute(
                        chains.update()
                        .where(chains.c.chain_id == self.chain_id)
                        .values(closed_at=utc_now())
                    )
            if self._key is not None:
                await make_checkpoint(self._engine, self._key, self._clock())
        except Exception:  # the records are written; a later checkpoint will cover them
            log.exception("closing message-log chain %s", self.chain_id)

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

    async def verify(self, trust: TrustStore | None = None) -> VerifyReport:
        """Walk every chain and check every checkpoint; see ``gateway.messagelog.verify``."""
        return await verify_log(self._engine, trust)

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
        if self._engine.dialect.name == "postgresql":
            return await self._write_on_postgres(batch)
        return await self._write_portable(batch)

    async def _write_portable(self, batch: list[_Group]) -> list[list[StoredRecord] | Exception]:
        """The batch through SQLAlchemy in one transaction (SQLite: the database's write lock)."""
        async with write_transaction(self._engine) as conn:
            outcomes = await _claimed(batch, lambda *claim: claim_on(conn, *claim))
            count = sum(
                len(group.records)
                for group, outcome in zip(batch, outcomes, strict=True)
                if not isinstance(outcome, Exception)
            )
            if count == 0:
                return outcomes
            linked, length, head = self._link(
                batch, outcomes, iter(await numbers_after_last(conn, count))
            )
            rows = [stored for _, stored in linked]
            await conn.execute(records.insert(), [to_row(item) for item in rows])
            traced = [{"seq": r.seq, "trace_id": r.trace_id} for r in rows if r.trace_id]
            if traced:
                await conn.execute(traces.insert(), traced)
            await self._move_head(conn, length, head)
        _hand_out(outcomes, linked)
        self._length, self._head, self._opened = length, head, True  # committed: ends here
        return outcomes

    async def _write_on_postgres(self, batch: list[_Group]) -> list[list[StoredRecord] | Exception]:
        """The batch as one statement on the driver's connection (``messagelog.postgres``); in a
        transaction with the claims when a group has one."""
        async with driver_connection(self._engine) as driver:
            if all(group.claim is None for group in batch):
                return await self._append_on_postgres(driver, batch, [[] for _ in batch])
            async with driver.transaction():
                outcomes = await _claimed(batch, lambda *claim: claim_on(driver, *claim))
                return await self._append_on_postgres(driver, batch, outcomes)

    async def _append_on_postgres(
        self, driver: Any, batch: list[_Group], outcomes: list[list[StoredRecord] | Exception]
    ) -> list[list[StoredRecord] | Exception]:
        linked, length, head = self._link(batch, outcomes, None)
        if not linked:
            return outcomes
        rows = [{**to_row(stored), "trace_id": stored.trace_id} for _, stored in linked]
        where = Head(
            chain_id=self.chain_id,
            length=length,
            head_hash=head,
            previous_length=self._length,
            opening=not self._opened,
            instance_id=self._instance_id,
            worker=str(os.getpid()),
            opened_at=utc_now(),
        )
        numbers = await append_rows(driver, rows, where)
        if not numbers:
            raise _moved_by_someone_else(self.chain_id)
        _hand_out(outcomes, [(i, replace(r, seq=numbers[r.chain_seq])) for i, r in linked])
        self._length, self._head, self._opened = length, head, True  # committed: ends here
        return outcomes

    def _link(
        self,
        batch: list[_Group],
        outcomes: list[list[StoredRecord] | Exception],
        numbers: Iterator[int] | None,
    ) -> tuple[list[tuple[int, StoredRecord]], int, str]:
        """The records of the groups whose claims held, linked onto this writer's chain in order,
        each with its group's index; the chain's new length and head. ``numbers`` gives the
        log-wide record numbers, or None when the database assigns them (0 until then)."""
        length, prev = self._length, self._head
        linked: list[tuple[int, StoredRecord]] = []
        for index, group in enumerate(batch):
            if isinstance(outcomes[index], Exception):
                continue
            for record, digest in zip(group.records, group.digests, strict=True):
                length += 1
                link = compute_record_hash(prev, self.chain_id, length, record, digest)
                seq = 0 if numbers is None else next(numbers)
                linked.append(
                    (index, linked_record(record, digest, (seq, self.chain_id, length), prev, link))
                )
                prev = link
        return linked, length, prev

    async def _move_head(self, conn: AsyncConnection, length: int, head_hash: str) -> None:
        """Write the chain's new end; refuse when its row is not where this writer left it."""
        if not self._opened:
            await conn.execute(
                chains.insert().values(
                    chain_id=self.chain_id,
                    instance_id=self._instance_id,
                    worker=str(os.getpid()),
                    opened_at=utc_now(),
                    length=length,
                    head_hash=head_hash,
                )
            )
            return
        moved = await conn.execute(
            chains.update()
            .where(chains.c.chain_id == self.chain_id, chains.c.length == self._length)
            .values(length=length, head_hash=head_hash)
        )
        if moved.rowcount != 1:
            raise _moved_by_someone_else(self.chain_id)


def _hand_out(
    outcomes: list[list[StoredRecord] | Exception], linked: list[tuple[int, StoredRecord]]
) -> None:
    """Each written record to its group's result, in chain order."""
    for index, stored in linked:
        written = outcomes[index]
        assert not isinstance(written, Exception)
        written.append(stored)


def _moved_by_someone_else(chain_id: str) -> MessageLogCorrupted:
    return MessageLogCorrupted(
        f"chain {chain_id}'s row is missing or was moved by someone else; run `kzgate log verify`"
    )


async def _claimed(
    batch: list[_Group], take: Callable[..., Awaitable[bool]]
) -> list[list[StoredRecord] | Exception]:
    """Each group's claim taken (by ``take``) in order: an empty result list to fill for a
    group whose claim holds or that has none, AlreadyClaimed for one whose claim is held."""
    outcomes: list[list[StoredRecord] | Exception] = []
    for group in batch:
        claim = group.claim
        if claim is not None and not await take(
            claim.sender_id, claim.message_id, claim.expires_at, claim.now
        ):
            outcomes.append(AlreadyClaimed(claim.message_id))
        else:
            outcomes.append([])
    return outcomes


def _settle(group: _Group, outcome: list[StoredRecord] | Exception) -> None:
    # The caller may have been cancelled meanwhile; its records are written all the same.
    with contextlib.suppress(asyncio.InvalidStateError):
        if isinstance(outcome, Exception):
            group.future.set_exception(outcome)
        else:
            group.future.set_result(outcome)
