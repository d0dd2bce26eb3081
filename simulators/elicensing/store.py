"""E-licensing's durable application register: what was filed, decided, signed and delivered.

ELICENSE is a system of its own, so its tables live on their own ``MetaData`` (like the
simulators' inboxes) on the simulators' database — SQLite file or PostgreSQL by URL — and survive
a restart: the flow resumes every application that is not DELIVERED yet.

One row per application. While an application waits for its decision, its content digest is
held in the unique ``open_digest`` column: the same application filed again meanwhile (a portal
retry, a double click) is that one registration. The decision clears it, so a filing after a
final decision is a new application with a new number — a refused applicant may cure the defect
and apply again [seed 002, LR p.7; DESIGN.md "Re-filing"]. Registration and document numbers
come from a counter table incremented inside the writing transaction, so a number is never
handed out twice.
Each delivery target has its own flag, set only after the gateway acknowledged the message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
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
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors.db import UtcDateTime, create_engine, create_tables, write_transaction

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


_DECISION_LOCK_KEY = 0x454C4943  # "ELIC": PostgreSQL's advisory lock of the deciding step
_DECIDE_ATTEMPTS = 5  # a decision re-judged this often has met a storm of races: fail loudly


class Kind(StrEnum):
    LICENCE = "LICENCE"
    PERMIT = "PERMIT"


class State(StrEnum):
    REGISTERED = "REGISTERED"
    DECIDED = "DECIDED"
    DELIVERED = "DELIVERED"


class Outcome(StrEnum):
    ISSUED = "ISSUED"
    REFUSED = "REFUSED"  # a licence refused on grounds R1–R7 (motivated refusal, Annex 4)
    NOT_ISSUED = "NOT_ISSUED"  # a draft permit closed without a permit (no refusal exists)


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
    reason: str | None = None
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
    alarm: str | None = None
    claimed_by: str | None = None
    lease_until: datetime | None = None

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


class _Taken(Exception):
    """The payment or quota a verdict consumes was taken by another decision meanwhile."""


@dataclass(frozen=True)
class QuotaDraw:
    """An issued licence's quantity, drawn from quota ``key`` (``initial``: its allocation's
    remaining quantity in E-licensing's records, before any draw)."""

    key: str
    initial: Decimal
    quantity: Decimal


@dataclass(frozen=True)
class Verdict:
    """What ``ApplicationStore.decide`` writes: ``build(sequence)`` gives the column values."""

    counter: str
    build: Callable[[int], dict[str, Any]]
    fee_payment: str | None = None
    quota: QuotaDraw | None = None


class Ledger:
    """What decisions consumed, read and written inside the deciding transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def payment_uses(self, payment_ids: Iterable[str]) -> dict[str, str]:
        """payment id → the application that consumed it, for those of ``payment_ids`` used."""
        ids = list(payment_ids)
        if not ids:
            return {}
        query = select(fee_uses.c.payment_id, fee_uses.c.application).where(
            fee_uses.c.payment_id.in_(ids)
        )
        return {r.payment_id: r.application for r in await self._conn.execute(query)}

    async def quota_remaining(self, key: str, initial: Decimal) -> Decimal:
        query = select(quota_balances.c.remaining_micro).where(quota_balances.c.key == key)
        micro = (await self._conn.execute(query)).scalar_one_or_none()
        return initial if micro is None else _from_micro(micro)

    async def take_payment(self, payment_id: str, application: str) -> None:
        insert = _insert(self._conn)
        statement = (
            insert(fee_uses)
            .values(payment_id=payment_id, application=application)
            .on_conflict_do_nothing()
            .returning(fee_uses.c.payment_id)
        )
        if (await self._conn.execute(statement)).first() is None:
            raise _Taken(f"payment {payment_id} is already used")

    async def draw_quota(self, draw: QuotaDraw) -> None:
        insert = _insert(self._conn)
        await self._conn.execute(
            insert(quota_balances)
            .values(key=draw.key, remaining_micro=_to_micro(draw.initial))
            .on_conflict_do_nothing()
        )
        wanted = _to_micro(draw.quantity)
        # One conditional UPDATE: on PostgreSQL a concurrent draw waits for the row and then
        # re-checks the condition on the committed balance, so the quota never goes negative.
        statement = (
            update(quota_balances)
            .where(quota_balances.c.key == draw.key, quota_balances.c.remaining_micro >= wanted)
            .values(remaining_micro=quota_balances.c.remaining_micro - wanted)
            .returning(quota_balances.c.remaining_micro)
        )
        if (await self._conn.execute(statement)).first() is None:
            raise _Taken(f"quota {draw.key} has less than {draw.quantity} left")


Judge = Callable[[Ledger], Awaitable[Verdict]]


class ApplicationStore:
    """The register on one database (SQLite file or PostgreSQL by URL)."""

    def __init__(self, database_url: str) -> None:
        self._engine: AsyncEngine = create_engine(database_url)
        self._ready = False
        self._ready_lock = asyncio.Lock()

    @property
    def engine(self) -> AsyncEngine:
        """The register's engine, lent to the support desk ELICENSE writes to."""
        return self._engine

    async def close(self) -> None:
        await self._engine.dispose()

    def write(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A write transaction on the register (SQLite: its write lock taken at BEGIN)."""
        return write_transaction(self._engine)

    async def register(self, new: NewApplication) -> Registered:
        """Register ``new`` under the next ``ELA-YYYY-NNNNNN``, or find it by its digest."""
        await self._ensure_schema()
        try:
            async with write_transaction(self._engine) as conn:
                existing = await _in_flight(conn, new.digest)
                if existing is not None:
                    return Registered(existing, created=False)
                year = new.registered_at.year
                sequence = await next_value(conn, f"application-{year}")
                row = {**new.__dict__, "number": f"ELA-{year}-{sequence:06d}"}
                row["open_digest"] = new.digest
                row.update(state=State.REGISTERED.value, kind=new.kind.value)
                await conn.execute(applications.insert().values(**row))
                return Registered(await _by_number(conn, row["number"]), created=True)
        except IntegrityError:
            # The same application registered by another process between our read and insert
            # (PostgreSQL; SQLite's write lock at BEGIN rules it out): the unique digest decided.
            async with self._engine.connect() as conn:
                existing = await _in_flight(conn, new.digest)
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

    async def decide(self, number: str, judge: Judge) -> Application:
        """Move REGISTERED → DECIDED in one transaction with everything the decision consumes.

        ``judge(ledger)`` reads what earlier decisions consumed (fee payments, quota) through the
        ledger and returns a ``Verdict``: the counter of the document number, the builder of the
        column values, and the fee payment and quota quantity an issued licence takes. They are
        taken in this same transaction, so a licence and its fee and quota are one fact [seed
        002, LR p.3, p.7(5)]. Another decision that took the payment or the quota first makes
        the take fail (unique payment, conditional quota update); the whole decision is then
        judged again on the new state, so it ends as a refusal rather than a second licence.

        StaleState if the application is no longer REGISTERED: the guard and the counter share
        the transaction, so a lost race leaves no gap in the numbering.
        """
        await self._ensure_schema()
        for _ in range(_DECIDE_ATTEMPTS - 1):
            try:
                return await self._decide_once(number, judge)
            except _Taken:
                continue  # judged on a state another decision changed meanwhile: judge again
        return await self._decide_once(number, judge)

    async def _decide_once(self, number: str, judge: Judge) -> Application:
        try:
            async with write_transaction(self._engine) as conn:
                if conn.dialect.name == "postgresql":
                    # Decisions commit one at a time, as under SQLite's write lock: each is
                    # judged on what the last one consumed, so workers deciding in parallel do
                    # not storm on one fee or quota (the slow part, the facts, stays parallel).
                    await conn.execute(select(func.pg_advisory_xact_lock(_DECISION_LOCK_KEY)))
                current = await _by_number(conn, number, lock=True)
                if current is None or current.state is not State.REGISTERED:
                    raise StaleState(number)
                ledger = Ledger(conn)
                verdict = await judge(ledger)
                if verdict.fee_payment is not None:
                    await ledger.take_payment(verdict.fee_payment, number)
                if verdict.quota is not None:
                    await ledger.draw_quota(verdict.quota)
                values = verdict.build(await next_value(conn, verdict.counter))
                await conn.execute(
                    update(applications)
                    .where(applications.c.number == number)
                    .values(state=State.DECIDED.value, open_digest=None, **values)
                )
                return await _by_number(conn, number)
        except IntegrityError as exc:
            # PostgreSQL: the payment was taken by a transaction that committed while ours ran.
            raise _Taken(str(exc)) from exc

    async def fee_uses(self) -> dict[str, str]:
        """payment id → the application whose licence consumed it."""
        await self._ensure_schema()
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(fee_uses.c.payment_id, fee_uses.c.application))
            return {r.payment_id: r.application for r in rows}

    async def quota_remaining(self, key: str, initial: Decimal) -> Decimal:
        """What is left of quota ``key`` (``initial`` before anything was drawn from it)."""
        await self._ensure_schema()
        async with self._engine.connect() as conn:
            return await Ledger(conn).quota_remaining(key, initial)

    async def _select(self, condition: Any) -> list[Application]:
        await self._ensure_schema()
        query = select(applications).order_by(applications.c.registered_at, applications.c.number)
        if condition is not None:
            query = query.where(condition)
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [Application.from_row(dict(r._mapping)) for r in rows]

    async def ready(self) -> None:
        """The register's tables exist (created on first use)."""
        await self._ensure_schema()

    async def _ensure_schema(self) -> None:
        # On first use, not at start-up: an app driven through httpx ASGITransport runs no
        # lifespan, and intake must work there too.
        if self._ready:
            return
        async with self._ready_lock:
            if not self._ready:
                await create_tables(self._engine, metadata, then=_add_missing_columns)
                self._ready = True


async def _add_missing_columns(conn: AsyncConnection) -> None:
    """A register created by an older ELICENSE gets the (nullable) columns added since."""

    def missing(sync_conn: Any) -> list[Column[Any]]:
        present = {c["name"] for c in inspect(sync_conn).get_columns(applications.name)}
        return [c for c in applications.columns if c.name not in present]

    for column in await conn.run_sync(missing):
        kind = column.type.compile(conn.dialect)
        await conn.execute(text(f"ALTER TABLE {applications.name} ADD COLUMN {column.name} {kind}"))


def _insert(conn: AsyncConnection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


_MICRO = Decimal(1_000_000)


def _to_micro(quantity: Decimal) -> int:
    return int((quantity * _MICRO).to_integral_value())


def _from_micro(micro: int) -> Decimal:
    value = Decimal(micro) / _MICRO
    # normalize() alone writes 250000 as 2.5E+5; a whole quantity is shown whole.
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


async def next_value(conn: AsyncConnection, name: str) -> int:
    """The next value of counter ``name`` (1, 2, …), in the caller's write transaction."""
    insert = _insert(conn)
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


async def _in_flight(conn: AsyncConnection, digest: str) -> Application | None:
    query = select(applications).where(applications.c.open_digest == digest)
    return _one(await conn.execute(query))


def _one(result: Any) -> Application | None:
    row = result.first()
    return None if row is None else Application.from_row(dict(row._mapping))


def pending_flags(app: Application) -> Sequence[str]:
    """The delivery flags still to be set for ``app`` (KEDEN only for an issued document)."""
    wanted = [flag for flag in DELIVERY_FLAGS if not getattr(app, flag)]
    if app.outcome is not Outcome.ISSUED and "sent_keden" in wanted:
        wanted.remove("sent_keden")
    return wanted
