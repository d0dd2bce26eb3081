"""The committees' durable register of pilot applications and the permits issued on them.

One row per application (the unique content digest makes a re-send the same application), with
each step of Rules p.9 recorded as it happens — who did it, when, and by when it was due — and
the issued permit's life on the same row (status, termination, execution report). Numbers come
from E-licensing's counter table inside the writing transaction, so none is handed out twice.
Every delivery (cabinet, KEDEN, MONITORING) has its own flag, set only after the gateway's ack:
a crash between two deliveries resends only what was not acknowledged, under the same messageId.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors.db import UtcDateTime, create_engine, create_tables, write_transaction
from simulators.elicensing.register_tables import metadata as elicense_metadata
from simulators.elicensing.register_tables import next_value

metadata = MetaData()

applications = Table(
    "sim_export_pilot_applications",
    metadata,
    Column("number", String, primary_key=True),
    Column("digest", String, nullable=False, unique=True),
    Column("application_xml", Text, nullable=False),
    Column("applicant_id", String, nullable=False),
    Column("committee", String, nullable=False),
    Column("annex", Integer, nullable=False),
    Column("state", String, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("due_registration", UtcDateTime, nullable=False),
    Column("registered_at", UtcDateTime, nullable=True),
    Column("registered_by", String, nullable=True),
    Column("due_review", UtcDateTime, nullable=True),
    Column("due_total", UtcDateTime, nullable=True),
    Column("findings", Text, nullable=True),  # JSON: the machine's grounds at registration
    Column("reviewed_at", UtcDateTime, nullable=True),
    Column("decision", String, nullable=True),  # APPROVE / REFUSE
    Column("grounds", Text, nullable=True),  # JSON: the officer's refusal grounds
    Column("due_signature", UtcDateTime, nullable=True),
    Column("signed_at", UtcDateTime, nullable=True),
    Column("signed_by", String, nullable=True),
    Column("outcome", String, nullable=True),  # ISSUED / REFUSED
    Column("document_number", String, nullable=True, unique=True),
    Column("document_xml", Text, nullable=True),
    Column("late", String, nullable=False, default=""),  # steps found late: "review,total"
    Column("sent_portal", Boolean, nullable=False, default=False),
    Column("sent_keden", Boolean, nullable=False, default=False),
    Column("stage_registered", Boolean, nullable=False, default=False),
    Column("stage_in_work", Boolean, nullable=False, default=False),
    Column("stage_decided", Boolean, nullable=False, default=False),
    Column("stage_delivered", Boolean, nullable=False, default=False),
    Column("completed_at", UtcDateTime, nullable=True),
    # the permit's life (Rules p.10-16)
    Column("valid_from", String, nullable=True),
    Column("valid_to", String, nullable=True),
    Column("permit_status", String, nullable=True),  # VALID / TERMINATED
    Column("termination_requested", Text, nullable=True),  # the holder's p.14 а) application
    Column("termination_number", String, nullable=True, unique=True),
    Column("termination_ground", String, nullable=True),
    Column("terminated_at", UtcDateTime, nullable=True),
    Column("termination_xml", Text, nullable=True),
    Column("term_sent_portal", Boolean, nullable=False, default=False),
    Column("term_sent_keden", Boolean, nullable=False, default=False),
    Column("term_stage_sent", Boolean, nullable=False, default=False),
    Column("report_at", UtcDateTime, nullable=True),
    Column("report_xml", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
)


class State(StrEnum):
    """Where an application stands on the desk (Rules p.9 steps 1-3, then delivery)."""

    RECEIVED = "RECEIVED"  # filed through the portal, waiting for registration (≤ 1 WD)
    REGISTERED = "REGISTERED"  # taken by an officer, under review (≤ 2 WD)
    REVIEWED = "REVIEWED"  # approved or refused, the draft waits for the head (≤ 2 WD)
    SIGNED = "SIGNED"  # the head signed: the result is being delivered
    DELIVERED = "DELIVERED"


class PermitStatus(StrEnum):
    VALID = "VALID"
    TERMINATED = "TERMINATED"  # «тоқтатылды» (Rules p.15)


DELIVERY_FLAGS = (
    "sent_portal",
    "sent_keden",
    "stage_registered",
    "stage_in_work",
    "stage_decided",
    "stage_delivered",
)


@dataclass(frozen=True)
class PilotApplication:
    number: str
    digest: str
    application_xml: str
    applicant_id: str
    committee: str
    annex: int
    state: State
    received_at: datetime
    due_registration: datetime
    registered_at: datetime | None = None
    registered_by: str | None = None
    due_review: datetime | None = None
    due_total: datetime | None = None
    findings: str | None = None
    reviewed_at: datetime | None = None
    decision: str | None = None
    grounds: str | None = None
    due_signature: datetime | None = None
    signed_at: datetime | None = None
    signed_by: str | None = None
    outcome: str | None = None
    document_number: str | None = None
    document_xml: str | None = None
    late: str = ""
    sent_portal: bool = False
    sent_keden: bool = False
    stage_registered: bool = False
    stage_in_work: bool = False
    stage_decided: bool = False
    stage_delivered: bool = False
    completed_at: datetime | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    permit_status: str | None = None
    termination_requested: str | None = None
    termination_number: str | None = None
    termination_ground: str | None = None
    terminated_at: datetime | None = None
    termination_xml: str | None = None
    term_sent_portal: bool = False
    term_sent_keden: bool = False
    term_stage_sent: bool = False
    report_at: datetime | None = None
    report_xml: str | None = None
    attempts: int = 0
    last_error: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> PilotApplication:
        values = dict(row._mapping)
        values["state"] = State(values["state"])
        values["late"] = values["late"] or ""
        return cls(**{f.name: values[f.name] for f in fields(cls)})

    @property
    def late_steps(self) -> tuple[str, ...]:
        return tuple(s for s in self.late.split(",") if s)

    def findings_list(self) -> list[dict[str, Any]]:
        return json.loads(self.findings) if self.findings else []

    def grounds_list(self) -> list[dict[str, Any]]:
        return json.loads(self.grounds) if self.grounds else []


class StaleState(Exception):
    """The application is not in the state the step needs (another officer was faster)."""


@dataclass(frozen=True)
class Received:
    application: PilotApplication
    created: bool


class PilotStore:
    """The register on the simulators' database (SQLite file or PostgreSQL)."""

    def __init__(self, database_url: str) -> None:
        self._engine: AsyncEngine = create_engine(database_url)
        self._ready = False
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self._engine.dispose()

    async def receive(self, **row: Any) -> Received:
        """Store a filing under the next ``TMD-YYYY-NNNNNN``, or find it again by its digest."""
        await self._schema()
        try:
            async with write_transaction(self._engine) as conn:
                existing = await _one(conn, applications.c.digest == row["digest"])
                if existing is not None:
                    return Received(existing, created=False)
                year = row["received_at"].year
                number = f"TMD-{year}-{await next_value(conn, f'pilot-application-{year}'):06d}"
                await conn.execute(
                    applications.insert().values(number=number, state=State.RECEIVED, **row)
                )
                created = await _one(conn, applications.c.number == number)
                assert created is not None
                return Received(created, created=True)
        except IntegrityError:  # the same filing stored by another process meanwhile
            async with self._engine.connect() as conn:
                existing = await _one(conn, applications.c.digest == row["digest"])
            if existing is None:
                raise
            return Received(existing, created=False)

    async def get(self, number: str) -> PilotApplication | None:
        await self._schema()
        async with self._engine.connect() as conn:
            return await _one(conn, applications.c.number == number)

    async def by_permit(self, permit_number: str) -> PilotApplication | None:
        await self._schema()
        async with self._engine.connect() as conn:
            return await _one(conn, applications.c.document_number == permit_number)

    async def all(self, condition: Any = None) -> list[PilotApplication]:
        await self._schema()
        query = select(applications).order_by(applications.c.received_at, applications.c.number)
        if condition is not None:
            query = query.where(condition)
        async with self._engine.connect() as conn:
            return [PilotApplication.from_row(r) for r in await conn.execute(query)]

    async def update(self, number: str, **values: Any) -> PilotApplication:
        await self._schema()
        async with write_transaction(self._engine) as conn:
            await conn.execute(
                update(applications).where(applications.c.number == number).values(**values)
            )
            found = await _one(conn, applications.c.number == number)
        assert found is not None
        return found

    async def step(
        self,
        number: str,
        expected: State | tuple[State, ...],
        change: Callable[[PilotApplication, Callable[[str], Any]], Any],
    ) -> PilotApplication:
        """Apply ``change(current, counter)`` → column values, if ``number`` is ``expected``.

        The check, the counters ``change`` draws (``await``-free: it gets a function returning
        an awaitable of the next value) and the write share one transaction: two officers
        pressing the same button get one step and one StaleState.
        """
        await self._schema()
        wanted = expected if isinstance(expected, tuple) else (expected,)
        async with write_transaction(self._engine) as conn:
            query = select(applications).where(applications.c.number == number)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = (await conn.execute(query)).first()
            current = None if row is None else PilotApplication.from_row(row)
            if current is None or current.state not in wanted:
                raise StaleState(f"{number} is {current.state.value if current else 'unknown'}")
            values = change(current, lambda name: next_value(conn, name))
            if asyncio.iscoroutine(values):
                values = await values
            await conn.execute(
                update(applications).where(applications.c.number == number).values(**values)
            )
            found = await _one(conn, applications.c.number == number)
        assert found is not None
        return found

    async def _schema(self) -> None:
        if self._ready:
            return
        async with self._lock:
            if not self._ready:
                # E-licensing's counter table numbers the pilot's documents too: one sequence
                # space per ELICENSE, so its tables come first.
                await create_tables(self._engine, elicense_metadata)
                await create_tables(self._engine, metadata)
                self._ready = True


async def _one(conn: AsyncConnection, condition: Any) -> PilotApplication | None:
    row = (await conn.execute(select(applications).where(condition))).first()
    return None if row is None else PilotApplication.from_row(row)


def pending_deliveries(app: PilotApplication) -> list[str]:
    """The delivery flags still to set (KEDEN only for an issued permit)."""
    wanted = [flag for flag in DELIVERY_FLAGS if not getattr(app, flag)]
    if app.outcome != "ISSUED" and "sent_keden" in wanted:
        wanted.remove("sent_keden")
    return wanted
