"""Where each AsyncChannel message stands, persisted, so getMessageStatus and ingress
de-duplication answer the same in every gateway process and after any restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, Column, Index, LargeBinary, String, Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import MessageState
from connectors.db import UtcDateTime, read_statement, write_statement
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


class MessageTracker:
    """The ``async_messages`` table: accept once, move through states, list a poller's mailbox."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def accept(self, message: TrackedMessage) -> tuple[TrackedMessage, bool]:
        """Insert ``message``; if its id is taken, return the earlier one and False."""
        try:
            async with write_statement(self._engine) as conn:
                await conn.execute(async_messages.insert().values(**_row(message)))
            return message, True
        except IntegrityError:
            existing = await self.get(message.message_id)
            if existing is None:  # pragma: no cover - the row cannot vanish between the two
                raise
            return existing, False

    async def get(self, message_id: str) -> TrackedMessage | None:
        async with read_statement(self._engine) as conn:
            row = (
                await conn.execute(
                    select(async_messages).where(async_messages.c.message_id == message_id)
                )
            ).first()
        return _tracked(row) if row else None

    async def state_of(self, message_id: str) -> MessageState | None:
        """Where the message stands, without its envelope (a connector's check on each delivery)."""
        query = select(async_messages.c.state).where(async_messages.c.message_id == message_id)
        async with read_statement(self._engine) as conn:
            state = (await conn.execute(query)).scalar()
        return None if state is None else MessageState(state)

    async def mark_published(self, message_id: str) -> None:
        await self._update(message_id, published=True)

    async def set_state(
        self, message_id: str, state: MessageState, code: str, message: str, at: datetime
    ) -> TrackedMessage | None:
        """Move the message to ``state``; the message as it now stands, None if it is unknown.

        One statement (UPDATE … RETURNING) where a change followed by a read was two transactions
        on every delivery (issue 12).
        """
        async with write_statement(self._engine) as conn:
            row = (
                await conn.execute(
                    update(async_messages)
                    .where(async_messages.c.message_id == message_id)
                    .values(
                        state=state.value,
                        status_code=code,
                        status_message=message[:250],  # StatusInfo/message: 250 characters
                        status_date=at,
                    )
                    .returning(*async_messages.c)
                )
            ).first()
        return _tracked(row) if row else None

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
            return [_tracked(row) for row in await conn.execute(query)]

    async def _update(self, message_id: str, **values: object) -> None:
        async with write_statement(self._engine) as conn:
            await conn.execute(
                update(async_messages)
                .where(async_messages.c.message_id == message_id)
                .values(**values)
            )


def _row(message: TrackedMessage) -> dict[str, object]:
    row = dict(message.__dict__)
    row["state"] = message.state.value
    return row


def _tracked(row: object) -> TrackedMessage:
    values = dict(row._mapping)  # type: ignore[attr-defined]
    values["state"] = MessageState(values["state"])
    return TrackedMessage(**values)
