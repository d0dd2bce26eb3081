"""The raw aio-pika floor: what RabbitMQ alone does with messages of a given size.

At each concurrency level, that many publishers publish persistent messages of ``size`` bytes,
each waiting for the broker's publisher confirm, to a throwaway durable quorum queue
``bench.floor.<uuid>`` (the gateway's system queues are durable quorum queues too), while one
consumer with the gateway connectors' prefetch takes and acks them. Reported per level:

- confirms/s and publish→confirm p50/p99: the cost of one durable, confirmed publish — what a
  gateway ack (sendMessage accepted) has to wait for at least once;
- delivered/s and publish→consumed p50/p99: one message through the broker and out again — what
  any message the gateway moves (an async delivery; a sync request, and again its reply) costs.

The queue is deleted afterwards, also on failure. No gateway, no XML, no HTTP: a floor, not a
target. Divide a gateway figure by the floor's at the same concurrency to see how much of the
broker's capacity the gateway turns into its own throughput.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from bench.harness import percentile

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
PREFETCH = 32  # gateway.delivery.connector.PREFETCH: what the gateway's connectors consume with
WARM_UP_MESSAGES = 100
DRAIN_TIMEOUT = 60.0


class FloorUnavailable(Exception):
    """RabbitMQ cannot be reached: there is no floor to measure."""


@dataclass(frozen=True)
class FloorLevel:
    """The floor at one concurrency: rates per second, latencies in seconds."""

    publishers: int
    confirms_per_s: float
    confirm_latencies: list[float]
    delivered_per_s: float
    delivery_latencies: list[float]


def measure_amqp_floor(size: int, levels: list[int], messages: int) -> dict[int, FloorLevel]:
    """The floor at each level (``messages`` per level), or FloorUnavailable."""
    return asyncio.run(_measure(size, levels, messages))


async def _measure(size: int, levels: list[int], messages: int) -> dict[int, FloorLevel]:
    try:
        connection = await aio_pika.connect(AMQP_URL, timeout=3)
    except (OSError, TimeoutError, aio_pika.exceptions.AMQPError) as exc:
        raise FloorUnavailable(f"RabbitMQ at 127.0.0.1:5672 not reachable ({exc!r})") from exc
    async with connection:
        publishing = await connection.channel(publisher_confirms=True)
        consuming = await connection.channel()
        await consuming.set_qos(prefetch_count=PREFETCH)
        name = f"bench.floor.{uuid.uuid4()}"
        queue = await consuming.declare_queue(
            name, durable=True, arguments={"x-queue-type": "quorum"}
        )
        try:
            await _level(publishing, queue, size, 8, WARM_UP_MESSAGES)
            return {n: await _level(publishing, queue, size, n, messages) for n in levels}
        finally:
            await queue.delete(if_unused=False, if_empty=False)


async def _level(
    channel: AbstractChannel, queue: AbstractQueue, size: int, publishers: int, messages: int
) -> FloorLevel:
    body = bytes(size)
    sent: dict[str, float] = {}
    delivered: list[float] = []
    confirmed: list[float] = []
    all_in = asyncio.Event()

    async def on_message(message: AbstractIncomingMessage) -> None:
        delivered.append(time.perf_counter() - sent[message.message_id or ""])
        await message.ack()
        if len(delivered) == messages:
            all_in.set()

    ids = iter(f"{publishers}-{i}" for i in range(messages))

    async def publisher() -> None:
        for message_id in ids:  # shared: the publishers take the next id in turn
            sent[message_id] = started = time.perf_counter()
            amqp = aio_pika.Message(
                body, message_id=message_id, delivery_mode=aio_pika.DeliveryMode.PERSISTENT
            )
            await channel.default_exchange.publish(amqp, routing_key=queue.name)
            confirmed.append(time.perf_counter() - started)

    tag = await queue.consume(on_message)
    try:
        start = time.perf_counter()
        await asyncio.gather(*(publisher() for _ in range(publishers)))
        confirm_seconds = time.perf_counter() - start
        await asyncio.wait_for(all_in.wait(), DRAIN_TIMEOUT)
        delivery_seconds = time.perf_counter() - start
    finally:
        await queue.cancel(tag)
    return FloorLevel(
        publishers, messages / confirm_seconds, confirmed, messages / delivery_seconds, delivered
    )


def print_amqp_floor(floor: dict[int, FloorLevel], size: int, messages: int) -> None:
    print(
        f"aio-pika floor: {messages} persistent {size:,}-byte messages per level, publisher "
        f"confirms, quorum queue bench.floor.<uuid> (deleted), one consumer, prefetch {PREFETCH}"
    )
    print(
        f"{'publishers':>10} {'confirms/s':>11} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'delivered/s':>12} {'p50 ms':>7} {'p99 ms':>7}"
    )
    for level in floor.values():
        print(
            f"{level.publishers:>10} {level.confirms_per_s:>11,.0f} "
            f"{percentile(level.confirm_latencies, 0.5):>7.2f} "
            f"{percentile(level.confirm_latencies, 0.99):>7.2f} "
            f"{level.delivered_per_s:>12,.0f} "
            f"{percentile(level.delivery_latencies, 0.5):>7.2f} "
            f"{percentile(level.delivery_latencies, 0.99):>7.2f}"
        )


def floor_or_reason(size: int, levels: list[int], messages: int) -> dict[int, FloorLevel] | None:
    """Measure and print the floor; without RabbitMQ say so and return None."""
    try:
        floor = measure_amqp_floor(size, levels, messages)
    except FloorUnavailable as exc:
        print(f"aio-pika floor: not measured — {exc}; gateway figures below have no floor ratios")
        return None
    print_amqp_floor(floor, size, messages)
    return floor
