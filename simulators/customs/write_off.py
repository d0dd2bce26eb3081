"""A release's write-off: every document the declaration cites loses the declared quantity in the
transaction that releases it, or none does and the reasons say why (a record no longer VALID, not
enough left). One write-off row per (declaration, document) is the primary key, so a second
release of the same declaration can never write off twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from simulators.customs.declaration_rows import Declaration, write_offs
from simulators.customs.declarations import Reason
from simulators.customs.formation import record_problem
from simulators.customs.models import RecordStatus
from simulators.customs.payload import decimal_text
from simulators.customs.store import record_of, records

__all__ = ["filed_order", "released_late", "reserved_quantities", "write_off_all"]


async def write_off_all(
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
    return record_problem(number, quantity, None if row is None else record_of(row), now)


def filed_order(declaration: Declaration) -> tuple[datetime, int]:
    # Numbers are ED-<year>-<sequence>: the sequence orders filings of one business moment.
    return declaration.submitted_at, int(declaration.number.rsplit("-", 1)[1])


def released_late(declaration: Declaration, now: datetime) -> bool:
    deadline = declaration.release_deadline
    return declaration.release_late or (deadline is not None and now > deadline)


def reserved_quantities(
    open_declarations: list[Declaration], ahead_of: Declaration | None = None
) -> dict[str, Decimal]:
    """Quantity per document held by declarations submitted or in control, not yet released:
    a later declaration cannot count on what an earlier one will write off. With
    ``ahead_of``, only the declarations filed before it count (first come, first served)."""
    held: dict[str, Decimal] = defaultdict(Decimal)
    for declaration in open_declarations:
        if ahead_of is not None and filed_order(declaration) >= filed_order(ahead_of):
            continue
        for number, quantity in declaration.permit_quantities().items():
            held[number] += quantity
    return dict(held)
