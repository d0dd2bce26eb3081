"""Where each AsyncChannel message stands, persisted, so getMessageStatus and ingress
de-duplication answer the same in every gateway process and after any restart."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    LargeBinary,
    String,
    Table,
    bindparam,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import MessageState
from connectors.db import DriverStatement, InsertOnce, UtcDateTime, read_statement
from gateway.storage.schema import metadata

async_messages = Table(
    "async_messages",
    metadata,
    Column("message_id", String, primary_key=True),
    Column("sender_id", String, nullable=False),
    Column("receiver_id", String, nullable=False),
    Column("service_id", String, nullable=False),
    Column("correlation_id", String, nullable=False),
    Column("message_type", String, nullable=False),
    Column("payload_digest", String, nullable=False),
    Column("state", String, nullable=False),
    Column("status_code", String, nullable=False),
    Column("status_message", String, nullable=False),
    Column("status_date", UtcDateTime, nullable=False),
    Column("accepted_at", UtcDateTime, nullable=False),
    Column("published", Boolean, nullable=False),
    Column("push", Boolean, nullable=False),
    Column("delivered_envelope", LargeBinary, nullable=False),
    Index("ix_async_messages_mailbox", "receiver_id", "service_id", "state"),
)


@dataclass(frozen=True)
class TrackedMessage:
    """One async message as the gateway accepted it, and where its delivery stands."""

    message_id: str
    sender_id: str
    receiver_id: str
    service_id: str
    correlation_id: str
    message_type: str
    payload_digest: str
    state: MessageState
    status_code: str
    status_message: str
    status_date: datetime
    accepted_at: datetime
    published: bool
    push: bool
    delivered_envelope: bytes


_WHERE_ID = async_messages.c.message_id == bindparam("id")
# Each statement built and compiled once; a call only binds its parameters (issue 12).
_ACCEPT = InsertOnce(async_messages)
_GET = DriverStatement(select(async_messages).where(_WHERE_ID))
_STATE_OF = DriverStatement(select(async_messages.c.state).where(_WHERE_ID))
_MARK_PUBLISHED = DriverStatement(update(async_messages).where(_WHERE_ID).values(published=True))
_SET_STATE = DriverStatement(
    update(async_messages)
    .where(_WHERE_ID)
    .values(
        state=bindparam("state"),
        status_code=bindparam("status_code"),
        status_message=bindparam("status_message"),
        status_date=bindparam("status_date", type_=UtcDateTime),
    )
    .returning(*async_messages.c)
)


class MessageTracker:
    """The ``async_messages`` table: accept once, move through states, list a poller's mailbox.

    The per-message statements run on PostgreSQL's driver connection (``connectors.db.driver``):
    through SQLAlchemy they were ~16 % of the gateway's CPU on the licence flow (issue 12).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def accept(self, message: TrackedMessage) -> tuple[TrackedMessage, bool]:
        """Insert ``message``; if its id is taken, return the earlier one and False."""
        if await _ACCEPT.insert(self._engine, _row(message)):
            return message, True
        existing = await self.get(message.message_id)
        if existing is None:  # pragma: no cover - a tracked message is never deleted
            raise LookupError(f"message {message.message_id!r} was taken and is gone")
        return existing, False

    async def get(self, message_id: str) -> TrackedMessage | None:
        rows = await _GET.rows(self._engine, {"id": message_id}, writes=False)
        return _tracked(rows[0]) if rows else None

    async def state_of(self, message_id: str) -> MessageState | None:
        """Where the message stands, without its envelope (a connector's check on each delivery)."""
        rows = await _STATE_OF.rows(self._engine, {"id": message_id}, writes=False)
        return MessageState(rows[0]["state"]) if rows else None

    async def mark_published(self, message_id: str) -> None:
        await _MARK_PUBLISHED.rows(self._engine, {"id": message_id}, writes=True)

    async def set_state(
        self, message_id: str, state: MessageState, code: str, message: str, at: datetime
    ) -> TrackedMessage | None:
        """Move the message to ``state``; the message as it now stands, None if it is unknown.

        One statement (UPDATE … RETURNING) where a change followed by a read was two transactions
        on every delivery (issue 12).
        """
        parameters = {
            "id": message_id,
            "state": state.value,
            "status_code": code,
            "status_message": message[:250],  # StatusInfo/message: 250 characters
            "status_date": at,
        }
        rows = await _SET_STATE.rows(self._engine, parameters, writes=True)
        return _tracked(rows[0]) if rows else None

    async def mailbox(
        self,
        receiver_id: str,
        service_id: str,
        *,
        limit: int,
        message_id: str | None = None,
        correlation_id: str | None = None,
    ) -> list[TrackedMessage]:
        """Messages waiting for a polling receiver, oldest first."""
        table = async_messages
        query = (
            select(table)
            .where(table.c.receiver_id == receiver_id, table.c.service_id == service_id)
            .where(table.c.state == MessageState.ON_DELIVERY.value, table.c.push.is_(False))
            .order_by(table.c.accepted_at)
            .limit(limit)
        )
        if message_id:
            query = query.where(table.c.message_id == message_id)
        if correlation_id:
            query = query.where(table.c.correlation_id == correlation_id)
        async with read_statement(self._engine) as conn:
            return [_tracked(row._mapping) for row in await conn.execute(query)]


def _row(message: TrackedMessage) -> dict[str, object]:
    row = dict(message.__dict__)
    row["state"] = message.state.value
    return row


def _tracked(row: Mapping[str, Any]) -> TrackedMessage:
    values = dict(row.items())
    values["state"] = MessageState(values["state"])
    return TrackedMessage(**values)
