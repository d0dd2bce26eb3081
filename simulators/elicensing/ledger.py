"""What E-licensing's decisions consumed: fee payments and quota, inside the deciding transaction.

A licence and its fee and quota are one fact [seed 002, LR p.3, p.7(5)]: ``Ledger`` reads what
earlier decisions consumed and takes what this one consumes, in the transaction of
``ApplicationStore.decide`` (``store``). A take that another decision beat raises ``Taken``, and
the decision is judged again. A ``Verdict`` is what a judge returns: the document number's
counter, the column values, and the payment and quota draw an issued licence takes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from simulators.elicensing.register_tables import dialect_insert, fee_uses, quota_balances


class Taken(Exception):
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
        insert = dialect_insert(self._conn)
        statement = (
            insert(fee_uses)
            .values(payment_id=payment_id, application=application)
            .on_conflict_do_nothing()
            .returning(fee_uses.c.payment_id)
        )
        if (await self._conn.execute(statement)).first() is None:
            raise Taken(f"payment {payment_id} is already used")

    async def draw_quota(self, draw: QuotaDraw) -> None:
        insert = dialect_insert(self._conn)
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
            raise Taken(f"quota {draw.key} has less than {draw.quantity} left")


Judge = Callable[[Ledger], Awaitable[Verdict]]


_MICRO = Decimal(1_000_000)


def _to_micro(quantity: Decimal) -> int:
    return int((quantity * _MICRO).to_integral_value())


def _from_micro(micro: int) -> Decimal:
    value = Decimal(micro) / _MICRO
    # normalize() alone writes 250000 as 2.5E+5; a whole quantity is shown whole.
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
