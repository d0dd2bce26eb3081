"""The message log's tables: the records, and a one-row head that pins the chain's end."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    event,
)

from gateway.messagelog.chain import GENESIS_HASH
from gateway.messagelog.records import Direction, Outcome, StoredRecord
from gateway.storage.schema import metadata
from gateway.storage.types import UtcDateTime

HEAD_ID = 1


def _one_of(column: str, values: list[str]) -> CheckConstraint:
    quoted = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=f"ck_messagelog_records_{column}")


records = Table(
    "messagelog_records",
    metadata,
    # Assigned by the writer from the head row, not by the database: it is part of the hash.
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
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
)

head = Table(
    "messagelog_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
    CheckConstraint(f"id = {HEAD_ID}", name="ck_messagelog_head_single_row"),
)


@event.listens_for(head, "after_create")
def _seed_head(_target: Table, connection: Connection, **_kw: Any) -> None:
    # Only when the table is created: re-seeding an existing (emptied) head would hide tampering.
    connection.execute(head.insert().values(id=HEAD_ID, last_seq=0, last_hash=GENESIS_HASH))


COLUMN_NAMES = tuple(column.name for column in records.columns)


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

# Signed checkpoints of the head: each pins (seq, hash) under the gateway's signature, so that an
# evidence bundle can prove its hops to someone who trusts the gateway's certificate, not its
# database. ``envelope`` is the signed SOAP document, byte for byte.
checkpoints = Table(
    "messagelog_checkpoints",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("head_hash", String(64), nullable=False),
    Column("made_at", UtcDateTime, nullable=False),
    Column("envelope", LargeBinary, nullable=False),
)
