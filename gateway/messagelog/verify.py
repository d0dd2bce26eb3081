"""Checking the whole chain: finds the first record that was edited, removed or moved.

The walk reads one consistent snapshot (PostgreSQL REPEATABLE READ; a SQLite read transaction
is one already), so appends running meanwhile are not mistaken for tampering. The chain proves
the log was not altered by anyone who cannot recompute it; someone with write access to the
database and this code could re-forge the whole chain, which only an outside anchor of the head
hash (printed by ``kzgate log verify``) would reveal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.messagelog.chain import GENESIS_HASH, body_digest, compute_record_hash
from gateway.messagelog.schema import HEAD_ID, from_row, head, records

PAGE_SIZE = 100  # bodies can be megabytes each; keep a page's memory bounded


class Problem(StrEnum):
    """What is wrong at the first bad position."""

    EDITED = "edited-record"  # a column no longer matches the record's hash
    BODY_CHANGED = "body-changed"  # the stored bytes no longer match their stored digest
    REMOVED = "removed-record"  # a sequence number is missing
    REORDERED = "reordered"  # a record's contents sit at another position than they were hashed
    BROKEN_LINK = "broken-link"  # a record does not point to the hash of the one before it
    TRUNCATED = "tail-truncated"  # the head says the chain is longer than the records
    HEAD_MISMATCH = "head-mismatch"  # the last record is not the one the head pins
    HEAD_MISSING = "head-missing"  # the head row itself was removed


@dataclass(frozen=True)
class VerifyReport:
    """``ok`` is True only if every record and the head check out."""

    ok: bool
    records_checked: int
    head_seq: int | None
    head_hash: str | None
    first_bad_seq: int | None = None
    problem: Problem | None = None
    detail: str = ""


@dataclass(frozen=True)
class _Failure:
    seq: int | None
    problem: Problem
    detail: str


class _ChainWalk:
    """Checks records one by one in sequence order, remembering the link to expect."""

    def __init__(self) -> None:
        self.expected_seq = 1
        self.prev_hash = GENESIS_HASH
        self.checked = 0

    def check(self, row: Any) -> _Failure | None:
        seq = int(row.seq)
        if seq != self.expected_seq:
            gap = f"{self.expected_seq}..{seq - 1}" if seq - 1 > self.expected_seq else str(seq - 1)
            return _Failure(self.expected_seq, Problem.REMOVED, f"record(s) {gap} missing")
        failure = _check_own_content(row)
        if failure is None and row.prev_hash != self.prev_hash:
            failure = _Failure(
                seq, Problem.BROKEN_LINK, f"does not link to the hash of record {seq - 1}"
            )
        if failure is None:
            self.prev_hash = row.record_hash
            self.expected_seq += 1
            self.checked += 1
        return failure

    def check_head(self, head_row: Any) -> _Failure | None:
        last_seq = self.expected_seq - 1
        if head_row is None:
            return _Failure(None, Problem.HEAD_MISSING, "the messagelog_head row is missing")
        if head_row.last_seq > last_seq:
            return _Failure(
                last_seq + 1,
                Problem.TRUNCATED,
                f"head says the chain ends at {head_row.last_seq}, records end at {last_seq}",
            )
        if head_row.last_seq < last_seq:
            return _Failure(
                head_row.last_seq + 1,
                Problem.HEAD_MISMATCH,
                f"records continue past the head's end ({head_row.last_seq})",
            )
        if head_row.last_hash != self.prev_hash:
            detail = "the last record is not the one the head pins"
            return _Failure(last_seq or None, Problem.HEAD_MISMATCH, detail)
        return None


def _check_own_content(row: Any) -> _Failure | None:
    seq = int(row.seq)
    if body_digest(row.body) != row.body_sha256:
        return _Failure(seq, Problem.BODY_CHANGED, "stored body bytes do not match their SHA-256")
    try:
        record = from_row(row)
    except (TypeError, ValueError) as exc:
        return _Failure(seq, Problem.EDITED, f"a column holds an impossible value ({exc})")
    if compute_record_hash(row.prev_hash, seq, record, row.body_sha256) != row.record_hash:
        return _Failure(seq, Problem.EDITED, "columns do not match the record's hash")
    return None


async def verify_log(engine: AsyncEngine, *, page_size: int = PAGE_SIZE) -> VerifyReport:
    """Walk every record from the first and the head row; report the first problem found."""
    async with _snapshot(engine) as conn:
        head_row = (await conn.execute(select(head).where(head.c.id == HEAD_ID))).first()
        walk = _ChainWalk()
        failure, bad_row = None, None
        async for row in _rows(conn, page_size):
            failure = walk.check(row)
            if failure is not None:
                bad_row = row
                break
        if failure is not None and failure.problem is Problem.EDITED:
            failure = await _moved_from(conn, bad_row) or failure
        if failure is None:
            failure = walk.check_head(head_row)
    return _report(walk, head_row, failure)


async def _moved_from(conn: AsyncConnection, row: Any) -> _Failure | None:
    """If the row verifies at another position (its own prev_hash says where), it was moved."""
    query = select(records.c.seq).where(records.c.record_hash == row.prev_hash)
    prev_seq = (await conn.execute(query)).scalar()
    origin = 1 if row.prev_hash == GENESIS_HASH else (prev_seq + 1 if prev_seq else None)
    if origin is None or origin == row.seq:
        return None
    try:
        intact = compute_record_hash(row.prev_hash, origin, from_row(row), row.body_sha256)
    except (TypeError, ValueError):
        return None
    if intact != row.record_hash:
        return None
    detail = f"record {row.seq} holds the contents hashed as record {origin}"
    return _Failure(int(row.seq), Problem.REORDERED, detail)


def _report(walk: _ChainWalk, head_row: Any, failure: _Failure | None) -> VerifyReport:
    return VerifyReport(
        ok=failure is None,
        records_checked=walk.checked,
        head_seq=None if head_row is None else int(head_row.last_seq),
        head_hash=None if head_row is None else str(head_row.last_hash),
        first_bad_seq=None if failure is None else failure.seq,
        problem=None if failure is None else failure.problem,
        detail="" if failure is None else failure.detail,
    )


async def _rows(conn: AsyncConnection, page_size: int) -> AsyncIterator[Any]:
    # Keyset pages rather than a server-side cursor: same code on both databases, and the
    # connection stays free for the follow-up query that classifies a failure.
    after = 0
    while True:
        query = select(records).where(records.c.seq > after).order_by(records.c.seq)
        page = (await conn.execute(query.limit(page_size))).all()
        for row in page:
            yield row
        if len(page) < page_size:
            return
        after = page[-1].seq


@asynccontextmanager
async def _snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            yield conn
