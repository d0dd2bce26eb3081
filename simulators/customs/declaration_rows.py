"""KEDEN's declaration tables and their rows as values: the declaration with its history of
events, the write-offs it made, the counters that number them, and the conversions between rows
and the ``Declaration``/``Event``/``WriteOff`` values the rest of KEDEN reads.

Tables live on their own ``MetaData`` beside ``sim_keden_records`` on the simulators' database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
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
)
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.db import UtcDateTime
from simulators.customs.declarations import (
    ControlForm,
    ControlResult,
    DeclarationItem,
    DeclarationStatus,
    ExportDeclaration,
    PaymentMethod,
    Reason,
)
from simulators.customs.payload import decimal_text

__all__ = [
    "CUSTOMS_POST",
    "Declaration",
    "Event",
    "StaleDeclaration",
    "WriteOff",
    "append_event",
    "counters",
    "declaration_from_json",
    "declaration_json",
    "declaration_of",
    "declarations",
    "event_of",
    "events",
    "fetch_by_filing",
    "fetch_declaration",
    "metadata",
    "next_value",
    "reasons_json",
    "result_json",
    "update_declaration",
    "write_off_of",
    "write_offs",
]

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


async def update_declaration(conn: AsyncConnection, number: str, **values: Any) -> None:
    if isinstance(values.get("status"), DeclarationStatus):
        values["status"] = values["status"].value
    await conn.execute(
        declarations.update().where(declarations.c.number == number).values(**values)
    )


async def fetch_declaration(conn: AsyncConnection, number: str) -> Declaration | None:
    row = (await conn.execute(select(declarations).where(declarations.c.number == number))).first()
    return None if row is None else declaration_of(row._mapping)


async def fetch_by_filing(
    conn: AsyncConnection, declarant: str, reference: str
) -> Declaration | None:
    row = (
        await conn.execute(
            select(declarations).where(
                declarations.c.declarant_id == declarant,
                declarations.c.filing_reference == reference,
            )
        )
    ).first()
    return None if row is None else declaration_of(row._mapping)


# --- rows ⇄ values -----------------------------------------------------------------------------


async def next_value(conn: AsyncConnection, name: str) -> int:
    current = (
        await conn.execute(select(counters.c.value).where(counters.c.name == name))
    ).scalar_one_or_none()
    if current is None:
        await conn.execute(counters.insert().values(name=name, value=1))
        return 1
    await conn.execute(counters.update().where(counters.c.name == name).values(value=current + 1))
    return current + 1


async def append_event(
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


def declaration_json(d: ExportDeclaration) -> dict[str, Any]:
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


def declaration_from_json(data: Mapping[str, Any]) -> ExportDeclaration:
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


def reasons_json(reasons: Sequence[Reason]) -> str:
    return json.dumps([asdict(r) for r in reasons], ensure_ascii=False)


def result_json(result: ControlResult) -> dict[str, Any]:
    return {
        "officer": result.officer,
        "violations": result.violations,
        "finding": result.finding,
        "recorded_at": result.recorded_at.isoformat(),
    }


def declaration_of(row: Any) -> Declaration:
    result = json.loads(row["control_result"]) if row["control_result"] else None
    forms = tuple(ControlForm(f) for f in (row["control_forms"] or "").split(",") if f)
    return Declaration(
        number=row["number"],
        content=declaration_from_json(json.loads(row["declaration"])),
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


def event_of(row: Any) -> Event:
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


def write_off_of(row: Any) -> WriteOff:
    return WriteOff(
        declaration_number=row["declaration_number"],
        record_number=row["record_number"],
        quantity=Decimal(row["quantity"]),
        unit=row["unit"],
        written_off_at=row["written_off_at"],
        remaining_after=Decimal(row["remaining_after"]),
        reported_elicense=bool(row["reported_elicense"]),
    )
