"""The embedded broker's tables: declared queues, and one row per message waiting in a queue.

A message row is the whole state of a message: where it waits (``queue``), when it may be
delivered (``available_at``, later for a retry), who holds it (``lease_owner`` until
``lease_expires_at``; an expired lease means the holder died) and, in the dead-letter queue,
why it got there. Ack deletes the row. Its state is therefore read from the columns, not kept
in a separate one that could disagree: waiting (no live lease), in flight (a live lease),
delayed (``available_at`` in the future), dead (``queue`` is the dead-letter queue).

The tables sit on a ``MetaData`` of their own, which the broker creates before its first
operation: the storage layer need not know them, and a database no broker ran on lacks them.

``messages.queue`` references ``queues.name``: a publish to an undeclared queue fails on the
foreign key inside the one INSERT (the broker's "unroutable"), and dropping an auto-delete
queue (a private reply or event queue whose owner stopped renewing it) drops its messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Row,
    String,
    Table,
)

from connectors.db import UtcDateTime
from gateway.broker.port import Message

metadata = MetaData()

queues = Table(
    "broker_queues",
    metadata,
    Column("name", String, primary_key=True),
    # Set on event-subscription queues only: the topic binding key (``licence.*``).
    Column("binding_key", String),
    # NULL for durable queues; for auto-delete ones, renewed by the owner while it lives.
    Column("expires_at", UtcDateTime),
    Index("ix_broker_queues_expires_at", "expires_at"),
)

messages = Table(
    "broker_messages",
    metadata,
    # SQLite only makes an autoincrementing rowid alias of a column typed exactly INTEGER.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column(
        "queue",
        String,
        ForeignKey("broker_queues.name", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("body", LargeBinary, nullable=False),
    Column("message_id", String, nullable=False),
    Column("correlation_id", String),
    Column("headers", JSON, nullable=False),
    Column("content_type", String, nullable=False),
    Column("reply_to", String),
    # Matches an RPC reply to its request (the correlation id carries the SHEP correlation).
    Column("request_id", String),
    # The routing key of an event; NULL for messages published to a queue.
    Column("routing_key", String),
    Column("attempt", Integer, nullable=False),
    Column("redelivered", Boolean, nullable=False),
    Column("available_at", UtcDateTime, nullable=False),
    Column("lease_owner", String),
    Column("lease_expires_at", UtcDateTime),
    Column("dead_reason", String),
    Column("dead_from_queue", String),
    Column("dead_at", UtcDateTime),
    Column("published_at", UtcDateTime, nullable=False),
    Index("ix_broker_messages_queue_id", "queue", "id"),
    Index("ix_broker_messages_message_id", "message_id"),
)


def message_row(
    stored: str,
    message: Message,
    now: datetime,
    *,
    request_id: str | None = None,
    routing_key: str | None = None,
) -> dict[str, Any]:
    """The columns of ``message`` newly waiting in queue ``stored`` (attempt 1, due now)."""
    return {
        "queue": stored,
        "body": message.body,
        "message_id": message.message_id,
        "correlation_id": message.correlation_id,
        "headers": dict(message.headers),
        "content_type": message.content_type,
        "reply_to": message.reply_to,
        "request_id": request_id,
        "routing_key": routing_key,
        "attempt": 1,
        "redelivered": False,
        "available_at": now,
        "published_at": now,
    }


def fresh_values(stored: str, now: datetime) -> dict[str, Any]:
    """The columns of a row put back into ``stored`` as a new message (attempt 1)."""
    return {
        "queue": stored,
        "attempt": 1,
        "redelivered": False,
        "available_at": now,
        "lease_owner": None,
        "lease_expires_at": None,
        "dead_reason": None,
        "dead_from_queue": None,
        "dead_at": None,
    }


def row_message(row: Row[Any]) -> Message:
    """The port ``Message`` a row holds."""
    return Message(
        body=bytes(row.body),
        message_id=row.message_id,
        correlation_id=row.correlation_id,
        headers=dict(row.headers),
        content_type=row.content_type,
        reply_to=row.reply_to,
    )


__all__ = ["fresh_values", "message_row", "messages", "metadata", "queues", "row_message"]
