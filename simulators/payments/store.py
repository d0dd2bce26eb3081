"""Durable payments: the ``sim_pep_payments`` table in the simulators' database.

PEP is a system of its own, so its table lives on its own ``MetaData`` (not the gateway's) and
is created — and seeded with ``fixtures/payments.json`` — by PEP itself on first use. Amounts
are kept in tiyn (integer) so they round-trip exactly on SQLite and PostgreSQL alike. The
database, not a read-then-write, decides races: one payment per (payer, reference) is a unique
constraint, and a confirmation is a conditional UPDATE.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors.db import InsertOnce, UtcDateTime, create_engine, create_tables, write_transaction
from simulators.kit.fixtures import load_json
from simulators.kit.tables import OnFirstUse
from simulators.payments.models import Payment, PaymentStatus

FIXTURES = Path(__file__).parent / "fixtures" / "payments.json"
_PAYMENTS = TypeAdapter(list[Payment])

metadata = MetaData()

payments = Table(
    "sim_pep_payments",
    metadata,
    Column("payment_id", String, primary_key=True),
    Column("payer_id", String, nullable=False),
    Column("purpose_code", String, nullable=False),
    Column("amount_tiyn", BigInteger, nullable=False),
    Column("currency", String, nullable=False),
    Column("reference", String, nullable=False),
    Column("status", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("confirmed_at", UtcDateTime, nullable=True),
    # A retried create must find the first payment, never make a second one.
    UniqueConstraint("payer_id", "reference", name="uq_sim_pep_payments_payer_reference"),
    Index("ix_sim_pep_payments_payer_purpose", "payer_id", "purpose_code"),
)

# Any constant distinct from other simulators' locks: simulators started together on one
# PostgreSQL would otherwise race on CREATE TABLE.


@cache
def fixture_payments() -> tuple[Payment, ...]:
    """The shipped seed payments."""
    return tuple(load_json(f"{__package__}.fixtures", FIXTURES.name, _PAYMENTS))


class PaymentStore:
    """PEP's payments on one database (SQLite file or PostgreSQL by URL)."""

    def __init__(self, database_url: str, *, seed: Iterable[Payment] | None = None) -> None:
        self._engine: AsyncEngine = create_engine(database_url)
        self._seed = tuple(fixture_payments() if seed is None else seed)
        self._ensure_schema = OnFirstUse(self._create_and_seed)

    async def add(self, payment: Payment) -> tuple[Payment, bool]:
        """Record ``payment``; if its payer already has one with its reference, that one.

        True with the payment when it was recorded now, False with the earlier payment.
        """
        await self._ensure_schema()
        async with write_transaction(self._engine) as conn:
            if await _INSERT_NEW.insert_in(conn, _row(payment)):
                return payment, True
            query = select(payments).where(
                payments.c.payer_id == payment.payer_id,
                payments.c.reference == payment.reference,
            )
            existing = (await conn.execute(query)).first()
        if existing is None:  # only a payment_id collision gets here
            raise RuntimeError(f"payment id {payment.payment_id} is already taken")
        return _payment(existing._mapping), False

    async def confirm(self, payment_id: str, at: datetime) -> tuple[Payment | None, bool]:
        """Mark a CREATED payment CONFIRMED at ``at``; True when this call confirmed it.

        An already confirmed payment comes back unchanged with False (confirming twice is
        harmless); an unknown id gives None.
        """
        await self._ensure_schema()
        statement = (
            update(payments)
            .where(
                payments.c.payment_id == payment_id,
                payments.c.status == PaymentStatus.CREATED.value,
            )
            .values(status=PaymentStatus.CONFIRMED.value, confirmed_at=at)
            .returning(*payments.c)
        )
        async with write_transaction(self._engine) as conn:
            changed = (await conn.execute(statement)).first()
            if changed is not None:
                return _payment(changed._mapping), True
            query = select(payments).where(payments.c.payment_id == payment_id)
            current = (await conn.execute(query)).first()
        return (None if current is None else _payment(current._mapping)), False

    async def get(self, payment_id: str) -> Payment | None:
        rows = await self._select(payments.c.payment_id == payment_id)
        return rows[0] if rows else None

    async def by_payer(self, payer_id: str, purpose_code: str) -> list[Payment]:
        """The payer's payments for one purpose, oldest first."""
        return await self._select(
            payments.c.payer_id == payer_id, payments.c.purpose_code == purpose_code
        )

    async def close(self) -> None:
        await self._engine.dispose()

    async def _select(self, *conditions: Any) -> list[Payment]:
        await self._ensure_schema()
        query = (
            select(payments)
            .where(*conditions)
            .order_by(payments.c.created_at, payments.c.payment_id)
        )
        async with self._engine.connect() as conn:
            return [_payment(row._mapping) for row in await conn.execute(query)]

    async def _create_and_seed(self) -> None:
        async def seed(conn: AsyncConnection) -> None:
            # Insert-if-absent: a seed payment confirmed or changed since keeps its state.
            for payment in self._seed:
                await _INSERT_NEW.insert_in(conn, _row(payment))

        await create_tables(self._engine, metadata, then=seed)


# A payment stored once per key (the database decides between concurrent inserts).
_INSERT_NEW = InsertOnce(payments)


def _row(payment: Payment) -> dict[str, Any]:
    row = payment.model_dump(exclude={"amount"})
    row["amount_tiyn"] = payment.amount_tiyn
    row["status"] = payment.status.value
    return row


def _payment(row: Mapping[str, Any]) -> Payment:
    values = {name: value for name, value in row.items() if name != "amount_tiyn"}
    values["amount"] = Decimal(row["amount_tiyn"]).scaleb(-2)  # tiyn → tenge, 2 places
    return Payment(**values)
