"""KEDEN's durable declarations: the declaration, its history, and the write-offs it made.

Accepted means durable: a filing is one row (unique by declarant and filing reference, so the same
filing again is the same declaration); every status change is one transaction that also appends
the event the declarant's cabinet receives. A release writes the quantities off the customs
records **in the same transaction** as the status change, with one write-off row per (declaration,
document) as primary key: a second release of the same declaration — a redelivered officer's
result, a worker restarted mid-step — finds the declaration released and changes nothing.

Tables live on their own ``MetaData`` beside ``sim_keden_records`` on the simulators' database.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.storage.engine import create_engine, write_transaction
from gateway.storage.types import UtcDateTime
from simulators.customs.declarations import (
    ControlForm,
    ControlResult,
    DeclarationItem,
    DeclarationStatus,
    ExportDeclaration,
    PaymentMethod,
    Reason,
    record_problem,
)
from simulators.customs.models import RecordStatus, customs_day
from simulators.customs.payload import decimal_text
from simulators.customs.store import _create_table as _create_records_table
from simulators.customs.store import _record, records

Clock = Callable[[], datetime]

metadata = MetaData()

declarations = Table(
    "sim_keden_declarations",
    metadata,
    Column("number", String, primary_key=True),
    Column("declarant_id", String, nullable=False),
    Column("filing_reference", String, nullable=False),
    Column("declaration", Text, nullable=False),  # JSON of the ExportDeclaration
    Column("status", String, nullable=False),
    Column("submitted_at", UtcDateTime, nullable=False),
    Column("registration_deadline", UtcDateTime, nullable=False),
    Column("registration_number", String, nullable=True, unique=True),
    Column("registered_at", UtcDateTime, nullable=True),
    Column("registration_late", Boolean, nullable=False, default=False),
    Column("control_forms", String, nullable=True),  # "DOCUMENTARY_CHECK,EXAMINATION"
    Column("release_deadline", UtcDateTime, nullable=True),
    Column("control_result", Text, nullable=True),  # JSON of the officer's ControlResult
    Column("decided_at", UtcDateTime, nullable=True),
    Column("release_late", Boolean, nullable=False, default=False),
    Column("reasons", Text, nullable=True),  # JSON list of Reason
    Column("customs_paid", String, nullable=True),  # KZT debited from the personal account
    UniqueConstraint("declarant_id", "filing_reference", name="uq_sim_keden_filing"),
)

events = Table(
    "sim_keden_declaration_events",
    metadata,
    Column("number", String, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("status", String, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("text", Text, nullable=False),
    Column("notice", Text, nullable=True),  # the signed authorised message, once built
    Column("sent_portal", Boolean, nullable=False, default=False),
    Column("sent_monitoring", Boolean, nullable=False, default=False),
)

write_offs = Table(
    "sim_keden_write_offs",
    metadata,
    Column("declaration_number", String, primary_key=True),
    Column("record_number", String, primary_key=True),
    Column("quantity", String, nullable=False),
    Column("unit", String, nullable=False),
    Column("written_off_at", UtcDateTime, nullable=False),
    Column("remaining_after", String, nullable=False),
    Column("reported_elicense", Boolean, nullable=False, default=False),
)

counters = Table(
    "sim_keden_counters",
    metadata,
    Column("name", String, primary_key=True),
    Column("value", Integer, nullable=False),
)

_SCHEMA_LOCK_KEY = 0x6B65_6465_6E64  # KEDEN declarations' own advisory lock
CUSTOMS_POST = "55201"  # [design] the customs post code in registration numbers (post/ddmmyy/seq)


@dataclass(frozen=True)
class Declaration:
    """One row of ``sim_keden_declarations`` with the declaration it holds."""

    number: str
    content: ExportDeclaration
    status: DeclarationStatus
    submitted_at: datetime
    registration_deadline: datetime
    registration_number: str | None = None
    registered_at: datetime | None = None
    registration_late: bool = False
    control_forms: tuple[ControlForm, ...] = ()
    release_deadline: datetime | None = None
    control_result: ControlResult | None = None
    decided_at: datetime | None = None
    release_late: bool = False
    reasons: tuple[Reason, ...] = ()
    customs_paid: Decimal | None = None

    @property
    def waits_for_officer(self) -> bool:
        return (
            self.status is DeclarationStatus.RISK_CHECK
            and any(f.needs_officer for f in self.control_forms)
            and self.control_result is None
        )

    def permit_quantities(self) -> dict[str, Decimal]:
        return self.content.permit_quantities()


@dataclass(frozen=True)
class Event:
    number: str
    seq: int
    status: DeclarationStatus
    at: datetime
    text: str
    notice: str | None
    sent_portal: bool
    sent_monitoring: bool


@dataclass(frozen=True)
class WriteOff:
    declaration_number: str
    record_number: str
    quantity: Decimal
    unit: str
    written_off_at: datetime
    remaining_after: Decimal
    reported_elicense: bool


class StaleDeclaration(Exception):
    """The declaration is no longer in the status the change expects (someone else moved it)."""


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
        """Store a formed declaration as SUBMITTED «берілді»; (declaration, created).

        The same declarant's same filing reference is the same declaration: answered again,
        never filed twice.
        """
        await self._ensure_schema()
        async with write_transaction(self._engine) as conn:
            existing = await self._by_filing(conn, content.declarant_id, content.filing_reference)
            if existing is not None:
                return existing, False
            year = customs_day(submitted_at).year
            number = f"ED-{year}-{await _next(conn, f'declaration-{year}'):07d}"
            await conn.execute(
                declarations.insert().values(
                    number=number,
                    declarant_id=content.declarant_id,
                    filing_reference=content.filing_reference,
                    declaration=json.dumps(_declaration_json(content)),
                    status=DeclarationStatus.SUBMITTED.value,
                    submitted_at=submitted_at,
                    registration_deadline=deadline,
                    registration_late=False,
                    release_late=False,
                )
            )
            await _event(
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
            sequence = await _next(conn, f"registration-{day.isoformat()}")
            registration = f"{CUSTOMS_POST}/{day:%d%m%y}/{sequence:07d}"
            await self._set(
                conn,
                number,
                status=DeclarationStatus.REGISTERED,
                registered_at=now,
                registration_number=registration,
                registration_late=late,
            )
            await _event(
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
            await self._set(
                conn,
                number,
                status=DeclarationStatus.REGISTRATION_REFUSED,
                decided_at=now,
                registration_late=late,
                reasons=_reasons_json(reasons),
            )
            await _event(
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
            await self._set(
                conn,
                number,
                status=DeclarationStatus.RISK_CHECK,
                control_forms=",".join(f.value for f in forms),
                release_deadline=release_deadline,
            )
            await _event(
                conn,
                number,
                DeclarationStatus.RISK_CHECK,
                now,
                "forms of customs control: " + ", ".join(f.value for f in forms),
            )
        return await self._required(number)

    async def record_control_result(self, number: str, result: ControlResult) -> Declaration:
        """The officer's result of an examination / paper comparison; the first one counts."""
        async with self._changing(number, DeclarationStatus.RISK_CHECK) as conn:
            row = (
                await conn.execute(
                    select(declarations.c.control_result).where(declarations.c.number == number)
                )
            ).scalar_one()
            if row is None:
                await self._set(conn, number, control_result=json.dumps(_result_json(result)))
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
            declaration = _declaration(
                (await conn.execute(select(declarations).where(declarations.c.number == number)))
                .one()
                ._mapping
            )
            problems = await _write_off_all(conn, declaration, now)
            if problems:
                await self._set(
                    conn,
                    number,
                    status=DeclarationStatus.RELEASE_REFUSED,
                    decided_at=now,
                    release_late=_late(declaration, now),
                    reasons=_reasons_json(problems),
                )
                await _event(
                    conn,
                    number,
                    DeclarationStatus.RELEASE_REFUSED,
                    now,
                    "release refused: " + "; ".join(r.text for r in problems),
                )
            else:
                await self._set(
                    conn,
                    number,
                    status=DeclarationStatus.RELEASE_PERMITTED,
                    decided_at=now,
                    release_late=_late(declaration, now),
                )
                await _event(conn, number, DeclarationStatus.RELEASE_PERMITTED, now, text_)
        return await self._required(number)

    async def refuse_release(self, number: str, reasons: Sequence[Reason]) -> Declaration:
        """RISK_CHECK → RELEASE_REFUSED «тауарларды шығарудан бас тарту», nothing written off."""
        now = self.clock()
        async with self._changing(number, DeclarationStatus.RISK_CHECK) as conn:
            current = await self._one(conn, number)
            assert current is not None
            await self._set(
                conn,
                number,
                status=DeclarationStatus.RELEASE_REFUSED,
                decided_at=now,
                release_late=_late(current, now),
                reasons=_reasons_json(reasons),
            )
            await _event(
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
            await self._set(conn, number, customs_paid=decimal_text(amount))

    async def mark_release_late(self, number: str) -> None:
        await self._ensure_schema()
        async with write_transaction(self._engine) as conn:
            await self._set(conn, number, release_late=True)

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
            return await self._one(conn, number)

    async def all(self) -> list[Declaration]:
        await self._ensure_schema()
        query = select(declarations).order_by(declarations.c.submitted_at, declarations.c.number)
        async with self._engine.connect() as conn:
            return [_declaration(r._mapping) for r in await conn.execute(query)]

    async def open(self) -> list[Declaration]:
        final = [s.value for s in DeclarationStatus if s.final]
        query = (
            select(declarations)
            .where(declarations.c.status.not_in(final))
            .order_by(declarations.c.submitted_at, declarations.c.number)
        )
        await self._ensure_schema()
        async with self._engine.connect() as conn:
            return [_declaration(r._mapping) for r in await conn.execute(query)]

    async def reserved(self, ahead_of: Declaration | None = None) -> dict[str, Decimal]:
        """Quantity per document held by declarations submitted or in control, not yet released:
        a later declaration cannot count on what an earlier one will write off. With
        ``ahead_of``, only the declarations filed before it count (first come, first served)."""
        held: dict[str, Decimal] = defaultdict(Decimal)
        for declaration in await self.open():
            if ahead_of is not None and _filed_order(declaration) >= _filed_order(ahead_of):
                continue
            for number, quantity in declaration.permit_quantities().items():
                held[number] += quantity
        return dict(held)

    async def events_of(self, number: str | None = None) -> list[Event]:
        await self._ensure_schema()
        query = select(events).order_by(events.c.number, events.c.seq)
        if number is not None:
            query = query.where(events.c.number == number)
        async with self._engine.connect() as conn:
            return [_event_row(r._mapping) for r in await conn.execute(query)]

    async def unsent_events(self) -> list[Event]:
        return [e for e in await self.events_of() if not (e.sent_portal and e.sent_monitoring)]

    async def write_offs(self, record_number: str | None = None) -> list[WriteOff]:
        await self._ensure_schema()
        query = select(write_offs).order_by(write_offs.c.written_off_at)
        if record_number is not None:
            query = query.where(write_offs.c.record_number == record_number)
        async with self._engine.connect() as conn:
            return [_write_off(r._mapping) for r in await conn.execute(query)]

    async def close(self) -> None:
        await self._engine.dispose()

    # --- internals --------------------------------------------------------------------------

    def _changing(self, number: str, expected: DeclarationStatus) -> _Changing:
        return _Changing(self, number, expected)

    async def _set(self, conn: AsyncConnection, number: str, **values: Any) -> None:
        if isinstance(values.get("status"), DeclarationStatus):
            values["status"] = values["status"].value
        await conn.execute(
            declarations.update().where(declarations.c.number == number).values(**values)
        )

    async def _one(self, conn: AsyncConnection, number: str) -> Declaration | None:
        row = (
            await conn.execute(select(declarations).where(declarations.c.number == number))
        ).first()
        return None if row is None else _declaration(row._mapping)

    async def _by_filing(
        self, conn: AsyncConnection, declarant: str, reference: str
    ) -> Declaration | None:
        row = (
            await conn.execute(
                select(declarations).where(
                    declarations.c.declarant_id == declarant,
                    declarations.c.filing_reference == reference,
                )
            )
        ).first()
        return None if row is None else _declaration(row._mapping)

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
                await _create_records_table(self._engine)  # write-offs update the records
                async with write_transaction(self._engine) as conn:
                    if conn.dialect.name == "postgresql":
                        await conn.execute(
                            text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK_KEY}
                        )
                    await conn.run_sync(metadata.create_all, checkfirst=True)
                self._ready = True


class _Changing:
    """``async with``: the declaration's row, locked, in the status ``expected`` — or
    StaleDeclaration (another worker, or a redelivered action, got there first)."""

    def __init__(self, store: DeclarationStore, number: str, expected: DeclarationStatus) -> None:
        self.store, self.number, self.expected = store, number, expected
        self._context: Any = None

    async def __aenter__(self) -> AsyncConnection:
        await self.store._ensure_schema()
        self._context = write_transaction(self.store._engine)
        conn = await self._context.__aenter__()
        query = select(declarations.c.status).where(declarations.c.number == self.number)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        status = (await conn.execute(query)).scalar_one_or_none()
        if status != self.expected.value:
            await self._context.__aexit__(None, None, None)
            raise StaleDeclaration(f"{self.number} is {status}, not {self.expected.value}")
        return conn

    async def __aexit__(self, *exc: Any) -> None:
        await self._context.__aexit__(*exc)


# --- write-off ---------------------------------------------------------------------------------


async def _write_off_all(
    conn: AsyncConnection, declaration: Declaration, now: datetime
) -> list[Reason]:
    """Write every cited document's quantity off, or nothing and the reasons why not."""
    plan = []
    for number, quantity in sorted(declaration.permit_quantities().items()):
        query = select(records).where(records.c.number == number)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        found = (await conn.execute(query)).first()
        row = None if found is None else found._mapping
        reason = _cannot_write_off(number, quantity, row, now)
        if reason is not None:
            return [reason]
        plan.append((number, quantity, row))
    for number, quantity, row in plan:
        left = Decimal(row["remaining_quantity"]) - quantity
        status = RecordStatus.EXHAUSTED if left == 0 else RecordStatus.VALID
        await conn.execute(
            write_offs.insert().values(
                declaration_number=declaration.number,
                record_number=number,
                quantity=decimal_text(quantity),
                unit=row["unit"],
                written_off_at=now,
                remaining_after=decimal_text(left),
                reported_elicense=False,
            )
        )
        await conn.execute(
            records.update()
            .where(records.c.number == number)
            .values(
                remaining_quantity=decimal_text(left),
                status=status.value,
                status_changed_at=now,
                status_reason=f"{decimal_text(quantity)} {row['unit']} written off by "
                f"declaration {declaration.number}",
            )
        )
    return []


def _cannot_write_off(number: str, quantity: Decimal, row: Any, now: datetime) -> Reason | None:
    return record_problem(number, quantity, None if row is None else _record(row), now)


def _filed_order(declaration: Declaration) -> tuple[datetime, int]:
    # Numbers are ED-<year>-<sequence>: the sequence orders filings of one business moment.
    return declaration.submitted_at, int(declaration.number.rsplit("-", 1)[1])


def _late(declaration: Declaration, now: datetime) -> bool:
    deadline = declaration.release_deadline
    return declaration.release_late or (deadline is not None and now > deadline)


# --- rows ⇄ values -----------------------------------------------------------------------------


async def _next(conn: AsyncConnection, name: str) -> int:
    current = (
        await conn.execute(select(counters.c.value).where(counters.c.name == name))
    ).scalar_one_or_none()
    if current is None:
        await conn.execute(counters.insert().values(name=name, value=1))
        return 1
    await conn.execute(counters.update().where(counters.c.name == name).values(value=current + 1))
    return current + 1


async def _event(
    conn: AsyncConnection, number: str, status: DeclarationStatus, at: datetime, text_: str
) -> None:
    seq = (
        await conn.execute(
            select(func.coalesce(func.max(events.c.seq), 0)).where(events.c.number == number)
        )
    ).scalar_one() + 1
    await conn.execute(
        events.insert().values(
            number=number,
            seq=seq,
            status=status.value,
            at=at,
            text=text_,
            sent_portal=False,
            sent_monitoring=False,
        )
    )


def _declaration_json(d: ExportDeclaration) -> dict[str, Any]:
    return {
        "filing_reference": d.filing_reference,
        "procedure": d.procedure,
        "declarant_id": d.declarant_id,
        "declarant_name": d.declarant_name,
        "payment_method": d.payment_method.value,
        "representative": d.representative,
        "carrier": d.carrier,
        "duty_benefit_claimed": d.duty_benefit_claimed,
        "tariff_preference_claimed": d.tariff_preference_claimed,
        "items": [
            {
                **{k: v for k, v in asdict(i).items() if k not in ("quantity", "value")},
                "quantity": decimal_text(i.quantity),
                "value": decimal_text(i.value),
                "permit_numbers": list(i.permit_numbers),
            }
            for i in d.items
        ],
    }


def _declaration_from_json(data: Mapping[str, Any]) -> ExportDeclaration:
    items = tuple(
        DeclarationItem(
            **{k: v for k, v in i.items() if k not in ("quantity", "value", "permit_numbers")},
            quantity=Decimal(i["quantity"]),
            value=Decimal(i["value"]),
            permit_numbers=tuple(i["permit_numbers"]),
        )
        for i in data["items"]
    )
    return ExportDeclaration(
        **{k: v for k, v in data.items() if k not in ("items", "payment_method")},
        payment_method=PaymentMethod(data["payment_method"]),
        items=items,
    )


def _reasons_json(reasons: Sequence[Reason]) -> str:
    return json.dumps([asdict(r) for r in reasons], ensure_ascii=False)


def _result_json(result: ControlResult) -> dict[str, Any]:
    return {
        "officer": result.officer,
        "violations": result.violations,
        "finding": result.finding,
        "recorded_at": result.recorded_at.isoformat(),
    }


def _declaration(row: Any) -> Declaration:
    result = json.loads(row["control_result"]) if row["control_result"] else None
    forms = tuple(ControlForm(f) for f in (row["control_forms"] or "").split(",") if f)
    return Declaration(
        number=row["number"],
        content=_declaration_from_json(json.loads(row["declaration"])),
        status=DeclarationStatus(row["status"]),
        submitted_at=row["submitted_at"],
        registration_deadline=row["registration_deadline"],
        registration_number=row["registration_number"],
        registered_at=row["registered_at"],
        registration_late=bool(row["registration_late"]),
        control_forms=forms,
        release_deadline=row["release_deadline"],
        control_result=None
        if result is None
        else ControlResult(
            officer=result["officer"],
            violations=result["violations"],
            finding=result["finding"],
            recorded_at=datetime.fromisoformat(result["recorded_at"]),
            forms=forms,
        ),
        decided_at=row["decided_at"],
        release_late=bool(row["release_late"]),
        reasons=tuple(Reason(**r) for r in json.loads(row["reasons"] or "[]")),
        customs_paid=None if row["customs_paid"] is None else Decimal(row["customs_paid"]),
    )


def _event_row(row: Any) -> Event:
    return Event(
        number=row["number"],
        seq=row["seq"],
        status=DeclarationStatus(row["status"]),
        at=row["at"],
        text=row["text"],
        notice=row["notice"],
        sent_portal=bool(row["sent_portal"]),
        sent_monitoring=bool(row["sent_monitoring"]),
    )


def _write_off(row: Any) -> WriteOff:
    return WriteOff(
        declaration_number=row["declaration_number"],
        record_number=row["record_number"],
        quantity=Decimal(row["quantity"]),
        unit=row["unit"],
        written_off_at=row["written_off_at"],
        remaining_after=Decimal(row["remaining_after"]),
        reported_elicense=bool(row["reported_elicense"]),
    )


def today_of(moment: datetime) -> date:
    return customs_day(moment)
