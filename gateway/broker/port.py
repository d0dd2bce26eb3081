"""The broker port: what the gateway and the connectors need from a message broker.

Two adapters implement it — ``rabbitmq`` (aio-pika) and ``embedded`` (in-process, persisted in
the project's database so that an accepted message survives a crash on the one-machine default) —
and one contract test suite holds both to the same behaviour.

Vocabulary
- A **system queue** (``system_queue(system_id)``) holds what is waiting for one state system.
- A handler settles each ``Delivery`` exactly once: ``ack`` (done), ``retry`` (a transient
  failure: redelivered after a growing delay, dead-lettered once ``max_attempts`` is reached) or
  ``dead_letter`` (a permanent failure, with the reason attached).
- **Events** go to a topic exchange under documented routing keys (``licence.issued`` …).
- ``request`` is an RPC: publish to a system queue with a reply address, wait for the answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

SYSTEM_QUEUE_PREFIX = "kzgate.system."
DEAD_LETTER_QUEUE = "kzgate.dead-letters"
EVENTS_EXCHANGE = "kzgate.events"


def system_queue(system_id: str) -> str:
    return f"{SYSTEM_QUEUE_PREFIX}{system_id}"


class BrokerError(Exception):
    """Base of the broker's failures."""


class BrokerUnavailable(BrokerError):
    """The broker did not confirm in time (down, reconnecting, or blocked): nothing is promised."""


class Unroutable(BrokerError):
    """The broker returned the message: no queue is bound for it."""


class RequestTimeout(BrokerError):
    """An RPC got no answer in time."""


@dataclass(frozen=True)
class Message:
    """What is published: the exact bytes and the AMQP-style metadata that travels with them.

    ``headers`` carry the SHEP identity of the message (messageId, correlationId, serviceId,
    sender, type) so that a consumer can route or filter without parsing the body.
    """

    body: bytes
    message_id: str
    correlation_id: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "text/xml; charset=utf-8"
    reply_to: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how late a failed delivery is tried again before it is dead-lettered.

    Attempt n (n ≥ 2) waits ``delays[n - 2]`` seconds (the last delay repeats).
    """

    max_attempts: int = 5
    delays: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)

    def delay_before(self, attempt: int) -> float:
        return self.delays[min(attempt - 2, len(self.delays) - 1)]


@dataclass(frozen=True)
class DeadLetter:
    """A message parked in the dead-letter queue, with why and where it came from."""

    message: Message
    queue: str
    reason: str
    attempts: int
    dead_lettered_at: datetime


class Delivery(Protocol):
    """One delivery of a message to a consumer; settle it exactly once."""

    @property
    def message(self) -> Message: ...

    @property
    def queue(self) -> str: ...

    @property
    def attempt(self) -> int:
        """1 for the first delivery, counting retries and broker redeliveries."""
        ...

    @property
    def redelivered(self) -> bool:
        """The broker may have delivered this before (a consumer died before settling it)."""
        ...

    async def ack(self) -> None: ...

    async def retry(self, reason: str) -> None:
        """Redeliver later (growing delay); dead-letter with ``reason`` after max_attempts."""
        ...

    async def dead_letter(self, reason: str) -> None: ...

    async def reply(self, message: Message) -> None:
        """Answer an RPC request (to ``message.reply_to`` with its correlation); then ack."""
        ...


Handler = Callable[[Delivery], Awaitable[None]]


class Subscription(Protocol):
    async def cancel(self) -> None: ...


class Broker(Protocol):
    """The port. Every publish returns only once the broker has durably accepted the message."""

    async def start(self, systems: list[str]) -> None:
        """Connect and declare the topology: a queue per system, retry path, DLQ, events."""
        ...

    async def close(self) -> None: ...

    async def publish(self, queue: str, message: Message, *, timeout: float = 10.0) -> None:
        """Durable, confirmed publish; raises BrokerUnavailable or Unroutable, never hangs."""
        ...

    async def publish_event(
        self, routing_key: str, message: Message, *, timeout: float = 10.0
    ) -> None:
        """Publish to the events topic exchange (no subscriber is not an error)."""
        ...

    async def consume(self, queue: str, handler: Handler, *, prefetch: int = 16) -> Subscription:
        """Deliver messages of ``queue`` to ``handler``; unsettled ones come back after a crash."""
        ...

    async def subscribe_events(self, binding_key: str, handler: Handler) -> Subscription:
        """Events whose routing key matches ``binding_key`` (topic syntax: ``licence.*``)."""
        ...

    async def request(self, queue: str, message: Message, *, timeout: float) -> Message:
        """RPC: publish with a reply address and wait for the reply; RequestTimeout if none."""
        ...

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """What is parked in the dead-letter queue, oldest first, without removing it."""
        ...

    async def replay_dead_letter(self, message_id: str) -> bool:
        """Move one dead letter back to its queue with a fresh attempt count; False if absent."""
        ...

    @property
    def description(self) -> str:
        """One line for start-up banners and /health, e.g. 'RabbitMQ at amqp://127.0.0.1:5672/'."""
        ...
