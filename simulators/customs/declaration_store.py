"""KEDEN's durable declarations: filing, status changes, their deliveries, and reading.

Accepted means durable: a filing is one row (unique by declarant and filing reference: the same
filing again is the same declaration); every status change is one transaction that also appends
the event the declarant's cabinet receives. A release writes the quantities off the customs
records in the same transaction (``write_off``), so a second release of the same declaration — a
redelivered officer's result, a worker restarted mid-step — finds it released and changes
nothing. The tables and their rows as values: ``declaration_rows``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors.db import create_engine, write_transaction
from simulators.customs.declaration_rows import (
    CUSTOMS_POST,
    Declaration,
    Event,
    StaleDeclaration,
    WriteOff,
    append_event,
    declaration_json,
    declaration_of,
    declarations,
    event_of,
    events,
    fetch_by_filing,
    fetch_declaration,
    metadata,
    next_value,
    reasons_json,
    result_json,
    update_declaration,
    write_off_of,
    write_offs,
)
from simulators.customs.declarations import (
    ControlForm,
    ControlResult,
    DeclarationStatus,
    ExportDeclaration,
    Reason,
)
from simulators.customs.models import customs_day
from simulators.customs.payload import decimal_text
from simulators.customs.store import create_records_table
from simulators.customs.write_off import released_late, reserved_quantities, write_off_all

__all__ = ["Clock", "DeclarationStore", "StaleDeclaration"]

Clock = Callable[[], datetime]
_SCHEMA_LOCK_KEY = 0x6B65_6465_6E64  # KEDEN declarations' own advisory lock


class DeclarationStore:
    """KEDEN's declarations on one database; ``clock`` is business time."""

    def __init__(self, database_url: str, clock: Clock) -> None:
        self.clock = clock
        self._engine: AsyncEngine = create_engine(database_url)
        self._ready = False
        self._ready_lock = asyncio.Lock()

    # --- filing -----------------------------------------------------------------------------

    async def submit(
        self, content: ExportDeclaration, *, submitted_at: datetime, deadline: datetime
    ) -> tuple[Declaration, bool]:
        """Store a formed declaration as SUBMITTED «берілді»; (declaration, created). The same
        declarant's same filing reference is the same declaration: answered again, never twice."""
        await self._ensure_schema()
        async with write_transaction(self._engine) as conn:
            existing = await fetch_by_filing(conn, content.declarant_id, content.filing_reference)
            if existing is not None:
                return existing, False
            year = customs_day(submitted_at).year
            number = f"ED-{year}-{await next_value(conn, f'declaration-{year}'):07d}"
            await conn.execute(
                declarations.insert().values(
                    number=number,
                    declarant_id=content.declarant_id,
                    filing_reference=content.filing_reference,
                    declaration=json.dumps(declaration_json(content)),
                    status=DeclarationStatus.SUBMITTED.value,
                    submitted_at=submitted_at,
                    registration_deadline=deadline,
                    registration_late=False,
                    release_late=False,
                )
            )
            await append_event(
                conn,
                number,
                DeclarationStatus.SUBMITTED,
                submitted_at,
                "the declaration is submitted; registration is due by "
                f"{deadline.isoformat()} (Annex 5 para 5(1))",
            )
        declaration = await self.get(number)
        assert declaration is not None
        return declaration, True

    # --- status changes ---------------------------------------------------------------------

    async def register(self, number: str, *, late: bool, text_: str) -> Declaration:
        """SUBMITTED → REGISTERED «тіркелді», with the registration number."""
        now = self.clock()
        async with self._changing(number, DeclarationStatus.SUBMITTED) as conn:
            day = customs_day(now)
            sequence = await next_value(conn, f"registration-{day.isoformat()}")
            registration = f"{CUSTOMS_POST}/{day:%d%m%y}/{sequence:07d}"
            await update_declaration(
                conn,
                number,
                status=DeclarationStatus.REGISTERED,
                registered_at=now,
                registration_number=registration,
                registration_late=late,
            )
            await append_event(
                conn,
                number,
                DeclarationStatus.REGISTERED,
                now,
                f"registered as {registration}: {text_}",
            )
        return await self._required(number)

    async def refuse_registration(
        self, number: str, reasons: Sequence[Reason], *, late: bool
    ) -> Declaration:
        """SUBMITTED → REGISTRATION_REFUSED «тіркеуден бас тартылды» with the reasons."""
        now = self.clock()
        async with self._changing(number, DeclarationStatus.SUBMITTED) as conn:
            await update_declaration(
                conn,
                number,
                status=DeclarationStatus.REGISTRATION_REFUSED,
                decided_at=now,
                registration_late=late,
                reasons=reasons_json(reasons),
            )
            await append_event(
                conn,
                number,
                DeclarationStatus.REGISTRATION_REFUSED,
                now,
                "registration refused: " + "; ".join(r.text for r in reasons),
            )
        return await self._required(number)

    async def start_control(
        self, number: str, forms: Sequence[ControlForm], release_deadline: datetime
    ) -> Declaration:
        """REGISTERED → RISK_CHECK «ТБЖ тексеруі» with the forms the risk system assigned."""
        now = self.clock()
        async with self._changing(number, DeclarationStatus.REGISTERED) as conn:
            await update_declaration(
                conn,
                number,
                status=DeclarationStatus.RISK_CHECK,
                control_forms=",".join(f.value for f in forms),
                release_deadline=release_deadline,
            )
            await append_event(
                conn,
                number,
                DeclarationStatus.RISK_CHECK,
                now,
                "forms of customs control: " + ", ".join(f.value for f in forms),
            )
        return await self._required(number)

    async def record_control_result(self, number: str, result: ControlResult) -> Declaration:
        """The officer's result of an examination / paper comparison; the first one counts."""
        column = declarations.c.control_result
        async with self._changing(number, DeclarationStatus.RISK_CHECK) as conn:
            row = (
                await conn.execute(select(column).where(declarations.c.number == number))
            ).scalar_one()
            if row is None:
                await update_declaration(
                    conn, number, control_result=json.dumps(result_json(result))
                )
        return await self._required(number)

    async def release(self, number: str, text_: str) -> Declaration:
        """RISK_CHECK → RELEASE_PERMITTED «шығаруға рұқсат берілді», writing the quantities off
        the customs records in the same transaction; a record that cannot bear the write-off
        (no longer VALID, not enough left) turns the release into a refusal instead.

        Exactly once: the status guard makes a second call a no-op (StaleDeclaration is caught
        by the caller, who reads the released declaration).
        """
        now = self.clock()
        async with self._changing(number, DeclarationStatus.RISK_CHECK) as conn:
            declaration = declaration_of(
                (await conn.execute(select(declarations).where(declarations.c.number == number)))
                .one()
                ._mapping
            )
            problems = await write_off_all(conn, declaration, now)
            if problems:
                await update_declaration(
                    conn,
                    number,
                    status=DeclarationStatus.RELEASE_REFUSED,
                    decided_at=now,
                    release_late=released_late(declaration, now),
                    reasons=reasons_json(problems),
                )
                await append_event(
                    conn,
                    number,
                    DeclarationStatus.RELEASE_REFUSED,
                    now,
                    "release refused: " + "; ".join(r.text for r in problems),
                )
            else:
                await update_declaration(
                    conn,
                    number,
                    status=DeclarationStatus.RELEASE_PERMITTED,
                    decided_at=now,
                    release_late=released_late(declaration, now),
                )
                await append_event(conn, number, DeclarationStatus.RELEASE_PERMITTED, now, text_)
        return await self._required(number)

    async def refuse_release(self, number: str, reasons: Sequence[Reason]) -> Declaration:
        """RISK_CHECK → RELEASE_REFUSED «тауарларды шығарудан бас тарту», nothing written off."""
        now = self.clock()
        async with self._changing(number, DeclarationStatus.RISK_CHECK) as conn:
            current = await fetch_declaration(conn, number)
            assert current is not None
            await update_declaration(
                conn,
                number,
                status=DeclarationStatus.RELEASE_REFUSED,
                decided_at=now,
                release_late=released_late(current, now),
                reasons=reasons_json(reasons),
            )
            await append_event(
                conn,
                number,
                DeclarationStatus.RELEASE_REFUSED,
                now,
                "release refused: " + "; ".join(r.text for r in reasons),
            )
        return await self._required(number)

    async def mark_paid(self, number: str, amount: Decimal) -> None:
        """KGD debited the customs payments (recorded after its answer; a repeat is harmless:
        KGD takes a declaration's payments once)."""
        await self._ensure_schema()
        async with write_transaction(self._engine) as conn:
            await update_declaration(conn, number, customs_paid=decimal_text(amount))

    async def mark_release_late(self, number: str) -> None:
        await self._ensure_schema()
        async with write_transaction(self._engine) as conn:
            await update_declaration(conn, number, release_late=True)

    # --- deliveries -------------------------------------------------------------------------

    async def set_notice(self, number: str, seq: int, notice: str) -> None:
        """Keep the signed message once: a resend carries the very same bytes."""
        await self._ensure_schema()
        async with write_transaction(self._engine) as conn:
            await conn.execute(
                events.update()
                .where(events.c.number == number, events.c.seq == seq, events.c.notice.is_(None))
                .values(notice=notice)
            )

    async def mark_sent(self, number: str, seq: int, flag: str) -> None:
        """Set ``flag`` (sent_portal, sent_monitoring) after the gateway acknowledged it."""
        await self._ensure_schema()
        async with write_transaction(self._engine) as conn:
            await conn.execute(
                events.update()
                .where(events.c.number == number, events.c.seq == seq)
                .values(**{flag: True})
            )

    async def mark_reported(self, declaration_number: str, record_number: str) -> None:
        await self._ensure_schema()
        async with write_transaction(self._engine) as conn:
            await conn.execute(
                write_offs.update()
                .where(
                    write_offs.c.declaration_number == declaration_number,
                    write_offs.c.record_number == record_number,
                )
                .values(reported_elicense=True)
            )

    # --- reading ----------------------------------------------------------------------------

    async def get(self, number: str) -> Declaration | None:
        await self._ensure_schema()
        async with self._engine.connect() as conn:
            return await fetch_declaration(conn, number)

    async def all(self) -> list[Declaration]:
        await self._ensure_schema()
        query = select(declarations).order_by(declarations.c.submitted_at, declarations.c.number)
        async with self._engine.connect() as conn:
            return [declaration_of(r._mapping) for r in await conn.execute(query)]

    async def open(self) -> list[Declaration]:
        final = [s.value for s in DeclarationStatus if s.final]
        query = (
            select(declarations)
            .where(declarations.c.status.not_in(final))
            .order_by(declarations.c.submitted_at, declarations.c.number)
        )
        await self._ensure_schema()
        async with self._engine.connect() as conn:
            return [declaration_of(r._mapping) for r in await conn.execute(query)]

    async def reserved(self, ahead_of: Declaration | None = None) -> dict[str, Decimal]:
        """Quantity per document held by the open declarations (filed before ``ahead_of``)."""
        return reserved_quantities(await self.open(), ahead_of)

    async def events_of(self, number: str | None = None) -> list[Event]:
        await self._ensure_schema()
        query = select(events).order_by(events.c.number, events.c.seq)
        if number is not None:
            query = query.where(events.c.number == number)
        async with self._engine.connect() as conn:
            return [event_of(r._mapping) for r in await conn.execute(query)]

    async def unsent_events(self) -> list[Event]:
        return [e for e in await self.events_of() if not (e.sent_portal and e.sent_monitoring)]

    async def write_offs(self, record_number: str | None = None) -> list[WriteOff]:
        await self._ensure_schema()
        query = select(write_offs).order_by(write_offs.c.written_off_at)
        if record_number is not None:
            query = query.where(write_offs.c.record_number == record_number)
        async with self._engine.connect() as conn:
            return [write_off_of(r._mapping) for r in await conn.execute(query)]

    async def close(self) -> None:
        await self._engine.dispose()

    # --- internals --------------------------------------------------------------------------

    @asynccontextmanager
    async def _changing(
        self, number: str, expected: DeclarationStatus
    ) -> AsyncIterator[AsyncConnection]:
        """The declaration's row, locked, in the status ``expected`` — or StaleDeclaration
        (another worker, or a redelivered action, got there first; nothing was written)."""
        await self._ensure_schema()
        async with write_transaction(self._engine) as conn:
            query = select(declarations.c.status).where(declarations.c.number == number)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            status = (await conn.execute(query)).scalar_one_or_none()
            if status != expected.value:
                raise StaleDeclaration(f"{number} is {status}, not {expected.value}")
            yield conn

    async def _required(self, number: str) -> Declaration:
        found = await self.get(number)
        if found is None:
            raise StaleDeclaration(f"no declaration {number}")
        return found

    async def _ensure_schema(self) -> None:
        if self._ready:
            return
        async with self._ready_lock:
            if not self._ready:
                await create_records_table(self._engine)  # write-offs update the records
                await _create_tables(self._engine)
                self._ready = True


async def _create_tables(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            # Simulators started together would otherwise race on CREATE TABLE.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK_KEY})
        await conn.run_sync(metadata.create_all, checkfirst=True)
