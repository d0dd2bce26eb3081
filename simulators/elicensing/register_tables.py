"""The tables of E-licensing's register, on their own ``MetaData``, and its numbering counter.

ELICENSE is a system of its own, so its tables live on their own ``MetaData`` (like the
simulators' inboxes) on the simulators' database — SQLite file or PostgreSQL by URL: the
applications (``store``), what decisions consumed (``ledger``: fee uses, quota balances) and the
counters. Registration and document numbers come from a counter incremented inside the writing
transaction, so a number is never handed out twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.db import UtcDateTime

metadata = MetaData()

applications = Table(
    "sim_elicense_applications",
    metadata,
    Column("number", String, primary_key=True),
    Column("kind", String, nullable=False),
    Column("digest", String, nullable=False, index=True),
    # The digest while undecided, NULL after: the unique index de-duplicates in-flight filings
    # only (NULLs never collide, on SQLite and PostgreSQL alike).
    Column("open_digest", String, nullable=True, unique=True),
    Column("application_xml", Text, nullable=False),
    Column("applicant_id", String, nullable=False),
    Column("filed_at", UtcDateTime, nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
    Column("state", String, nullable=False),
    Column("outcome", String, nullable=True),
    Column("grounds", String, nullable=True),  # "R1,R6": the codes of a refusal
    Column("reason", Text, nullable=True),  # why a permit was NOT_ISSUED
    Column("document_number", String, nullable=True, unique=True),
    Column("document_xml", Text, nullable=True),
    Column("in_work_at", UtcDateTime, nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("completed_at", UtcDateTime, nullable=True),
    Column("sent_portal", Boolean, nullable=False, default=False),
    Column("sent_keden", Boolean, nullable=False, default=False),
    Column("stage_registered", Boolean, nullable=False, default=False),
    Column("stage_in_work", Boolean, nullable=False, default=False),
    Column("stage_decided", Boolean, nullable=False, default=False),
    Column("stage_delivered", Boolean, nullable=False, default=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("missed", Boolean, nullable=False, default=False),
    # Why the application cannot be decided until someone acts (e.g. KGD has no MRP of a year):
    # shown in /ops/sla and `kzgate status`, cleared when the application moves again.
    Column("alarm", Text, nullable=True),
    # The deciding worker holding the application, and until when (real time, UTC): a claim's
    # lease, or with no holder a retry's backoff. No worker takes it before (``claims``).
    Column("claimed_by", String, nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Index("ix_sim_elicense_state", "state", "registered_at"),
)

# One row per fee payment a licence consumed: the primary key is "one payment, one licence".
fee_uses = Table(
    "sim_elicense_fee_uses",
    metadata,
    Column("payment_id", String, primary_key=True),
    Column("application", String, nullable=False),
)

# What is left of each quota allocation once licences drew from it; a missing row means nothing
# was drawn yet (the records' figure stands). Quantities in millionths: exact on both databases.
quota_balances = Table(
    "sim_elicense_quota_balances",
    metadata,
    Column("key", String, primary_key=True),
    Column("remaining_micro", BigInteger, nullable=False),
)

counters = Table(
    "sim_elicense_counters",
    metadata,
    Column("name", String, primary_key=True),
    Column("value", Integer, nullable=False),
)


def dialect_insert(conn: AsyncConnection) -> Any:
    """The dialect's INSERT, which has ``on_conflict_do_*`` on SQLite and PostgreSQL alike."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


async def next_value(conn: AsyncConnection, name: str) -> int:
    """The next value of counter ``name`` (1, 2, …), in the caller's write transaction."""
    insert = dialect_insert(conn)
    statement = (
        insert(counters)
        .values(name=name, value=1)
        .on_conflict_do_update(index_elements=["name"], set_={"value": counters.c.value + 1})
        .returning(counters.c.value)
    )
    return int((await conn.execute(statement)).scalar_one())
