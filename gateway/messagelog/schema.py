"""The message log's tables: the records, one head row per writer's chain, signed checkpoints.

Each chain's row (``messagelog_chains``) is written only by the process that owns the chain, in
the same transaction as the chain's records, so writers never wait for one another here. The
log of an earlier version (one chain, one ``messagelog_head`` row) is upgraded in place by
``upgrade_single_chain`` when the schema is created.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    LargeBinary,
    Sequence,
    String,
    Table,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.db import UtcDateTime
from gateway.messagelog.chain import LEGACY_CHAIN
from gateway.messagelog.records import Direction, Outcome, StoredRecord
from gateway.storage.schema import metadata

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # opened_at of an upgraded chain with no records


def _one_of(column: str, values: list[str]) -> CheckConstraint:
    quoted = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=f"ck_messagelog_records_{column}")


# Numbers for ``seq`` on PostgreSQL: nextval never waits for another transaction (the append in
# ``messagelog.postgres`` takes them). SQLite has one writer at a time anyway; there the writer
# takes max(seq) + 1 (``numbers_after_last``).
RECORD_IDS = Sequence("messagelog_record_ids", metadata=metadata)

records = Table(
    "messagelog_records",
    metadata,
    # The log-wide number of a record: how the console, traces and flows refer to it. Not hashed.
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    # Its place in its writer's hash chain: hashed.
    Column("chain_id", String, nullable=False),
    Column("chain_seq", BigInteger, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("message_id", String, nullable=False),
    Column("correlation_id", String),
    Column("service_id", String, nullable=False),
    Column("sender_id", String, nullable=False),
    Column("receiver_id", String),
    Column("direction", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("fault_code", String),
    Column("security_policy", String, nullable=False),
    Column("elapsed_ms", BigInteger),
    Column("body", LargeBinary, nullable=False),
    Column("body_sha256", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("record_hash", String(64), nullable=False, unique=True),
    _one_of("direction", [d.value for d in Direction]),
    _one_of("outcome", [o.value for o in Outcome]),
    Index("ix_messagelog_records_correlation_id", "correlation_id"),
    Index("ix_messagelog_records_message_id", "message_id"),
    Index("ux_messagelog_records_chain", "chain_id", "chain_seq", unique=True),
)

# One row per chain: who writes it and where it ends. ``length`` and ``head_hash`` move in the
# transaction that appends the records, so a truncated chain shows as a row ahead of its records.
chains = Table(
    "messagelog_chains",
    metadata,
    Column("chain_id", String, primary_key=True),
    Column("instance_id", String, nullable=False),
    Column("worker", String, nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
    Column("length", BigInteger, nullable=False),
    Column("head_hash", String(64), nullable=False),
)

COLUMN_NAMES = tuple(column.name for column in records.columns)


async def numbers_after_last(conn: AsyncConnection, count: int) -> list[int]:
    """``count`` fresh log-wide record numbers after the highest one, in increasing order; only
    for a transaction that holds SQLite's write lock (BEGIN IMMEDIATE), so no one else takes
    them meanwhile."""
    top = int((await conn.execute(select(func.coalesce(func.max(records.c.seq), 0)))).scalar() or 0)
    return list(range(top + 1, top + 1 + count))


def to_row(stored: StoredRecord) -> dict[str, Any]:
    """The column values of a stored record (enums as their wire values)."""
    row = {name: getattr(stored, name) for name in COLUMN_NAMES}
    row["direction"] = stored.direction.value
    row["outcome"] = stored.outcome.value
    return row


def from_row(row: Any) -> StoredRecord:
    """A stored record from a result row; raises ValueError if a column holds an unknown value."""
    return StoredRecord(**{name: getattr(row, name) for name in COLUMN_NAMES})


# Which trace each hop belongs to (see HopRecord.trace_id): the flow browser's index.
traces = Table(
    "messagelog_traces",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("trace_id", String(32), nullable=False),
    Index("ix_messagelog_traces_trace_id", "trace_id"),
)

# Signed checkpoints: each pins every chain's (id, length, head hash) and their Merkle root under
# the gateway's signature (``checkpoint``). ``envelope`` is the signed SOAP document, byte for
# byte; the other columns repeat what it says, for queries.
checkpoints = Table(
    "messagelog_chain_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("made_at", UtcDateTime, nullable=False),
    Column("merkle_root", String(64), nullable=False),
    Column("chains", Integer, nullable=False),
    Column("records", BigInteger, nullable=False),
    Column("envelope", LargeBinary, nullable=False),
)

# The checkpoints of a log begun before chains: (seq, hash) of the one chain, now
# ``LEGACY_CHAIN``. Still checked by ``kzgate log verify``; empty in a log begun with chains.
legacy_checkpoints = Table(
    "messagelog_checkpoints",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("head_hash", String(64), nullable=False),
    Column("made_at", UtcDateTime, nullable=False),
    Column("envelope", LargeBinary, nullable=False),
)


async def upgrade_single_chain(conn: AsyncConnection) -> None:
    """Turn a single-chain log (an earlier version's var dir) into the chain ``LEGACY_CHAIN``.

    Nothing is rehashed: its records keep their hashes (format 1, see ``chain``), get
    ``chain_id = LEGACY_CHAIN`` and ``chain_seq = seq``, and its head row becomes that chain's
    row. A missing head row is not invented: ``kzgate log verify`` will report it. Runs in the
    schema transaction (under the schema lock), so concurrent starts upgrade once.
    """
    tables, columns = await conn.run_sync(_layout)
    if "chain_id" in columns:
        return
    for statement in (
        f"ALTER TABLE messagelog_records ADD COLUMN chain_id VARCHAR NOT NULL "
        f"DEFAULT '{LEGACY_CHAIN}'",
        "ALTER TABLE messagelog_records ADD COLUMN chain_seq BIGINT NOT NULL DEFAULT 0",
        "UPDATE messagelog_records SET chain_seq = seq",
        "CREATE UNIQUE INDEX ux_messagelog_records_chain ON messagelog_records "
        "(chain_id, chain_seq)",
    ):
        await conn.execute(text(statement))
    if "messagelog_head" in tables:
        old = (await conn.execute(text("SELECT last_seq, last_hash FROM messagelog_head"))).first()
        if old is not None:
            first = await conn.execute(select(func.min(records.c.recorded_at)))
            opened = first.scalar()
            await conn.execute(
                chains.insert().values(
                    chain_id=LEGACY_CHAIN,
                    instance_id="",
                    worker="",
                    opened_at=opened if opened is not None else _EPOCH,
                    length=int(old.last_seq),
                    head_hash=str(old.last_hash),
                )
            )
        await conn.execute(text("DROP TABLE messagelog_head"))
    if conn.dialect.name == "postgresql":
        top = (await conn.execute(text("SELECT max(seq) FROM messagelog_records"))).scalar()
        if top:
            await conn.execute(text("SELECT setval('messagelog_record_ids', :n)"), {"n": top})


def _layout(sync_conn: Any) -> tuple[set[str], set[str]]:
    inspector = inspect(sync_conn)
    names = set(inspector.get_table_names())
    if "messagelog_records" not in names:
        return names, {"chain_id"}
    return names, {c["name"] for c in inspector.get_columns("messagelog_records")}
