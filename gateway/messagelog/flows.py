"""Finding a whole flow in the message log from anything a person knows about it.

A flow is every hop that shares a trace with what was searched for: a correlationId, a messageId,
a trace id, or any text of a hop's body (a BIN or IIN, an application, licence, permit or
declaration number). The trace index (``messagelog_traces``) ties the hops of, say, one licence
application together across seven systems, though their correlationIds differ; hops recorded
without a trace still join through their correlationId. A body search scans the bodies, which
is fine for a gateway's own operators but not something to put on a hot path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.messagelog.records import StoredRecord
from gateway.messagelog.schema import from_row, records, traces

MAX_HOPS = 1000
MAX_SEEDS = 200
_TRACE_ID = re.compile(r"[0-9a-f]{32}")
# What may be searched in bodies: identifiers, never LIKE wildcards or markup.
_SEARCHABLE = re.compile(r"[0-9A-Za-zА-Яа-яЁё._/:-]{3,100}")


class BadSearch(ValueError):
    """The search text cannot be a correlationId, messageId or document number."""


@dataclass(frozen=True)
class Flow:
    term: str
    hops: list[StoredRecord]  # in chain order, each with its trace_id
    trace_ids: list[str]

    @property
    def correlation_ids(self) -> list[str]:
        return sorted({h.correlation_id for h in self.hops if h.correlation_id})


async def find_flow(engine: AsyncEngine, term: str) -> Flow:
    term = term.strip()
    if not _SEARCHABLE.fullmatch(term):
        raise BadSearch("search for an id or number: 3-100 letters, digits or . _ / : -")
    async with engine.connect() as conn:
        seeds = await _seeds(conn, term)
        if not seeds:
            return Flow(term, [], [])
        trace_ids = await _traces_of(conn, seeds)
        if _TRACE_ID.fullmatch(term):
            trace_ids.add(term)
        correlations = {s.correlation_id for s in seeds if s.correlation_id}
        query = (
            select(records, traces.c.trace_id)
            .outerjoin(traces, traces.c.seq == records.c.seq)
            .where(
                or_(
                    records.c.seq.in_([s.seq for s in seeds]),
                    traces.c.trace_id.in_(sorted(trace_ids)),
                    records.c.correlation_id.in_(sorted(correlations)),
                )
            )
            .order_by(records.c.seq)
            .limit(MAX_HOPS)
        )
        rows = (await conn.execute(query)).all()
    hops = [replace(from_row(row), trace_id=row.trace_id) for row in rows]
    found = sorted({h.trace_id for h in hops if h.trace_id})
    return Flow(term, hops, found)


async def _seeds(conn: object, term: str) -> list[StoredRecord]:
    by_id = select(records).where(
        or_(records.c.correlation_id == term, records.c.message_id == term)
    )
    if _TRACE_ID.fullmatch(term):
        traced = select(traces.c.seq).where(traces.c.trace_id == term)
        by_id = select(records).where(
            or_(
                records.c.correlation_id == term,
                records.c.message_id == term,
                records.c.seq.in_(traced),
            )
        )
    rows = (await conn.execute(by_id.limit(MAX_SEEDS))).all()  # type: ignore[attr-defined]
    if not rows:
        in_body = select(records).where(_body_contains(conn.dialect.name, term.encode()))  # type: ignore[attr-defined]
        rows = (await conn.execute(in_body.limit(MAX_SEEDS))).all()  # type: ignore[attr-defined]
    return [from_row(row) for row in rows]


def _body_contains(dialect: str, needle: bytes) -> ColumnElement[bool]:
    # SQLite's LIKE does not match inside BLOBs, instr does; PostgreSQL has LIKE on bytea.
    # ``needle`` holds no LIKE wildcard (``_SEARCHABLE``) except "_", escaped here.
    if dialect == "sqlite":
        return func.instr(records.c.body, needle) > 0
    pattern = b"%" + needle.replace(b"_", b"\\_") + b"%"
    return records.c.body.op("LIKE")(pattern)


async def _traces_of(conn: object, seeds: list[StoredRecord]) -> set[str]:
    query = select(traces.c.trace_id).where(traces.c.seq.in_([s.seq for s in seeds]))
    return {row.trace_id for row in (await conn.execute(query))}  # type: ignore[attr-defined]
