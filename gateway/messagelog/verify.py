"""Checking the whole log: every chain record by record, and every signed checkpoint.

The walk reads one consistent snapshot (PostgreSQL REPEATABLE READ; a SQLite read transaction
is one already), so appends running meanwhile are not mistaken for tampering. Each chain proves
its records were not edited, removed, moved or cut off behind its head row by anyone who cannot
recompute it; the checkpoints, signed with the gateway's key, prove more: a chain they list must
still exist, reach at least the length they signed, and hold there the record they signed. What
stays out of reach is a chain created and wholly removed between two checkpoints, and a re-forged
log together with all its checkpoints by someone holding the gateway's key — only a root anchored
outside the gateway (printed by ``kzgate log verify``) reveals that.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors import TrustStore
from gateway.messagelog.chain import GENESIS_HASH, LEGACY_CHAIN, body_digest, compute_record_hash
from gateway.messagelog.checkpoint import (
    ChainHead,
    check_checkpoint,
    check_signature,
    current_heads,
    merkle_root,
    parse_time,
    read_legacy_checkpoint,
)
from gateway.messagelog.schema import chains, checkpoints, from_row, legacy_checkpoints, records

PAGE_SIZE = 100  # bodies can be megabytes each; keep a page's memory bounded


class Problem(StrEnum):
    """What is wrong at a bad position."""

    EDITED = "edited-record"  # a column no longer matches the record's hash
    BODY_CHANGED = "body-changed"  # the stored bytes no longer match their stored digest
    REMOVED = "removed-record"  # a sequence number is missing
    REORDERED = "reordered"  # a record's contents sit at another position than they were hashed
    BROKEN_LINK = "broken-link"  # a record does not point to the hash of the one before it
    TRUNCATED = "tail-truncated"  # the chain's row says the chain is longer than its records
    HEAD_MISMATCH = "head-mismatch"  # the last record is not the one the chain's row pins
    HEAD_MISSING = "head-missing"  # the chain's row itself was removed
    CHAIN_REMOVED = "chain-removed"  # a checkpoint lists a chain of which nothing is left
    BELOW_CHECKPOINT = "truncated-below-checkpoint"  # shorter than a checkpoint signed it
    CHECKPOINT_MISMATCH = "checkpoint-mismatch"  # not the record a checkpoint signed there
    CHECKPOINT_INVALID = "checkpoint-invalid"  # bad signature, wrong signer, root or contents


@dataclass(frozen=True)
class Failure:
    """One place where the log is wrong: the chain, the position in it, what."""

    chain_id: str | None
    seq: int | None  # the position in the chain (``chain_seq``), when there is one
    problem: Problem
    detail: str

    def __str__(self) -> str:
        where = f"chain {self.chain_id}" if self.chain_id else "the checkpoints"
        if self.seq is not None:
            where += f", seq {self.seq}"
        return f"{where}: {self.problem.value} — {self.detail}"


@dataclass(frozen=True)
class VerifyReport:
    """``ok`` is True only if every chain, its row and every checkpoint check out.

    ``head_seq`` counts the records the chain rows pin (all chains); ``head_hash`` is the Merkle
    root over the chains' heads now, the value to anchor outside the gateway. The first failure
    is repeated in ``chain_id``/``first_bad_seq``/``problem``/``detail``.
    """

    ok: bool
    records_checked: int
    head_seq: int | None
    head_hash: str | None
    first_bad_seq: int | None = None
    problem: Problem | None = None
    detail: str = ""
    chain_id: str | None = None
    chains_checked: int = 0
    checkpoints_checked: int = 0
    signatures_checked: bool = False  # False when no trust store was given
    failures: tuple[Failure, ...] = field(default=())


class _ChainWalk:
    """Checks one chain's records in order, remembering the link to expect."""

    def __init__(self, chain_id: str) -> None:
        self.chain_id = chain_id
        self.expected_seq = 1
        self.prev_hash = GENESIS_HASH
        self.checked = 0

    def check(self, row: Any) -> Failure | None:
        seq = int(row.chain_seq)
        if seq != self.expected_seq:
            gap = f"{self.expected_seq}..{seq - 1}" if seq - 1 > self.expected_seq else str(seq - 1)
            return self._fail(self.expected_seq, Problem.REMOVED, f"record(s) {gap} missing")
        failure = _check_own_content(row)
        if failure is None and row.prev_hash != self.prev_hash:
            detail = f"does not link to the hash of record {seq - 1}"
            failure = self._fail(seq, Problem.BROKEN_LINK, detail)
        if failure is None:
            self.prev_hash = row.record_hash
            self.expected_seq += 1
            self.checked += 1
        return failure

    def check_head(self, chain_row: Any) -> Failure | None:
        last_seq = self.expected_seq - 1
        if chain_row is None:
            detail = f"the chain's row in messagelog_chains is missing ({last_seq} records left)"
            return self._fail(None, Problem.HEAD_MISSING, detail)
        if chain_row.length > last_seq:
            detail = f"its row says the chain ends at {chain_row.length}, records end at {last_seq}"
            return self._fail(last_seq + 1, Problem.TRUNCATED, detail)
        if chain_row.length < last_seq:
            detail = f"records continue past the end its row pins ({chain_row.length})"
            return self._fail(chain_row.length + 1, Problem.HEAD_MISMATCH, detail)
        if chain_row.head_hash != self.prev_hash:
            detail = "the last record is not the one the chain's row pins"
            return self._fail(last_seq or None, Problem.HEAD_MISMATCH, detail)
        return None

    def _fail(self, seq: int | None, problem: Problem, detail: str) -> Failure:
        return Failure(self.chain_id, seq, problem, detail)


def _check_own_content(row: Any) -> Failure | None:
    seq, chain_id = int(row.chain_seq), row.chain_id
    if body_digest(row.body) != row.body_sha256:
        detail = "stored body bytes do not match their SHA-256"
        return Failure(chain_id, seq, Problem.BODY_CHANGED, detail)
    try:
        record = from_row(row)
    except (TypeError, ValueError) as exc:
        detail = f"a column holds an impossible value ({exc})"
        return Failure(chain_id, seq, Problem.EDITED, detail)
    recomputed = compute_record_hash(row.prev_hash, chain_id, seq, record, row.body_sha256)
    if recomputed != row.record_hash:
        return Failure(chain_id, seq, Problem.EDITED, "columns do not match the record's hash")
    return None


async def verify_log(
    engine: AsyncEngine, trust: TrustStore | None = None, *, page_size: int = PAGE_SIZE
) -> VerifyReport:
    """Walk every chain from its first record, its row, and every checkpoint.

    Without ``trust`` the checkpoints' signatures are not checked (``signatures_checked`` is
    False); everything else is.
    """
    failures: list[Failure] = []
    checked = 0
    async with _snapshot(engine) as conn:
        rows = {r.chain_id: r for r in (await conn.execute(select(chains))).all()}
        query = select(records.c.chain_id).distinct()
        chain_ids = sorted(set(rows) | set((await conn.execute(query)).scalars()))
        for chain_id in chain_ids:
            walk = _ChainWalk(chain_id)
            failure = await _walk(conn, walk, page_size)
            if failure is None:
                failure = walk.check_head(rows.get(chain_id))
            if failure is not None:
                failures.append(failure)
            checked += walk.checked
        heads = await current_heads(conn)
        signed, count = await _signed_heads(conn, trust, failures)
        for head in sorted(signed, key=lambda h: (h.chain_id, h.length)):
            failure = await _check_signed_head(conn, head, present=head.chain_id in chain_ids)
            if failure is not None:
                failures.append(failure)
    first = failures[0] if failures else None
    return VerifyReport(
        ok=not failures,
        records_checked=checked,
        head_seq=sum(int(r.length) for r in rows.values()),
        head_hash=merkle_root(heads),
        first_bad_seq=None if first is None else first.seq,
        problem=None if first is None else first.problem,
        detail="" if first is None else first.detail,
        chain_id=None if first is None else first.chain_id,
        chains_checked=len(chain_ids),
        checkpoints_checked=count,
        signatures_checked=trust is not None,
        failures=tuple(_unique(failures)),
    )


async def _walk(conn: AsyncConnection, walk: _ChainWalk, page_size: int) -> Failure | None:
    async for row in _rows(conn, walk.chain_id, page_size):
        failure = walk.check(row)
        if failure is not None:
            if failure.problem is Problem.EDITED:
                return await _moved_from(conn, row) or failure
            return failure
    return None


async def _signed_heads(
    conn: AsyncConnection, trust: TrustStore | None, failures: list[Failure]
) -> tuple[set[ChainHead], int]:
    """Every distinct chain head that a valid checkpoint signs; invalid ones go to failures."""
    heads: set[ChainHead] = set()
    count = 0
    for row in (await conn.execute(select(checkpoints).order_by(checkpoints.c.id))).all():
        count += 1
        checked = check_checkpoint(bytes(row.envelope), trust)
        problem = checked.problem
        if problem is None and merkle_root(checked.heads) != row.merkle_root:
            problem = "its stored merkle_root column differs from the signed document"
        if problem is not None:
            detail = f"checkpoint #{row.id} made {checked.made_at or '?'}: {problem}"
            failures.append(Failure(None, None, Problem.CHECKPOINT_INVALID, detail))
            continue
        heads.update(checked.heads)
    for row in (await conn.execute(select(legacy_checkpoints))).all():
        count += 1
        problem = _legacy_problem(row, trust)
        if problem is not None:
            detail = f"single-chain checkpoint at seq {row.seq}: {problem}"
            failures.append(Failure(LEGACY_CHAIN, None, Problem.CHECKPOINT_INVALID, detail))
            continue
        heads.add(ChainHead(LEGACY_CHAIN, int(row.seq), str(row.head_hash)))
    return heads, count


def _legacy_problem(row: Any, trust: TrustStore | None) -> str | None:
    try:
        root = etree.fromstring(bytes(row.envelope))
        seq, head_hash, made_at = read_legacy_checkpoint(root)
        when = parse_time(made_at)
    except (ValueError, KeyError, etree.XMLSyntaxError) as exc:
        return f"unreadable ({exc})"
    if (seq, head_hash) != (int(row.seq), row.head_hash):
        return "its columns differ from the signed document"
    return check_signature(root, trust, when)[1]


async def _check_signed_head(
    conn: AsyncConnection, head: ChainHead, *, present: bool
) -> Failure | None:
    """The chain must still hold, at the signed length, the record whose hash was signed."""
    if head.length == 0:
        return None
    if not present:
        detail = f"a checkpoint signed it at length {head.length}; no record or row is left"
        return Failure(head.chain_id, None, Problem.CHAIN_REMOVED, detail)
    query = select(records.c.record_hash).where(
        records.c.chain_id == head.chain_id, records.c.chain_seq == head.length
    )
    found = (await conn.execute(query)).scalar()
    if found is None:
        last = select(func.max(records.c.chain_seq)).where(records.c.chain_id == head.chain_id)
        end = (await conn.execute(last)).scalar() or 0
        detail = f"a checkpoint signed it at length {head.length}; its records end at {end}"
        return Failure(head.chain_id, int(end) + 1, Problem.BELOW_CHECKPOINT, detail)
    if found != head.head_hash:
        detail = f"the record here is not the one a checkpoint signed (length {head.length})"
        return Failure(head.chain_id, head.length, Problem.CHECKPOINT_MISMATCH, detail)
    return None


def _unique(failures: list[Failure]) -> list[Failure]:
    seen: set[tuple[str | None, int | None, Problem]] = set()
    kept = []
    for failure in failures:
        key = (failure.chain_id, failure.seq, failure.problem)
        if key not in seen:
            seen.add(key)
            kept.append(failure)
    return kept


async def _moved_from(conn: AsyncConnection, row: Any) -> Failure | None:
    """If the row verifies at another position (its own prev_hash says where), it was moved."""
    query = select(records.c.chain_seq).where(
        records.c.chain_id == row.chain_id, records.c.record_hash == row.prev_hash
    )
    prev_seq = (await conn.execute(query)).scalar()
    origin = 1 if row.prev_hash == GENESIS_HASH else (prev_seq + 1 if prev_seq else None)
    if origin is None or origin == row.chain_seq:
        return None
    try:
        record = from_row(row)
        intact = compute_record_hash(row.prev_hash, row.chain_id, origin, record, row.body_sha256)
    except (TypeError, ValueError):
        return None
    if intact != row.record_hash:
        return None
    detail = f"record {row.chain_seq} holds the contents hashed as record {origin}"
    return Failure(row.chain_id, int(row.chain_seq), Problem.REORDERED, detail)


async def _rows(conn: AsyncConnection, chain_id: str, page_size: int) -> AsyncIterator[Any]:
    # Keyset pages rather than a server-side cursor: same code on both databases, and the
    # connection stays free for the follow-up query that classifies a failure.
    after = 0
    while True:
        query = (
            select(records)
            .where(records.c.chain_id == chain_id, records.c.chain_seq > after)
            .order_by(records.c.chain_seq)
        )
        page = (await conn.execute(query.limit(page_size))).all()
        for row in page:
            yield row
        if len(page) < page_size:
            return
        after = page[-1].chain_seq


@asynccontextmanager
async def _snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            yield conn
