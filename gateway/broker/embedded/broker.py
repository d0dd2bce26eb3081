"""``EmbeddedBroker``: the broker port on the gateway's own database.

The port surface (lifecycle, publish and event fan-out, consume, RPC, dead letters) and the
settlements its deliveries ask for. The SQL lives beside it: claims and leases in ``leases``,
declared queues in ``queues``, the tables in ``tables``, bounded transactions in ``database``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.broker.adapter import DEFAULT_RETRY, AdapterBase
from gateway.broker.embedded import dead_letters, leases, queues, tables
from gateway.broker.embedded.database import Database
from gateway.broker.embedded.delivery import EmbeddedDelivery
from gateway.broker.embedded.subscription import (
    Consumers,
    DeliveryHandler,
    EmbeddedSubscription,
)
from gateway.broker.embedded.tables import message_row, messages
from gateway.broker.embedded.topics import topic_matches
from gateway.broker.naming import EVENT_QUEUE_PREFIX, declared_at_start
from gateway.broker.port import (
    DEAD_LETTER_QUEUE,
    BrokerError,
    BrokerUnavailable,
    DeadLetter,
    Handler,
    Message,
    RetryPolicy,
    Unroutable,
    system_queue,
)
from gateway.broker.rpc import addressed_reply, requester_gone

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 30.0


def _now() -> datetime:
    return datetime.now(UTC)


class EmbeddedBroker(AdapterBase):
    """The ``Broker`` port on the gateway's database; see ``gateway.broker.embedded``."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        namespace: str = "",
        poll_interval: float = 0.5,
        lease: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        super().__init__(retry=retry, namespace=namespace)
        self._engine = engine
        self.poll_interval = poll_interval
        self._lease = timedelta(seconds=lease)
        self._db = Database(engine, self.description, tables.metadata)
        self._dead_letters = self._ns.stored(DEAD_LETTER_QUEUE)
        self._terms = leases.LeaseTerms(self._lease, retry.max_attempts, self._dead_letters)
        self._reply_lock = asyncio.Lock()
        self._reply_consumer: EmbeddedSubscription | None = None
        self._consumers = Consumers()
        self._maintenance: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def description(self) -> str:
        url = self._engine.url.render_as_string(hide_password=True)
        return self._ns.describe(f"embedded broker in {url}")

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, systems: list[str]) -> None:
        """Declare the system queues and the DLQ (the tables come first if missing)."""
        self._check_open()
        names = [system_queue(system_id) for system_id in systems] + [DEAD_LETTER_QUEUE]
        await self._declare_durable([self._ns.stored(name) for name in names])

    async def close(self) -> None:
        """Stop every consumer; what they held unsettled is released for redelivery."""
        if self._closed:
            return
        self._closed = True
        for consumer in self._consumers:
            await consumer.cancel()
        if self._maintenance is not None:
            self._maintenance.cancel()
            await asyncio.gather(self._maintenance, return_exceptions=True)
        self._consumers.stop_timers()
        self._replies.fail_all(BrokerUnavailable("the broker was closed"))
        # Operations that timed out still run until the database lets them go; let them end
        # before the caller disposes of the engine, but do not hang on them.
        await self._db.settle_detached()

    def _check_open(self) -> None:
        if self._closed:
            raise BrokerUnavailable(f"{self.description} is closed")

    # -- publishing --------------------------------------------------------------------------

    async def publish(self, queue: str, message: Message, *, timeout: float = 10.0) -> None:
        await self._insert(self._ns.stored(queue), message, timeout=timeout)

    async def _insert(
        self, stored: str, message: Message, *, timeout: float, request_id: str | None = None
    ) -> None:
        self._check_open()
        row = message_row(stored, message, _now(), request_id=request_id)
        await self._db.run(
            lambda conn: conn.execute(insert(messages).values(row)),
            what=f"publish to {self._ns.port_name(stored)}",
            timeout=timeout,
        )
        self._consumers.wake(stored)

    async def publish_event(
        self, routing_key: str, message: Message, *, timeout: float = 10.0
    ) -> None:
        """Copy the event into every live subscription queue whose binding key matches."""
        self._check_open()

        async def route(conn: AsyncConnection) -> list[str]:
            now = _now()
            bound = await queues.event_queues(conn, self._ns.stored(EVENT_QUEUE_PREFIX), now)
            targets = [name for name, key in bound if topic_matches(key, routing_key)]
            rows = [message_row(name, message, now, routing_key=routing_key) for name in targets]
            if rows:
                await conn.execute(insert(messages), rows)
            return targets

        targets = await self._db.run(route, what=f"publish event {routing_key}", timeout=timeout)
        for stored in targets:
            self._consumers.wake(stored)

    # -- consuming ---------------------------------------------------------------------------

    async def consume(
        self, queue: str, handler: Handler, *, prefetch: int = 16
    ) -> EmbeddedSubscription:
        self._check_open()
        stored = self._ns.stored(queue)
        if declared_at_start(queue):
            await self._declare_durable([stored, self._dead_letters])
        elif not await self._db.fetch_all(queues.lookup(stored), what="queue look-up"):
            raise BrokerError(f"no queue {queue!r} to consume")
        return self._start_consumer(stored, handler, prefetch, auto_delete=False)

    async def subscribe_events(self, binding_key: str, handler: Handler) -> EmbeddedSubscription:
        self._check_open()
        stored = self._ns.new_event_queue()
        await self._declare_auto_delete(stored, binding_key)
        return self._start_consumer(stored, handler, 16, auto_delete=True, binding_key=binding_key)

    def _start_consumer(
        self,
        stored: str,
        handler: DeliveryHandler,
        prefetch: int,
        *,
        auto_delete: bool,
        binding_key: str | None = None,
    ) -> EmbeddedSubscription:
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1")
        consumer = EmbeddedSubscription(
            self, stored, handler, prefetch, auto_delete=auto_delete, binding_key=binding_key
        )
        self._consumers.add(consumer)
        consumer.start()
        if self._maintenance is None:
            self._maintenance = asyncio.create_task(self._maintain(), name="broker leases")
        return consumer

    # -- for its subscriptions ---------------------------------------------------------------

    async def claim(self, stored: str, limit: int) -> list[EmbeddedDelivery]:
        """Lease up to ``limit`` due rows of ``stored`` to a fresh token."""
        if not await self._db.run(
            lambda conn: leases.any_ready(conn, stored, _now()), what="poll", write=False
        ):
            return []
        token = uuid.uuid4().hex
        rows = await self._db.run(
            lambda conn: leases.claim(conn, stored, limit, token, _now(), self._terms),
            what=f"claim on {stored}",
        )
        return [EmbeddedDelivery(self, row, token, self._ns.port_name(row.queue)) for row in rows]

    def forget(self, consumer: EmbeddedSubscription) -> None:
        self._consumers.forget(consumer)

    async def release(self, deliveries: Sequence[EmbeddedDelivery]) -> None:
        """End the leases now, so the rows are redelivered at once (counted as redeliveries)."""
        if not deliveries:
            return
        release = leases.release([d.claim for d in deliveries], _now())
        try:
            await self._db.run(lambda conn: conn.execute(release), what="lease release")
        except BrokerError:
            log.warning("could not release %d lease(s); they will expire", len(deliveries))
        for stored in {d.stored_queue for d in deliveries}:
            self._consumers.wake(stored)

    async def delete_queue(self, stored: str) -> None:
        try:
            await self._db.run(
                lambda conn: conn.execute(queues.deletion(stored)),
                what=f"deletion of {self._ns.port_name(stored)}",
            )
        except BrokerError:
            log.warning("could not delete %s; it expires on its own", stored, exc_info=True)

    # -- for its deliveries: the settlements -------------------------------------------------

    async def settle_ack(self, delivery: EmbeddedDelivery) -> None:
        await self._change_held(
            delivery, delete(messages), what=f"ack of {delivery.message.message_id}"
        )

    async def settle_retry(self, delivery: EmbeddedDelivery, reason: str) -> None:
        attempt = delivery.attempt + 1
        delay = self._retry.delay_before(attempt)
        statement = leases.retry_later(attempt, _now() + timedelta(seconds=delay))
        await self._change_held(delivery, statement, what=f"retry of {delivery.message.message_id}")
        log.info(
            "retry %s on %s as attempt %d in %g s: %s",
            delivery.message.message_id, delivery.queue, attempt, delay, reason,
        )  # fmt: skip
        self._consumers.wake_later(delivery.stored_queue, delay)

    async def settle_dead_letter(self, delivery: EmbeddedDelivery, reason: str) -> None:
        values = leases.dead_values(self._dead_letters, reason, _now())
        await self._change_held(
            delivery,
            update(messages).values(values),
            what=f"dead-lettering of {delivery.message.message_id}",
        )
        log.warning(
            "dead-lettered %s from %s after %d attempt(s): %s",
            delivery.message.message_id, delivery.queue, delivery.attempt, reason,
        )  # fmt: skip
        self._consumers.wake(self._dead_letters)

    async def settle_reply(self, delivery: EmbeddedDelivery, reply: Message) -> None:
        """The answer and the ack of the request in one transaction: never one without the other.

        When the requester waits in this very broker (the connector runs in the process that
        asked), the answer is handed over in memory once the ack is committed: a reply queue
        lives only as long as its requester, so the database would keep nothing the requester
        could outlive, and the reply's publish, claim and ack — two transactions and a poll —
        are saved.
        """
        reply_to, answer = addressed_reply(delivery.message, reply)
        request_id = delivery.request_id or ""
        if reply_to == self._reply_queue and self._replies.awaits(request_id):
            await self.settle_ack(delivery)
            self._replies.resolve(request_id, answer)
            return
        row = message_row(reply_to, answer, _now(), request_id=delivery.request_id)

        async def answer_and_ack(conn: AsyncConnection) -> int:
            await conn.execute(insert(messages).values(row))
            held = delete(messages).where(leases.held_by(delivery.claim))
            return (await conn.execute(held)).rowcount

        what = f"reply to {delivery.message.message_id}"
        try:
            done = await self._db.run(answer_and_ack, what=what)
        except Unroutable:
            requester_gone(delivery.message)
            await self.settle_ack(delivery)
            return
        _warn_if_lost(delivery, done)
        self._consumers.wake(reply_to)

    async def _change_held(self, delivery: EmbeddedDelivery, statement: Any, *, what: str) -> None:
        """Run ``statement`` on the delivery's row if this claim still holds it."""
        held = statement.where(leases.held_by(delivery.claim))
        done = await self._db.run(lambda conn: conn.execute(held), what=what)
        _warn_if_lost(delivery, done.rowcount)

    # -- leases and auto-delete queues -------------------------------------------------------

    async def _maintain(self) -> None:
        """Renew held leases and owned queues; drop auto-delete queues whose owner died."""
        interval = self._lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await self._maintain_once()
            except BrokerError:
                log.warning("lease renewal failed; retrying in %g s", interval, exc_info=True)

    async def _maintain_once(self) -> None:
        held = [d for consumer in self._consumers for d in consumer.held]
        owned = {c.queue: c.binding_key for c in self._consumers if c.auto_delete}

        async def renew(conn: AsyncConnection) -> set[leases.Claim]:
            now = _now()
            renewed = await leases.renew(conn, [d.claim for d in held], now + self._lease)
            if owned:
                await queues.renew_owned(conn, owned, now + self._lease)
            # Only after renewing our own: a stall of this process must not drop its queues.
            await queues.drop_expired(conn, now)
            return renewed

        renewed = await self._db.run(renew, what="lease renewal")
        for delivery in held:
            if delivery.claim not in renewed:
                delivery.consumer.lose(delivery)

    async def _declare_durable(self, names: list[str]) -> None:
        await self._db.run(
            lambda conn: queues.declare_durable(conn, names), what="queue declaration"
        )

    async def _declare_auto_delete(self, stored: str, binding_key: str | None) -> None:
        await self._db.run(
            lambda conn: queues.declare_auto_delete(
                conn, stored, binding_key, expires_at=_now() + self._lease
            ),
            what=f"declaration of {self._ns.port_name(stored)}",
        )

    # -- RPC ---------------------------------------------------------------------------------

    async def request(self, queue: str, message: Message, *, timeout: float) -> Message:
        await self._ensure_reply_queue()
        outgoing = replace(message, reply_to=self._reply_queue)

        async def send(request_id: str) -> None:
            stored = self._ns.stored(queue)
            await self._insert(stored, outgoing, timeout=timeout, request_id=request_id)

        return await self._replies.request(queue, send, timeout=timeout)

    async def _ensure_reply_queue(self) -> None:
        self._check_open()
        async with self._reply_lock:
            if self._reply_consumer is None:
                await self._declare_auto_delete(self._reply_queue, None)
                self._reply_consumer = self._start_consumer(
                    self._reply_queue, self._on_reply, 64, auto_delete=True
                )

    async def _on_reply(self, delivery: EmbeddedDelivery) -> None:
        self._replies.resolve(delivery.request_id or "", delivery.message)
        await delivery.ack()

    # -- depths and dead letters -------------------------------------------------------------

    async def queue_depths(self) -> dict[str, int]:
        """Messages waiting (or in flight) per durable queue: the system queues and the DLQ."""
        rows = await self._db.fetch_all(queues.depths(), what="depths")
        return {self._ns.port_name(row[0]): int(row[1]) for row in rows}

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        query = dead_letters.oldest(self._dead_letters, limit)
        rows = await self._db.fetch_all(query, what="dead letters")
        return [dead_letters.to_dead_letter(row, self._ns) for row in rows]

    async def replay_dead_letter(self, message_id: str) -> bool:
        """Back to its original queue as attempt 1; Unroutable if that queue is gone."""
        self._check_open()
        stored = await self._db.run(
            lambda conn: dead_letters.replay(conn, self._dead_letters, message_id, _now()),
            what=f"replay of {message_id}",
        )
        if stored is None:
            return False
        self._consumers.wake(stored)
        return True


def _warn_if_lost(delivery: EmbeddedDelivery, rowcount: int) -> None:
    if rowcount == 0:
        log.warning(
            "%s was no longer held by this consumer (lease lost); it may be delivered again",
            delivery.message.message_id,
        )


__all__ = ["DEFAULT_LEASE_SECONDS", "EmbeddedBroker"]
