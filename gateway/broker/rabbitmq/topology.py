"""The RabbitMQ topology: what ``start()`` declares, and how a test namespace is torn down.

Every name below is prefixed with the adapter's ``namespace`` ("" in production)::

  publish(queue)            default exchange "" (routing key = queue name, mandatory)
        │                    no such queue → Basic.Return → Unroutable
        ▼
  kzgate.system.<id>        durable quorum queue, manual acks, per-consumer prefetch
        │  Delivery.retry(reason), attempt n+1 ≤ max_attempts
        │    copy published (confirmed) first, then the original is acked
        ▼
  kzgate.delay.<ms>ms       fanout exchange (durable), one per delay level of the RetryPolicy
        ▼
  kzgate.delay.<ms>ms       durable quorum queue: x-message-ttl=<ms>,
        │                    x-dead-letter-exchange="" (no dead-letter routing key, so the
        │                    message keeps the routing key it was published with: its queue),
        │                    x-dead-letter-strategy=at-least-once
        └──────────────────► back to kzgate.system.<id> with header x-kzgate-attempt=n+1

  Delivery.dead_letter(reason), or retry at attempt ≥ max_attempts
        ▼
  kzgate.dead-letters       durable classic queue; headers x-kzgate-dead-reason,
                            x-kzgate-original-queue, x-kzgate-attempt, x-kzgate-dead-lettered-at
                            (read with basic.get without ack; replay republishes with attempt 1)

  publish_event(key)  ──►   kzgate.events (durable topic exchange)
                              └─► kzgate.events.sub.<uuid> (exclusive, auto-delete, bound
                                  with the subscriber's binding key)

  request(queue)            publishes with reply_to = kzgate.reply.<uuid> (exclusive,
                            auto-delete, one per broker) and header x-kzgate-request-id; the
                            responder's reply() copies that header back and the answer is matched
                            on it (the AMQP correlation_id carries the SHEP correlation instead).

Why these choices: system queues are quorum queues so that a redelivery after a consumer crash
is counted (``x-delivery-count``) into ``Delivery.attempt``; the attempt of a retry travels in
our own header because x-death counting differs across RabbitMQ versions; a delay queue per delay
level (not a per-message TTL) because RabbitMQ only expires messages at the head of a queue.
Dead-lettering out of the delay queues is at-least-once (quorum queues, RabbitMQ ≥ 3.10): with
classic delay queues a broker restart lost confirmed messages that were waiting for a retry
(``tests/broker/test_rabbitmq.py::test_messages_waiting_for_a_retry_survive_a_broker_restart``).
"""

from __future__ import annotations

from typing import Any

import aio_pika
from aio_pika.abc import AbstractQueue, AbstractRobustChannel

from gateway.broker.naming import Namespace
from gateway.broker.port import DEAD_LETTER_QUEUE, EVENTS_EXCHANGE, RetryPolicy, system_queue

# "kzgate.retry." named the classic delay queues of earlier versions; a broker that still has
# them keeps them (their messages still dead-letter back to the system queues) and they can be
# deleted once empty. New names, because RabbitMQ refuses to re-declare a queue with other args.
RETRY_PREFIX = "kzgate.delay."
SYSTEM_QUEUE_ARGS = {"x-queue-type": "quorum"}


def delay_queue_args(millis: int) -> dict[str, Any]:
    """A delay level: a quorum queue whose messages expire after ``millis`` and dead-letter back
    **at least once** (RabbitMQ ≥ 3.10): the queue keeps an expired message until its queue has
    confirmed the copy. A classic queue dead-letters at most once, and drops what expires while
    the target is not there — as on every broker restart, where the classic delay queues come
    back first and expire their overdue messages before the quorum system queues are up."""
    return {
        "x-queue-type": "quorum",
        "x-message-ttl": millis,
        "x-dead-letter-exchange": "",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",  # at-least-once requires it
    }


class Topology:
    """The durable queues and exchanges of one namespace, remembered as they are declared."""

    def __init__(self, namespace: Namespace, retry: RetryPolicy) -> None:
        self._ns = namespace
        self._retry = retry
        self.durable_queues: set[str] = set()
        self.durable_exchanges: set[str] = set()

    def delay_exchange(self, attempt: int) -> str:
        """The delay level (exchange and queue, stored name) that holds ``attempt`` back."""
        millis = round(self._retry.delay_before(attempt) * 1000)
        return self._ns.stored(f"{RETRY_PREFIX}{millis}ms")

    async def declare(self, channel: AbstractRobustChannel, systems: list[str]) -> None:
        """System queues, the dead-letter queue, a delay level per retry, the events exchange."""
        for system_id in systems:
            await self.declare_durable_queue(channel, system_queue(system_id), SYSTEM_QUEUE_ARGS)
        await self.declare_durable_queue(channel, DEAD_LETTER_QUEUE)
        for attempt in range(2, max(self._retry.max_attempts, 2) + 1):
            await self._declare_delay_level(channel, attempt)
        await self._declare_durable_exchange(channel, EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC)

    async def declare_durable_queue(
        self, channel: AbstractRobustChannel, name: str, arguments: dict[str, Any] | None = None
    ) -> AbstractQueue:
        stored = self._ns.stored(name)
        self.durable_queues.add(stored)
        return await channel.declare_queue(stored, durable=True, arguments=arguments)

    async def _declare_durable_exchange(
        self, channel: AbstractRobustChannel, name: str, kind: aio_pika.ExchangeType
    ) -> None:
        self.durable_exchanges.add(self._ns.stored(name))
        await channel.declare_exchange(self._ns.stored(name), kind, durable=True)

    async def _declare_delay_level(self, channel: AbstractRobustChannel, attempt: int) -> None:
        name = self._ns.port_name(self.delay_exchange(attempt))
        millis = round(self._retry.delay_before(attempt) * 1000)
        await self._declare_durable_exchange(channel, name, aio_pika.ExchangeType.FANOUT)
        queue = await self.declare_durable_queue(channel, name, delay_queue_args(millis))
        await queue.bind(self._ns.stored(name))

    async def delete(self, channel: AbstractRobustChannel) -> None:
        """Delete every durable queue and exchange declared so far, messages included."""
        underlay = await channel.get_underlay_channel()
        for queue in sorted(self.durable_queues):
            await underlay.queue_delete(queue)
        for exchange in sorted(self.durable_exchanges):
            await underlay.exchange_delete(exchange)


__all__ = ["RETRY_PREFIX", "SYSTEM_QUEUE_ARGS", "Topology"]
