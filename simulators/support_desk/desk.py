"""The operator's support desk: where a service provider reports a failure of its IS.

Seed 002, licence rules p.8 and permit rules p.7: when its information system fails, the provider
"immediately" notifies the operator of the e-government ICT infrastructure by a request to the
single support desk sd@nitec.kz, giving the name of the state service, the application's unique
number (or the administrative / permit document's number and code), the applicant's IIN/BIN, the
exact time of the error and step-by-step screenshots from authorisation to the error. In reality
that is an e-mail, not a SHEP message, so the simulated desk is a mailbox on the simulators'
database that the provider writes to and testers read (ELICENSE's ``/ops/support-desk``,
``kzgate status``).

One notice per incident: an incident is one application failing for one provider until it
succeeds again. While a notice is open (``open_key`` set, unique) a further report of the same
incident adds nothing; ``resolve`` closes it, so a later failure is a new incident.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, Text, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import format_datetime
from connectors.db import UtcDateTime, create_engine, create_tables, write_transaction
from simulators.kit.tables import OnFirstUse

SUPPORT_DESK_ADDRESS = "sd@nitec.kz"  # LR p.8 / PR p.7 [seed 002]

metadata = MetaData()

notices = Table(
    "sim_support_desk_notices",
    metadata,
    Column("notice_id", String, primary_key=True),
    Column("provider", String, nullable=False),
    Column("service_name", Text, nullable=False),
    Column("application_number", String, nullable=False),
    Column("document_number", String, nullable=True),
    Column("applicant_id", String, nullable=False),
    Column("error_at", UtcDateTime, nullable=False),
    Column("reported_at", UtcDateTime, nullable=False),
    Column("error", Text, nullable=False),
    Column("steps", Text, nullable=False),  # JSON list: the steps from filing to the error
    Column("recipient", String, nullable=False),
    Column("resolved_at", UtcDateTime, nullable=True),
    # provider/application while the incident is open, NULL once resolved (NULLs never collide)
    Column("open_key", String, nullable=True, unique=True),
)


@dataclass(frozen=True)
class Notice:
    """One request to the support desk, with the fields LR p.8 names."""

    provider: str
    service_name: str
    application_number: str
    applicant_id: str
    error_at: datetime
    reported_at: datetime
    error: str
    steps: tuple[str, ...]
    document_number: str | None = None
    recipient: str = SUPPORT_DESK_ADDRESS
    notice_id: str = ""
    resolved_at: datetime | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "noticeId": self.notice_id,
            "recipient": self.recipient,
            "provider": self.provider,
            "serviceName": self.service_name,
            "applicationNumber": self.application_number,
            "documentNumber": self.document_number,
            "applicantId": self.applicant_id,
            "errorAt": format_datetime(self.error_at),
            "reportedAt": format_datetime(self.reported_at),
            "error": self.error,
            "steps": list(self.steps),
            "resolvedAt": format_datetime(self.resolved_at) if self.resolved_at else None,
        }


class SupportDesk:
    """The desk's mailbox on one database (SQLite file or PostgreSQL by URL)."""

    def __init__(self, database: str | AsyncEngine) -> None:
        # A provider may lend its own engine (one pool per process); a URL makes a desk of its own.
        self._owned = isinstance(database, str)
        self._engine: AsyncEngine = (
            create_engine(database) if isinstance(database, str) else database
        )
        self._ensure_schema = OnFirstUse(lambda: create_tables(self._engine, metadata))

    async def close(self) -> None:
        if self._owned:
            await self._engine.dispose()

    async def report(self, notice: Notice) -> bool:
        """File ``notice`` unless its incident already has an open one; True when filed now."""
        await self._ensure_schema()
        row = {
            **{k: v for k, v in notice.__dict__.items() if k not in {"steps", "notice_id"}},
            "notice_id": f"SD-{uuid.uuid4().hex[:12].upper()}",
            "steps": json.dumps(list(notice.steps), ensure_ascii=False),
            "open_key": _open_key(notice.provider, notice.application_number),
        }
        async with write_transaction(self._engine) as conn:
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            statement = (
                insert(notices)
                .values(**row)
                .on_conflict_do_nothing()
                .returning(notices.c.notice_id)
            )
            return (await conn.execute(statement)).first() is not None

    async def resolve(self, provider: str, application_number: str, at: datetime) -> None:
        """The incident of ``application_number`` is over (the step succeeded)."""
        await self._ensure_schema()
        async with write_transaction(self._engine) as conn:
            await conn.execute(
                update(notices)
                .where(notices.c.open_key == _open_key(provider, application_number))
                .values(open_key=None, resolved_at=at)
            )

    async def notices(self, application_number: str | None = None) -> list[Notice]:
        """Every notice received, oldest first (of one application when given)."""
        await self._ensure_schema()
        query = select(notices).order_by(notices.c.reported_at, notices.c.notice_id)
        if application_number is not None:
            query = query.where(notices.c.application_number == application_number)
        async with self._engine.connect() as conn:
            return [_notice(dict(r._mapping)) for r in await conn.execute(query)]


def _open_key(provider: str, application_number: str) -> str:
    return f"{provider}/{application_number}"


def _notice(row: dict[str, Any]) -> Notice:
    row.pop("open_key")
    row["steps"] = tuple(json.loads(row["steps"]))
    return Notice(**row)
