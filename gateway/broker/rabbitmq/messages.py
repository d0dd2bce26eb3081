"""A port ``Message`` as an AMQP message and back; the headers the adapter writes for itself.

The port's headers are text; the adapter's own bookkeeping (attempt, request id, why and whence
a dead letter) travels in ``x-kzgate-*`` headers and RabbitMQ adds its own ``x-*`` ones: neither
is part of the ``Message`` a consumer sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from gateway.broker.port import DeadLetter, Message

ATTEMPT_HEADER = "x-kzgate-attempt"
REQUEST_ID_HEADER = "x-kzgate-request-id"
DEAD_REASON_HEADER = "x-kzgate-dead-reason"
ORIGINAL_QUEUE_HEADER = "x-kzgate-original-queue"
DEAD_AT_HEADER = "x-kzgate-dead-lettered-at"
# RabbitMQ's count of redeliveries on a quorum queue (a consumer died holding the message).
DELIVERY_COUNT_HEADER = "x-delivery-count"
# Headers the adapter itself writes or RabbitMQ adds; they are not part of the Message.
INTERNAL_HEADERS = frozenset(
    {
        ATTEMPT_HEADER,
        REQUEST_ID_HEADER,
        DEAD_REASON_HEADER,
        ORIGINAL_QUEUE_HEADER,
        DEAD_AT_HEADER,
        DELIVERY_COUNT_HEADER,
        "x-death",
        "x-first-death-exchange",
        "x-first-death-queue",
        "x-first-death-reason",
        "x-last-death-exchange",
        "x-last-death-queue",
        "x-last-death-reason",
    }
)
_DEFAULT_CONTENT_TYPE = Message(b"", "").content_type


def to_amqp(message: Message, extra: Mapping[str, str] | None = None) -> aio_pika.Message:
    """A persistent AMQP message of ``message``, with the adapter's ``extra`` headers."""
    headers: dict[str, Any] = {**message.headers, **(extra or {})}
    return aio_pika.Message(
        body=message.body,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        headers=headers,
        content_type=message.content_type,
        reply_to=message.reply_to,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        timestamp=datetime.now(UTC),
    )


def from_amqp(incoming: AbstractIncomingMessage) -> Message:
    headers = {
        key: value
        for key, value in text_headers(incoming.headers).items()
        if key not in INTERNAL_HEADERS
    }
    return Message(
        body=incoming.body,
        message_id=incoming.message_id or "",
        correlation_id=incoming.correlation_id,
        headers=headers,
        content_type=incoming.content_type or _DEFAULT_CONTENT_TYPE,
        reply_to=incoming.reply_to,
    )


def to_dead_letter(incoming: AbstractIncomingMessage) -> DeadLetter:
    """A message read from the dead-letter queue, with the why and whence its headers carry."""
    headers = text_headers(incoming.headers)
    when = headers.get(DEAD_AT_HEADER)
    return DeadLetter(
        message=from_amqp(incoming),
        queue=headers.get(ORIGINAL_QUEUE_HEADER, ""),
        reason=headers.get(DEAD_REASON_HEADER, ""),
        attempts=int(headers.get(ATTEMPT_HEADER, "1")),
        dead_lettered_at=datetime.fromisoformat(when) if when else datetime.now(UTC),
    )


def text_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """AMQP header values as text (the port's headers are strings)."""
    text: dict[str, str] = {}
    for key, value in (headers or {}).items():
        if isinstance(value, bytes):
            text[key] = value.decode("utf-8", "replace")
        elif isinstance(value, str | int | float | bool):
            text[key] = str(value)
    return text


__all__ = [
    "ATTEMPT_HEADER",
    "DEAD_AT_HEADER",
    "DEAD_REASON_HEADER",
    "DELIVERY_COUNT_HEADER",
    "INTERNAL_HEADERS",
    "ORIGINAL_QUEUE_HEADER",
    "REQUEST_ID_HEADER",
    "from_amqp",
    "text_headers",
    "to_amqp",
    "to_dead_letter",
]
