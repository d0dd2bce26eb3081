"""KEDEN's customs records: one durable row per licence or permit, on the simulators' database.

Like the participant inbox, the table lives on its own ``MetaData`` and is created on first use
(SQLite file or PostgreSQL by URL). The document number is the primary key, so of two concurrent
registrations of one number the database, not a read-then-write, decides which is first.
Decimals are stored as their exact text: SQLite has no exact decimal type, and a quantity that
came back rounded would make an identical re-registration look like a conflicting one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Date, Index, MetaData, String, Table, Text, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors.db import InsertOnce, UtcDateTime, create_engine, write_transaction
from simulators.customs.models import (
    Contract,
    Counterparty,
    CounterpartyRole,
    CustomsRecord,
    DocumentKind,
    GoodsItem,
    RecordContent,
    RecordStatus,
    TradeCountryRole,
    TradeType,
)
from simulators.customs.payload import decimal_text

Clock = Callable[[], datetime]

metadata = MetaData()

records = Table(
    "sim_keden_records",
    metadata,
    Column("number", String, primary_key=True),
    Column("kind", String, nullable=False),
    Column("trade_type", String, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("holder_id", String, nullable=False),
    Column("holder_name", String, nullable=False),
    Column("trade_country", String, nullable=False),
    Column("trade_country_role", String, nullable=False),
    Column("quantity", String, nullable=False),
    Column("unit", String, nullable=False),
    Column("goods", Text, nullable=False),  # JSON list of {"code", "description"}
    Column("issuer", String, nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("contract_number", String, nullable=True),
    Column("contract_date", Date, nullable=True),
    Column("contract_other_document", Text, nullable=True),
    Column("counterparty_name", String, nullable=True),
    Column("counterparty_role", String, nullable=True),
    Column("counterparty_country", String, nullable=True),
    Column("currency", String, nullable=True),
    Column("value", String, nullable=True),
    Column("statistical_value", String, nullable=True),
    Column("origin_country", String, nullable=True),
    Column("additional_info", Text, nullable=True),
    Column("basis", Text, nullable=True),
    Column("document", Text, nullable=True),  # the signed document as the issuer sent it
    Column("status", String, nullable=False),
    Column("remaining_quantity", String, nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("source_message_id", String, nullable=False),
    Column("status_changed_at", UtcDateTime, nullable=True),
    Column("status_reason", Text, nullable=True),
    Index("ix_sim_keden_records_holder", "holder_id", "registered_at"),
)

# Any constant of its own: only KEDEN processes take it, to create the table once.
_SCHEMA_LOCK_KEY = 0x6B65_6465_6E72


class Registered(StrEnum):
    """What a registration did."""

    CREATED = "CREATED"
    UNCHANGED = "UNCHANGED"  # the same document with the same content was already registered


class RecordConflict(Exception):
    """The number is registered already, with different content."""

    def __init__(self, number: str, fields: list[str]) -> None:
        super().__init__(f"{number} is registered with different {', '.join(fields)}")
        self.number = number
        self.fields = fields


class RecordRefused(Exception):
    """A status change the record's state does not allow (unknown, not VALID, too much)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class RecordStore:
    """The customs records on one database; ``clock`` dates registrations and status changes."""

    def __init__(self, database_url: str, clock: Clock = utc_now) -> None:
        self.clock = clock
        self._engine: AsyncEngine = create_engine(database_url)
        self._ready = False
        self._ready_lock = asyncio.Lock()

    async def register(
        self, content: RecordContent, *, message_id: str, document: str | None = None
    ) -> Registered:
        """Register ``content`` once; the same again is UNCHANGED, different is RecordConflict."""
        await self._ensure_schema()
        row = _content_row(content) | {
            "document": document,
            "status": RecordStatus.VALID.value,
            "remaining_quantity": decimal_text(content.quantity),
            "registered_at": self.clock(),
            "source_message_id": message_id,
        }
        async with write_transaction(self._engine) as conn:
            if await _INSERT_NEW.insert_in(conn, row):
                return Registered.CREATED
            existing = await self._one(conn, content.number)
        differing = _differing_fields(existing.content, content)
        if differing:
            raise RecordConflict(content.number, differing)
        return Registered.UNCHANGED

    async def by_number(self, number: str) -> CustomsRecord | None:
        await self._ensure_schema()
        async with self._engine.connect() as conn:
            return await self._one(conn, number)

    async def by_holder(self, holder_id: str) -> list[CustomsRecord]:
        """The holder's records, oldest registration first."""
        return await self._select(records.c.holder_id == holder_id)

    async def all(self) -> list[CustomsRecord]:
        return await self._select(None)

    async def document(self, number: str) -> str | None:
        """The signed document the registration embedded, as it was sent."""
        await self._ensure_schema()
        query = select(records.c.document).where(records.c.number == number)
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def terminate(self, number: str, reason: str) -> CustomsRecord:
        """Mark a VALID (or expired) record TERMINATED, e.g. on the issuer's termination."""
        async with self._changing(number) as (conn, record):
            if record.status is not RecordStatus.VALID:
                raise RecordRefused(f"{number} is {record.status.value}, not VALID")
            await self._update(conn, number, status=RecordStatus.TERMINATED, reason=reason)
        return await self._required(number)

    async def write_off(self, number: str, quantity: Decimal, reason: str) -> CustomsRecord:
        """Take ``quantity`` off what is left; at zero the record is EXHAUSTED."""
        if quantity <= 0:
            raise RecordRefused("a write-off must be a positive quantity")
        async with self._changing(number) as (conn, record):
            if record.status_on(self.clock()) is not RecordStatus.VALID:
                raise RecordRefused(f"{number} is {record.status_on(self.clock()).value}")
            left = record.remaining_quantity - quantity
            if left < 0:
                raise RecordRefused(f"{number} has {record.remaining_quantity} left")
            status = RecordStatus.EXHAUSTED if left == 0 else RecordStatus.VALID
            await self._update(conn, number, status=status, reason=reason, remaining=left)
        return await self._required(number)

    async def close(self) -> None:
        await self._engine.dispose()

    # --- internals -------------------------------------------------------------------------

    @asynccontextmanager
    async def _changing(self, number: str) -> AsyncIterator[tuple[AsyncConnection, CustomsRecord]]:
        """The record, read and changed in one write transaction (the row locked)."""
        await self._ensure_schema()
        async with write_transaction(self._engine) as conn:
            query = select(records).where(records.c.number == number)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()  # SQLite's BEGIN IMMEDIATE already serialises
            row = (await conn.execute(query)).first()
            if row is None:
                raise RecordRefused(f"no customs record {number}")
            yield conn, record_of(row._mapping)

    async def _update(
        self,
        conn: AsyncConnection,
        number: str,
        *,
        status: RecordStatus,
        reason: str,
        remaining: Decimal | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "status": status.value,
            "status_changed_at": self.clock(),
            "status_reason": reason,
        }
        if remaining is not None:
            values["remaining_quantity"] = decimal_text(remaining)
        await conn.execute(records.update().where(records.c.number == number).values(**values))

    async def _one(self, conn: AsyncConnection, number: str) -> CustomsRecord | None:
        row = (await conn.execute(select(records).where(records.c.number == number))).first()
        return None if row is None else record_of(row._mapping)

    async def _required(self, number: str) -> CustomsRecord:
        record = await self.by_number(number)
        if record is None:
            raise RecordRefused(f"no customs record {number}")
        return record

    async def _select(self, where: Any) -> list[CustomsRecord]:
        await self._ensure_schema()
        query = select(records).order_by(records.c.registered_at, records.c.number)
        if where is not None:
            query = query.where(where)
        async with self._engine.connect() as conn:
            return [record_of(row._mapping) for row in await conn.execute(query)]

    async def _ensure_schema(self) -> None:
        # On first use, not at start-up: an app driven in-process never runs its lifespan.
        if self._ready:
            return
        async with self._ready_lock:
            if not self._ready:
                await create_records_table(self._engine)
                self._ready = True


async def create_records_table(engine: AsyncEngine) -> None:
    # BEGIN IMMEDIATE on SQLite: create_all reads before it writes, and a deferred transaction
    # whose snapshot another writer has passed gets "database is locked" at once, without waiting.
    async with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            # Simulators started together would otherwise race on CREATE TABLE.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK_KEY})
        await conn.run_sync(metadata.create_all, checkfirst=True)


# A record stored once per key (the database decides between concurrent inserts).
_INSERT_NEW = InsertOnce(records)


def _differing_fields(stored: RecordContent, incoming: RecordContent) -> list[str]:
    return [
        name
        for name in RecordContent.__dataclass_fields__
        if getattr(stored, name) != getattr(incoming, name)
    ]


def _content_row(c: RecordContent) -> dict[str, Any]:
    return {
        "number": c.number,
        "kind": c.kind.value,
        "trade_type": c.trade_type.value,
        "valid_from": c.valid_from,
        "valid_to": c.valid_to,
        "holder_id": c.holder_id,
        "holder_name": c.holder_name,
        "trade_country": c.trade_country,
        "trade_country_role": c.trade_country_role.value,
        "quantity": decimal_text(c.quantity),
        "unit": c.unit,
        "goods": json.dumps([{"code": g.code, "description": g.description} for g in c.goods]),
        "issuer": c.issuer,
        "issue_date": c.issue_date,
        "contract_number": c.contract.number if c.contract else None,
        "contract_date": c.contract.date if c.contract else None,
        "contract_other_document": c.contract.other_document if c.contract else None,
        "counterparty_name": c.counterparty.name if c.counterparty else None,
        "counterparty_role": c.counterparty.role.value if c.counterparty else None,
        "counterparty_country": c.counterparty_country,
        "currency": c.currency,
        "value": _text_or_none(c.value),
        "statistical_value": _text_or_none(c.statistical_value),
        "origin_country": c.origin_country,
        "additional_info": c.additional_info,
        "basis": c.basis,
    }


def record_of(row: Any) -> CustomsRecord:
    return CustomsRecord(
        content=_content(row),
        status=RecordStatus(row["status"]),
        remaining_quantity=Decimal(row["remaining_quantity"]),
        registered_at=row["registered_at"],
        source_message_id=row["source_message_id"],
        status_changed_at=row["status_changed_at"],
        status_reason=row["status_reason"],
    )


def _content(row: Any) -> RecordContent:
    return RecordContent(
        number=row["number"],
        kind=DocumentKind(row["kind"]),
        trade_type=TradeType(row["trade_type"]),
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        holder_id=row["holder_id"],
        holder_name=row["holder_name"],
        trade_country=row["trade_country"],
        trade_country_role=TradeCountryRole(row["trade_country_role"]),
        quantity=Decimal(row["quantity"]),
        unit=row["unit"],
        goods=tuple(GoodsItem(**item) for item in json.loads(row["goods"])),
        issuer=row["issuer"],
        issue_date=row["issue_date"],
        contract=_contract(row),
        counterparty=_counterparty(row["counterparty_name"], row["counterparty_role"]),
        counterparty_country=row["counterparty_country"],
        currency=row["currency"],
        value=_decimal_or_none(row["value"]),
        statistical_value=_decimal_or_none(row["statistical_value"]),
        origin_country=row["origin_country"],
        additional_info=row["additional_info"],
        basis=row["basis"],
    )


def _contract(row: Any) -> Contract | None:
    parts = (row["contract_number"], row["contract_date"], row["contract_other_document"])
    return None if parts == (None, None, None) else Contract(*parts)


def _counterparty(name: str | None, role: str | None) -> Counterparty | None:
    return None if name is None or role is None else Counterparty(name, CounterpartyRole(role))


def _text_or_none(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


def _decimal_or_none(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
