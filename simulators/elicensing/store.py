"""E-licensing's durable application register: what was filed, decided, signed and delivered.

The register lives on the simulators' database — SQLite file or PostgreSQL by URL, its tables in
``register_tables`` — and survives a restart: the flow resumes every application that is not
DELIVERED yet. What a decision consumes (fee payments, quota) is the ``ledger``'s.

One row per application. While an application waits for its decision, its content digest is
held in the unique ``open_digest`` column: the same application filed again meanwhile (a portal
retry, a double click) is that one registration. The decision clears it, so a filing after a
final decision is a new application with a new number — a refused applicant may cure the defect
and apply again [seed 002, LR p.7; DESIGN.md "Re-filing"]. Registration and document numbers
come from the counter of ``register_tables``, incremented inside the writing transaction.
Each delivery target has its own flag, set only after the gateway acknowledged the message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, bindparam, func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors.db import (
    StatementsByColumns,
    create_engine,
    create_tables,
    read_statement,
    write_statement,
    write_transaction,
)
from simulators.elicensing.ledger import Judge, Ledger, Taken
from simulators.elicensing.register_tables import applications, fee_uses, metadata, next_value

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

    def write_one(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection for one writing statement on the register (``write_statement``)."""
        return write_statement(self._engine)

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
            async with read_statement(self._engine) as conn:
                existing = await _in_flight(conn, new.digest)
            if existing is None:
                raise
            return Registered(existing, created=False)

    async def get(self, number: str) -> Application | None:
        await self._ensure_schema()
        async with read_statement(self._engine) as conn:
            return await _by_number(conn, number)

    async def all(self) -> list[Application]:
        return await self._select(None)

    async def unfinished(self) -> list[Application]:
        """Every application not yet DELIVERED, oldest registration first."""
        return await self._select(applications.c.state != State.DELIVERED.value)

    async def update(self, number: str, **values: Any) -> Application | None:
        """Write ``values``; the application as it now stands (None if ``number`` is unknown).

        One statement (UPDATE … RETURNING): the deciding workers mark every step, and a write
        followed by a read was two transactions a step (issue 12). On PostgreSQL it runs on the
        driver's connection, compiled once per set of columns (``connectors.db.DriverStatement``).
        """
        await self._ensure_schema()
        statement = _UPDATE_OF(tuple(sorted(values)))
        rows = await statement.rows(self._engine, {**values, "of_number": number}, writes=True)
        return Application.from_row(dict(rows[0].items())) if rows else None

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
            except Taken:
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
            raise Taken(str(exc)) from exc

    async def fee_uses(self) -> dict[str, str]:
        """payment id → the application whose licence consumed it."""
        await self._ensure_schema()
        async with read_statement(self._engine) as conn:
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
        async with read_statement(self._engine) as conn:
            rows = await conn.execute(query)
            return [Application.from_row(dict(r._mapping)) for r in rows]

    async def ready(self) -> None:
        """The register's tables exist (created on first use)."""
        await self._ensure_schema()

    async def _ensure_schema(self) -> None:
        # On first use, not at start-up: an app driven through httpx2 ASGITransport runs no
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


# The step marks' statements, one per set of columns written (a handful: the flow's steps).
_UPDATE_OF = StatementsByColumns(
    lambda columns: (
        update(applications)
        .where(applications.c.number == bindparam("of_number"))
        .values({column: bindparam(column) for column in columns})
        .returning(*applications.c)
    )
)


def _one(result: Any) -> Application | None:
    row = result.first()
    return None if row is None else Application.from_row(dict(row._mapping))


def pending_flags(app: Application) -> Sequence[str]:
    """The delivery flags still to be set for ``app`` (KEDEN only for an issued document)."""
    wanted = [flag for flag in DELIVERY_FLAGS if not getattr(app, flag)]
    if app.outcome is not Outcome.ISSUED and "sent_keden" in wanted:
        wanted.remove("sent_keden")
    return wanted
