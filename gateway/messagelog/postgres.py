"""The message log's append on PostgreSQL: a batch's records, their traces and the chain's new
head in one statement, on the driver's connection.

Through SQLAlchemy an append was six round trips (BEGIN, record numbers, records, traces, head,
COMMIT), each costing the gateway ~0.25 ms of CPU in SQLAlchemy's async machinery — about a
quarter of a sync trip's CPU for its two appends (issue 12). Here one statement does it all,
with data-modifying CTEs:

- ``head`` moves the chain's row from where this writer left it (or opens it), and
- ``new`` inserts the records, numbered by the sequence, only ``WHERE EXISTS (SELECT 1 FROM
  head)``: a chain row moved by someone else writes nothing, and the caller is told;
- ``traced`` indexes the records' traces by the numbers ``new`` returns.

A single statement is atomic on its own, so without claims it needs no BEGIN or COMMIT and is
durable when it returns. Claims run first in a transaction with it, since which groups' claims
hold decides what the chain links. The SQL is generated from the tables' definitions in
``schema``, so a column added there is written here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlalchemy.dialects import postgresql

from gateway.messagelog.schema import RECORD_IDS, chains, records, traces

_DIALECT = postgresql.dialect()
# Filled in by the statement: the record number, and the chain (one per statement).
_NUMBERED = ("seq", "chain_id")


def _array_type(column: Column[Any]) -> str:
    return f"{column.type.compile(dialect=_DIALECT)}[]"


_COLUMNS = [c for c in records.columns if c.name not in _NUMBERED]


def _statement(*, opening: bool) -> str:
    """The append, with the head's parameters first ($1 chain id, $2 new length, $3 new head
    hash; then the length this writer last wrote, or the opening chain's instance, worker and
    time), one array per record column after them, then the traces' chain positions and ids."""
    if opening:
        head = (
            f"INSERT INTO {chains.name} (chain_id, instance_id, worker, opened_at, length, "
            "head_hash) VALUES ($1, $4, $5, $6, $2, $3) RETURNING 1"
        )
        first = 7
    else:
        head = (
            f"UPDATE {chains.name} SET length = $2, head_hash = $3 "
            "WHERE chain_id = $1 AND length = $4 RETURNING 1"
        )
        first = 5
    names = ", ".join(column.name for column in _COLUMNS)
    arrays = ", ".join(f"${first + i}::{_array_type(column)}" for i, column in enumerate(_COLUMNS))
    trace_at = first + len(_COLUMNS)
    return (
        f"WITH head AS ({head}), "
        f"new AS (INSERT INTO {records.name} (seq, chain_id, {names}) "
        f"SELECT nextval('{RECORD_IDS.name}'), $1, {names} FROM unnest({arrays}) AS r({names}) "
        "WHERE EXISTS (SELECT 1 FROM head) RETURNING seq, chain_seq), "
        f"traced AS (INSERT INTO {traces.name} (seq, trace_id) SELECT new.seq, t.trace_id "
        f"FROM new JOIN unnest(${trace_at}::bigint[], ${trace_at + 1}::text[]) "
        "AS t(chain_seq, trace_id) USING (chain_seq)) "
        "SELECT chain_seq, seq FROM new"
    )


_MOVE, _OPEN = _statement(opening=False), _statement(opening=True)


@dataclass(frozen=True)
class Head:
    """Where the chain ends after the batch; ``opening`` when this batch writes its first row
    (``instance_id``, ``worker``, ``opened_at``), else ``previous_length`` is where this writer
    left it."""

    chain_id: str
    length: int
    head_hash: str
    previous_length: int
    opening: bool
    instance_id: str
    worker: str
    opened_at: datetime


async def append_rows(connection: Any, rows: list[dict[str, Any]], head: Head) -> dict[int, int]:
    """Insert ``rows`` (each record's column values but ``seq`` and ``chain_id``, and its
    ``trace_id``) and move the chain's head, atomically, on an asyncpg ``connection``; the record
    number of each chain position. An empty result means the chain's row was not where this
    writer left it (or, opening, is there already), and nothing was written."""
    columns = [[row[column.name] for row in rows] for column in _COLUMNS]
    traced = [(row["chain_seq"], row["trace_id"]) for row in rows if row.get("trace_id")]
    where: tuple[object, ...] = (
        (head.instance_id, head.worker, head.opened_at) if head.opening else (head.previous_length,)
    )
    result = await connection.fetch(
        _OPEN if head.opening else _MOVE,
        head.chain_id,
        head.length,
        head.head_hash,
        *where,
        *columns,
        [position for position, _ in traced],
        [trace for _, trace in traced],
    )
    return {row["chain_seq"]: row["seq"] for row in result}
