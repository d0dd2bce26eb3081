"""E-licensing's durable application register: what was filed, decided, signed and delivered.

ELICENSE is a system of its own, so its tables live on their own ``MetaData`` (like the
simulators' inboxes) on the simulators' database — SQLite file or PostgreSQL by URL — and survive
a restart: the flow resumes every application that is not DELIVERED yet.

One row per application. The content digest is unique, so the same application filed twice is
one registration (and so one licence); registration and document numbers come from a counter
table incremented inside the writing transaction, so a number is never handed out twice.
Each delivery target has its own flag, set only after the gateway acknowledged the message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.storage.engine import create_engine, write_transaction
from gateway.storage.schema import create_tables
from gateway.storage.types import UtcDateTime

metadata = MetaData()

applications = Table(
    "sim_elicense_applications",
    metadata,
    Column("number", String, primary_key=True),
    Column("kind", String, nullable=False),
    Column("digest", String, nullable=False, unique=True),
    Column("application_xml", Text, nullable=False),
    Column("applicant_id", String, nullable=False),
    Column("filed_at", UtcDateTime, nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
    Column("state", String, nullable=False),
    Column("outcome", String, nullable=True),
    Column("grounds", String, nullable=True),  # "R1,R6": the codes of a refusal
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
    Index("ix_sim_elicense_state", "state", "registered_at"),
)

counters = Table(
    "sim_elicense_counters",
    metadata,
    Column("name", String, primary_key=True),
    Column("value", Integer, nullable=False),
)


class Kind(StrEnum):
    LICENCE = "LICENCE"
    PERMIT = "PERMIT"


class State(StrEnum):
    REGISTERED = "REGISTERED"
    DECIDED = "DECIDED"
    DELIVERED = "DELIVERED"


class Outcome(StrEnum):
    ISSUED = "ISSUED"
    REFUSED = "REFUSED"


# The delivery flags, by the column that records each one.
DELIVERY_FLAGS = (
    "sent_portal",
    "sent_keden",
    "stage_registered",
    "stage_in_work",
    "stage_decided",
    "stage_delivered",
)


@dataclass(frozen=True)
class Application:
    """One row of the register."""

    number: str
    kind: Kind
    digest: str
    application_xml: str
    applicant_id: str
    filed_at: datetime
    registered_at: datetime
    deadline: datetime
    state: State
    outcome: Outcome | None = None
    grounds: str | None = None
    document_number: str | None = None
    document_xml: str | None = None
    in_work_at: datetime | None = None
    decided_at: datetime | None = None
    completed_at: datetime | None = None
    sent_portal: bool = False
    sent_keden: bool = False
    stage_registered: bool = False
    stage_in_work: bool = False
    stage_decided: bool = False
    stage_delivered: bool = False
    attempts: int = 0
    last_error: str | None = None
    missed: bool = False

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Application:
        values = dict(row)
        values["kind"] = Kind(values["kind"])
        values["state"] = State(values["state"])
        values["outcome"] = Outcome(values["outcome"]) if values["outcome"] else None
        return cls(**{f.name: values[f.name] for f in fields(cls)})

    @property
    def ground_codes(self) -> tuple[str, ...]:
        return tuple(self.grounds.split(",")) if self.grounds else ()


@dataclass(frozen=True)
class NewApplication:
    """What intake knows when it registers a filing."""

    kind: Kind
    digest: str
    application_xml: str
    applicant_id: str
    filed_at: datetime
    registered_at: datetime
    deadline: datetime


@dataclass(frozen=True)
class Registered:
    application: Application
    created: bool  # False: the same application was already registered


class StaleState(Exception):
    """The application moved on meanwhile (another worker did this step)."""


class ApplicationStore:
    """The register on one database (SQLite file or PostgreSQL by URL)."""

    def __init__(self, database_url: str) -> None:
        self._engine: AsyncEngine = create_engine(database_url)
        self._ready = False
        self._ready_lock = asyncio.Lock()

    async def close(self) -> None:
        await self._engine.dispose()

    async def register(self, new: NewApplication) -> Registered:
        """Register ``new`` under the next ``ELA-YYYY-NNNNNN``, or find it by its digest."""
        await self._ensure_schema()
        try:
            async with write_transaction(self._engine) as conn:
                existing = await _by_digest(conn, new.digest)
                if existing is not None:
                    return Registered(existing, created=False)
                year = new.registered_at.year
                sequence = await next_value(conn, f"application-{year}")
                row = {**new.__dict__, "number": f"ELA-{year}-{sequence:06d}"}
                row.update(state=State.REGISTERED.value, kind=new.kind.value)
                await conn.execute(applications.insert().values(**row))
                return Registered(await _by_number(conn, row["number"]), created=True)
        except IntegrityError:
            # The same application registered by another process between our read and insert
            # (PostgreSQL; SQLite's write lock at BEGIN rules it out): the unique digest decided.
            async with self._engine.connect() as conn:
                existing = await _by_digest(conn, new.digest)
            if existing is None:
                raise
            return Registered(existing, created=False)

    async def get(self, number: str) -> Application | None:
        await self._ensure_schema()
        async with self._engine.connect() as conn:
            return await _by_number(conn, number)

    async def all(self) -> list[Application]:
        return await self._select(None)

    async def unfinished(self) -> list[Application]:
        """Every application not yet DELIVERED, oldest registration first."""
        return await self._select(applications.c.state != State.DELIVERED.value)

    async def update(self, number: str, **values: Any) -> None:
        await self._ensure_schema()
        async with write_transaction(self._engine) as conn:
            await conn.execute(
                update(applications).where(applications.c.number == number).values(**values)
            )

    async def decide(self, number: str, counter: str, build: Any) -> Application:
        """Move REGISTERED → DECIDED with the next number of ``counter`` in one transaction.

        ``build(sequence)`` returns the column values (document number, signed XML, outcome …).
        StaleState if the application is no longer REGISTERED: the guard and the counter share
        the transaction, so a lost race leaves no gap in the numbering.
        """
        await self._ensure_schema()
        async with write_transaction(self._engine) as conn:
            current = await _by_number(conn, number, lock=True)
            if current is None or current.state is not State.REGISTERED:
                raise StaleState(number)
            values = build(await next_value(conn, counter))
            await conn.execute(
                update(applications)
                .where(applications.c.number == number)
                .values(state=State.DECIDED.value, **values)
            )
            return await _by_number(conn, number)

    async def _select(self, condition: Any) -> list[Application]:
        await self._ensure_schema()
        query = select(applications).order_by(applications.c.registered_at, applications.c.number)
        if condition is not None:
            query = query.where(condition)
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [Application.from_row(dict(r._mapping)) for r in rows]

    async def _ensure_schema(self) -> None:
        # On first use, not at start-up: an app driven through httpx ASGITransport runs no
        # lifespan, and intake must work there too.
        if self._ready:
            return
        async with self._ready_lock:
            if not self._ready:
                await create_tables(self._engine, metadata)
                self._ready = True


async def next_value(conn: AsyncConnection, name: str) -> int:
    """The next value of counter ``name`` (1, 2, …), in the caller's write transaction."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(counters)
        .values(name=name, value=1)
        .on_conflict_do_update(index_elements=["name"], set_={"value": counters.c.value + 1})
        .returning(counters.c.value)
    )
    return int((await conn.execute(statement)).scalar_one())


async def _by_number(
    conn: AsyncConnection, number: str, *, lock: bool = False
) -> Application | None:
    query = select(applications).where(applications.c.number == number)
    if lock:  # PostgreSQL: a second worker waits here and then sees the state moved on
        query = query.with_for_update()
    return _one(await conn.execute(query))


async def _by_digest(conn: AsyncConnection, digest: str) -> Application | None:
    return _one(await conn.execute(select(applications).where(applications.c.digest == digest)))


def _one(result: Any) -> Application | None:
    row = result.first()
    return None if row is None else Application.from_row(dict(row._mapping))


def pending_flags(app: Application) -> Sequence[str]:
    """The delivery flags still to be set for ``app`` (KEDEN only for an issued document)."""
    wanted = [flag for flag in DELIVERY_FLAGS if not getattr(app, flag)]
    if app.outcome is not Outcome.ISSUED and "sent_keden" in wanted:
        wanted.remove("sent_keden")
    return wanted
