"""The embedded adapter of the broker port: queues kept in the gateway's own database.

On the one-machine default there is no RabbitMQ, yet "accepted means durable" still holds: a
publish is one committed INSERT into ``broker_messages`` (see ``gateway.storage.broker_queue``),
so an acknowledged message survives a crash of any process. Every process that opens the same
database (SQLite file or PostgreSQL) shares the queues.

How a delivery works::

  publish(queue)     INSERT row (queue, body, …, attempt 1, available_at now)
                       FK to broker_queues: undeclared queue → Unroutable
  consumer task      claims ≤ prefetch rows: UPDATE … SET lease_owner, lease_expires_at
                       WHERE the row is available and its lease is free or expired, RETURNING
                       (SQLite: BEGIN IMMEDIATE; PostgreSQL: FOR UPDATE SKIP LOCKED)
                       woken at once by publishes of this process, else every poll_interval
  handler running    the broker renews the lease every lease/3 (a long handler is not a crash)
  ack                DELETE the row
  retry(reason)      attempt+1, available_at = now + delay, lease cleared (DLQ at max_attempts)
  dead_letter        queue := kzgate.dead-letters, with reason, original queue and time
  consumer died      its lease expires; the next claim counts it: redelivered, attempt+1
                       (a row whose redelivery would exceed max_attempts is dead-lettered:
                       a message that kills its consumer must not loop forever)
  subscription or    running handlers are cancelled and their leases released at once, so
  close()              the rows are redelivered without waiting for the lease to expire

RPC: each broker has a private reply queue ``kzgate.reply.<uuid>`` in the database, so a
responder in another process can answer; the answer is matched on a request id column (the
correlation id carries the SHEP correlation). Events: each ``subscribe_events`` declares its own
queue ``kzgate.events.sub.<uuid>`` carrying its binding key; ``publish_event`` copies the event,
in one transaction, into every such queue whose key matches (AMQP topic rules). So subscribers
in other processes receive events too, with the same retry and dead-letter handling. Reply and
event queues are auto-delete: their broker renews them while it lives; once one has expired
(its process died) any broker drops it, and its messages with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.broker.port import (
    DEAD_LETTER_QUEUE,
    SYSTEM_QUEUE_PREFIX,
    BrokerError,
    BrokerUnavailable,
    DeadLetter,
    Handler,
    Message,
    RequestTimeout,
    RetryPolicy,
    Unroutable,
    system_queue,
)
from gateway.storage.broker_queue import messages, queues
from gateway.storage.engine import write_transaction

log = logging.getLogger(__name__)

REPLY_PREFIX = "kzgate.reply."
EVENT_QUEUE_PREFIX = "kzgate.events.sub."
DEFAULT_LEASE_SECONDS = 30.0
# Bound on database operations other than publish (which has its own timeout argument).
OPERATION_TIMEOUT_SECONDS = 10.0
_T = TypeVar("_T")
# What a subscription calls: a port Handler fits (an EmbeddedDelivery is a Delivery), and the
# broker's own reply handler may use the embedded extras (request_id).
_DeliveryHandler = Callable[["EmbeddedDelivery"], Awaitable[None]]


def topic_matches(binding_key: str, routing_key: str) -> bool:
    """AMQP topic matching: words split on '.', ``*`` is one word, ``#`` zero or more."""
    return _match(tuple(binding_key.split(".")), tuple(routing_key.split(".")))


def _match(pattern: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return head in ("*", words[0]) and _match(rest, words[1:])


def _now() -> datetime:
    return datetime.now(UTC)


class EmbeddedBroker:
    """The ``Broker`` port on the gateway's database; see the module docstring."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008  (frozen dataclass: safe default)
        namespace: str = "",
        poll_interval: float = 0.5,
        lease: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self._engine = engine
        self._retry = retry
        self._ns = namespace
        self._poll_interval = poll_interval
        self._lease = timedelta(seconds=lease)
        self._reply_queue = self._name(f"{REPLY_PREFIX}{uuid.uuid4().hex}")
        self._reply_lock = asyncio.Lock()
        self._reply_consumer: EmbeddedSubscription | None = None
        self._pending: dict[str, asyncio.Future[Message]] = {}
        self._consumers: set[EmbeddedSubscription] = set()
        self._by_queue: dict[str, set[EmbeddedSubscription]] = defaultdict(set)
        self._timers: set[asyncio.TimerHandle] = set()
        self._detached: set[asyncio.Task[Any]] = set()
        self._maintenance: asyncio.Task[None] | None = None
        self._closed = False

    # -- names and properties ----------------------------------------------------------------

    def _name(self, queue: str) -> str:
        return f"{self._ns}{queue}"

    def _port_name(self, stored: str) -> str:
        return stored.removeprefix(self._ns)

    @property
    def description(self) -> str:
        url = self._engine.url.render_as_string(hide_password=True)
        return f"embedded broker in {url}" + (f" (namespace {self._ns!r})" if self._ns else "")

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, systems: list[str]) -> None:
        self._check_open()
        names = [system_queue(system_id) for system_id in systems] + [DEAD_LETTER_QUEUE]
        await self._declare_durable([self._name(name) for name in names])

    async def close(self) -> None:
        """Stop every consumer; what they held unsettled is released for redelivery."""
        if self._closed:
            return
        self._closed = True
        for consumer in list(self._consumers):
            await consumer.cancel()
        if self._maintenance is not None:
            self._maintenance.cancel()
            await asyncio.gather(self._maintenance, return_exceptions=True)
        for timer in self._timers:
            timer.cancel()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(BrokerUnavailable("the broker was closed"))
        self._pending.clear()
        # Operations that timed out still run until the database lets them go; let them end
        # before the caller disposes of the engine, but do not hang on them.
        if self._detached:
            await asyncio.wait(self._detached, timeout=1.0)

    def _check_open(self) -> None:
        if self._closed:
            raise BrokerUnavailable(f"{self.description} is closed")

    # -- publishing --------------------------------------------------------------------------

    async def publish(self, queue: str, message: Message, *, timeout: float = 10.0) -> None:
        await self._insert(self._name(queue), message, timeout=timeout)

    async def _insert(
        self,
        stored: str,
        message: Message,
        *,
        timeout: float,
        request_id: str | None = None,
    ) -> None:
        self._check_open()
        row = _row(stored, message, _now(), request_id=request_id)
        await self._run(
            lambda conn: conn.execute(insert(messages).values(row)),
            what=f"publish to {self._port_name(stored)}",
            timeout=timeout,
        )
        self._wake(stored)

    async def publish_event(
        self, routing_key: str, message: Message, *, timeout: float = 10.0
    ) -> None:
        """Copy the event into every live subscription queue whose binding key matches."""
        self._check_open()

        async def route(conn: AsyncConnection) -> list[str]:
            now = _now()
            bound = await conn.execute(
                select(queues.c.name, queues.c.binding_key).where(
                    queues.c.binding_key.is_not(None),
                    queues.c.name.startswith(self._name(EVENT_QUEUE_PREFIX), autoescape=True),
                    queues.c.expires_at > now,
                )
            )
            targets = [name for name, key in bound if topic_matches(key, routing_key)]
            rows = [_row(name, message, now, routing_key=routing_key) for name in targets]
            if rows:
                await conn.execute(insert(messages), rows)
            return targets

        targets = await self._run(route, what=f"publish event {routing_key}", timeout=timeout)
        for stored in targets:
            self._wake(stored)

    # -- consuming ---------------------------------------------------------------------------

    async def consume(
        self, queue: str, handler: Handler, *, prefetch: int = 16
    ) -> EmbeddedSubscription:
        self._check_open()
        stored = self._name(queue)
        if queue.startswith(SYSTEM_QUEUE_PREFIX) or queue == DEAD_LETTER_QUEUE:
            # As start() would: a consumer may come up before the publisher declared anything.
            await self._declare_durable([stored, self._name(DEAD_LETTER_QUEUE)])
        elif not await self._queue_exists(stored):
            raise BrokerError(f"no queue {queue!r} to consume")
        return self._start_consumer(stored, handler, prefetch, auto_delete=False)

    async def subscribe_events(self, binding_key: str, handler: Handler) -> EmbeddedSubscription:
        self._check_open()
        stored = self._name(f"{EVENT_QUEUE_PREFIX}{uuid.uuid4().hex}")
        await self._declare_auto_delete(stored, binding_key)
        return self._start_consumer(stored, handler, 16, auto_delete=True, binding_key=binding_key)

    def _start_consumer(
        self,
        stored: str,
        handler: _DeliveryHandler,
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
        self._by_queue[stored].add(consumer)
        consumer.start()
        if self._maintenance is None:
            self._maintenance = asyncio.create_task(self._maintain(), name="broker leases")
        return consumer

    def _forget(self, consumer: EmbeddedSubscription) -> None:
        self._consumers.discard(consumer)
        self._by_queue[consumer.queue].discard(consumer)

    def _wake(self, stored: str) -> None:
        for consumer in self._by_queue.get(stored, ()):
            consumer.wake.set()

    def _wake_later(self, stored: str, delay: float) -> None:
        """A retried row becomes available in ``delay`` s: wake its consumers then, not later."""

        def fire() -> None:
            self._timers.discard(timer)
            self._wake(stored)

        timer = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(timer)

    async def _claim(self, stored: str, limit: int) -> list[EmbeddedDelivery]:
        # A plain read first: an idle poll then never takes SQLite's write lock.
        if not await self._run(lambda conn: _any_ready(conn, stored), what="poll", write=False):
            return []
        token = uuid.uuid4().hex
        rows = await self._run(
            lambda conn: self._claim_on(conn, stored, limit, token), what=f"claim on {stored}"
        )
        return [self._delivery(row, token) for row in rows]

    async def _claim_on(
        self, conn: AsyncConnection, stored: str, limit: int, token: str
    ) -> list[Row[Any]]:
        now = _now()
        candidates = (
            select(messages.c.id)
            .where(_ready(stored, now))
            .order_by(messages.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite holds the write lock
        )
        previous_holder = messages.c.lease_owner.is_not(None)
        claim = (
            update(messages)
            .where(messages.c.id.in_(candidates.scalar_subquery()))
            .values(
                # SET sees the old row: a row that had a holder is a redelivery.
                attempt=case((previous_holder, messages.c.attempt + 1), else_=messages.c.attempt),
                redelivered=previous_holder,
                lease_owner=token,
                lease_expires_at=now + self._lease,
            )
            .returning(*messages.c)
        )
        rows = sorted((await conn.execute(claim)).all(), key=lambda row: row.id)
        worn = [row for row in rows if row.attempt > self._retry.max_attempts]
        if worn:
            await self._bury_worn(conn, worn, now)
        return [row for row in rows if row.attempt <= self._retry.max_attempts]

    async def _bury_worn(self, conn: AsyncConnection, rows: list[Row[Any]], now: datetime) -> None:
        """Dead-letter rows whose consumers kept dying: they would loop forever otherwise."""
        for row in rows:
            reason = f"its consumer stopped before settling it {row.attempt - 1} time(s)"
            log.warning("dead-lettered %s from %s: %s", row.message_id, row.queue, reason)
            await conn.execute(
                update(messages)
                .where(messages.c.id == row.id)
                .values(attempt=row.attempt - 1, **self._dead_values(reason, now))
            )

    def _delivery(self, row: Row[Any], token: str) -> EmbeddedDelivery:
        consumer_queue = self._port_name(row.queue)
        return EmbeddedDelivery(self, row, token, consumer_queue)

    # -- settling ----------------------------------------------------------------------------

    async def _ack(self, delivery: EmbeddedDelivery) -> None:
        done = await self._run(
            lambda conn: conn.execute(delete(messages).where(_held_by(delivery))),
            what=f"ack of {delivery.message.message_id}",
        )
        _warn_if_lost(delivery, done.rowcount)

    async def _retry_later(self, delivery: EmbeddedDelivery, reason: str) -> None:
        attempt = delivery.attempt + 1
        delay = self._retry.delay_before(attempt)
        values = {
            "attempt": attempt,
            "available_at": _now() + timedelta(seconds=delay),
            "lease_owner": None,
            "lease_expires_at": None,
            "redelivered": False,
        }
        done = await self._run(
            lambda conn: conn.execute(update(messages).where(_held_by(delivery)).values(values)),
            what=f"retry of {delivery.message.message_id}",
        )
        _warn_if_lost(delivery, done.rowcount)
        log.info(
            "retry %s on %s as attempt %d in %g s: %s",
            delivery.message.message_id, delivery.queue, attempt, delay, reason,
        )  # fmt: skip
        self._wake_later(delivery.stored_queue, delay)

    async def _dead_letter(self, delivery: EmbeddedDelivery, reason: str) -> None:
        values = self._dead_values(reason, _now())
        done = await self._run(
            lambda conn: conn.execute(update(messages).where(_held_by(delivery)).values(values)),
            what=f"dead-lettering of {delivery.message.message_id}",
        )
        _warn_if_lost(delivery, done.rowcount)
        log.warning(
            "dead-lettered %s from %s after %d attempt(s): %s",
            delivery.message.message_id, delivery.queue, delivery.attempt, reason,
        )  # fmt: skip
        self._wake(self._name(DEAD_LETTER_QUEUE))

    def _dead_values(self, reason: str, now: datetime) -> dict[str, Any]:
        return {
            "queue": self._name(DEAD_LETTER_QUEUE),
            # A dead letter consumed from the DLQ and dead-lettered again keeps its origin.
            "dead_from_queue": func.coalesce(messages.c.dead_from_queue, messages.c.queue),
            "dead_reason": reason,
            "dead_at": now,
            "available_at": now,
            "lease_owner": None,
            "lease_expires_at": None,
            "redelivered": False,
        }

    async def _reply(self, delivery: EmbeddedDelivery, reply: Message) -> None:
        """The answer and the ack of the request in one transaction: never one without the other."""
        request = delivery.message
        if not request.reply_to:
            raise BrokerError(f"{request.message_id} is not a request: no reply_to")
        answer = replace(reply, correlation_id=reply.correlation_id or request.correlation_id)
        # reply_to is the requester's real queue name: no namespace is added.
        row = _row(request.reply_to, answer, _now(), request_id=delivery.request_id)

        async def answer_and_ack(conn: AsyncConnection) -> int:
            await conn.execute(insert(messages).values(row))
            return (await conn.execute(delete(messages).where(_held_by(delivery)))).rowcount

        try:
            done = await self._run(answer_and_ack, what=f"reply to {request.message_id}")
        except Unroutable:
            # The requester is gone (closed or crashed): nobody can use the answer any more.
            log.warning("reply to %s dropped: the requester is gone", request.message_id)
            await self._ack(delivery)
            return
        _warn_if_lost(delivery, done)
        self._wake(request.reply_to)

    async def _release(self, deliveries: Sequence[EmbeddedDelivery]) -> None:
        """End the leases now (keeping the holder, so the next claim counts a redelivery)."""
        if not deliveries:
            return
        ids = [d.row_id for d in deliveries]
        tokens = {d.token for d in deliveries}
        release = (
            update(messages)
            .where(messages.c.id.in_(ids), messages.c.lease_owner.in_(tokens))
            .values(lease_expires_at=_now())
        )
        try:
            await self._run(lambda conn: conn.execute(release), what="lease release")
        except BrokerError:
            log.warning("could not release %d lease(s); they will expire", len(ids))
        for stored in {d.stored_queue for d in deliveries}:
            self._wake(stored)

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

        async def renew(conn: AsyncConnection) -> set[tuple[int, str]]:
            now = _now()
            renewed = await _renew_leases(conn, held, now + self._lease)
            if owned:
                await _renew_queues(conn, owned, now + self._lease)
            # Only after renewing our own: a stall of this process must not drop its queues.
            await conn.execute(delete(queues).where(queues.c.expires_at <= now))
            return renewed

        renewed = await self._run(renew, what="lease renewal")
        for delivery in held:
            if (delivery.row_id, delivery.token) not in renewed:
                delivery.consumer.lose(delivery)

    # -- RPC ---------------------------------------------------------------------------------

    async def request(self, queue: str, message: Message, *, timeout: float) -> Message:
        await self._ensure_reply_queue()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        request_id = uuid.uuid4().hex
        future: asyncio.Future[Message] = loop.create_future()
        self._pending[request_id] = future
        outgoing = replace(message, reply_to=self._reply_queue)
        try:
            await self._insert(self._name(queue), outgoing, timeout=timeout, request_id=request_id)
            return await asyncio.wait_for(future, max(deadline - loop.time(), 0.0))
        except TimeoutError as exc:
            raise RequestTimeout(f"no reply from {queue} in {timeout:g} s") from exc
        finally:
            self._pending.pop(request_id, None)

    async def _ensure_reply_queue(self) -> None:
        self._check_open()
        async with self._reply_lock:
            if self._reply_consumer is None:
                await self._declare_auto_delete(self._reply_queue, None)
                self._reply_consumer = self._start_consumer(
                    self._reply_queue, self._on_reply, 64, auto_delete=True
                )

    async def _on_reply(self, delivery: EmbeddedDelivery) -> None:
        future = self._pending.pop(delivery.request_id or "", None)
        if future is None or future.done():
            log.info("late or unknown reply %s dropped", delivery.message.message_id)
        else:
            future.set_result(delivery.message)
        await delivery.ack()

    # -- depths ------------------------------------------------------------------------------

    async def queue_depths(self) -> dict[str, int]:
        """Messages waiting (or in flight) per durable queue: the system queues and the DLQ."""
        query = (
            select(messages.c.queue, func.count())
            .join(queues, queues.c.name == messages.c.queue)
            .where(queues.c.expires_at.is_(None), queues.c.binding_key.is_(None))
            .group_by(messages.c.queue)
        )
        rows = await self._run(lambda conn: _fetch_all(conn, query), what="depths", write=False)
        return {self._port_name(row[0]): int(row[1]) for row in rows}

    # -- dead letters ------------------------------------------------------------------------

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        query = (
            select(messages)
            .where(messages.c.queue == self._name(DEAD_LETTER_QUEUE))
            .order_by(messages.c.dead_at, messages.c.id)
            .limit(limit)
        )
        rows = await self._run(
            lambda conn: _fetch_all(conn, query), what="dead letters", write=False
        )
        return [self._to_dead_letter(row) for row in rows]

    def _to_dead_letter(self, row: Row[Any]) -> DeadLetter:
        return DeadLetter(
            message=_message(row),
            queue=self._port_name(row.dead_from_queue or ""),
            reason=row.dead_reason or "",
            attempts=row.attempt,
            dead_lettered_at=row.dead_at,
        )

    async def replay_dead_letter(self, message_id: str) -> bool:
        """Back to its original queue as attempt 1; Unroutable if that queue is gone."""

        async def replay(conn: AsyncConnection) -> str | None:
            found = await conn.execute(
                select(messages.c.id, messages.c.dead_from_queue)
                .where(
                    messages.c.queue == self._name(DEAD_LETTER_QUEUE),
                    messages.c.message_id == message_id,
                )
                .order_by(messages.c.id)
                .limit(1)
                .with_for_update()
            )
            row = found.first()
            if row is None:
                return None
            await conn.execute(
                update(messages).where(messages.c.id == row.id).values(_fresh(row.dead_from_queue))
            )
            return str(row.dead_from_queue)

        self._check_open()
        stored = await self._run(replay, what=f"replay of {message_id}")
        if stored is None:
            return False
        self._wake(stored)
        return True

    # -- queues ------------------------------------------------------------------------------

    async def _declare_durable(self, names: Iterable[str]) -> None:
        rows = [{"name": name} for name in dict.fromkeys(names)]

        async def declare(conn: AsyncConnection) -> None:
            await conn.execute(_upsert(conn).values(rows).on_conflict_do_nothing())

        await self._run(declare, what="queue declaration")

    async def _declare_auto_delete(self, name: str, binding_key: str | None) -> None:
        async def declare(conn: AsyncConnection) -> None:
            expires_at = _now() + self._lease
            statement = _upsert(conn).values(
                name=name, binding_key=binding_key, expires_at=expires_at
            )
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[queues.c.name], set_={"expires_at": expires_at}
                )
            )

        await self._run(declare, what=f"declaration of {self._port_name(name)}")

    async def _delete_queue(self, name: str) -> None:
        try:
            await self._run(
                lambda conn: conn.execute(delete(queues).where(queues.c.name == name)),
                what=f"deletion of {self._port_name(name)}",
            )
        except BrokerError:
            log.warning("could not delete %s; it expires on its own", name, exc_info=True)

    async def _queue_exists(self, name: str) -> bool:
        query = select(queues.c.name).where(queues.c.name == name)
        found = await self._run(
            lambda conn: _fetch_all(conn, query), what="queue look-up", write=False
        )
        return bool(found)

    # -- database access ---------------------------------------------------------------------

    async def _run(
        self,
        work: Callable[[AsyncConnection], Awaitable[_T]],
        *,
        what: str,
        timeout: float = OPERATION_TIMEOUT_SECONDS,
        write: bool = True,
    ) -> _T:
        """One transaction, bounded in time, its failures as port errors.

        The transaction runs in a task of its own: a timed-out SQLite statement keeps its
        thread until the busy timeout, and the caller must not wait for that.
        """
        task = asyncio.create_task(self._transaction(work, write=write))
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout)
        except IntegrityError as exc:
            # The only constraint a broker write can break is the queue's foreign key.
            raise Unroutable(f"{what}: no such queue") from exc
        except TimeoutError as exc:
            task.cancel()
            raise BrokerUnavailable(f"{what}: no answer from {self.description} in time") from exc
        except (SQLAlchemyError, OSError) as exc:
            raise BrokerUnavailable(f"{what} failed on {self.description}: {exc!r}") from exc
        finally:
            if not task.done():
                self._detach(task)

    async def _transaction(
        self, work: Callable[[AsyncConnection], Awaitable[_T]], *, write: bool
    ) -> _T:
        if write:
            async with write_transaction(self._engine) as conn:
                return await work(conn)
        async with self._engine.connect() as conn:
            return await work(conn)

    def _detach(self, task: asyncio.Task[Any]) -> None:
        """Let an abandoned operation finish in the background without an unread exception."""
        self._detached.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._detached.discard(finished)
            if not finished.cancelled():
                finished.exception()

        task.add_done_callback(done)


class EmbeddedDelivery:
    """One claimed row as a port ``Delivery``; settled exactly once."""

    def __init__(self, broker: EmbeddedBroker, row: Row[Any], token: str, queue: str) -> None:
        self._broker = broker
        self.consumer: EmbeddedSubscription  # set by the consumer that claimed it
        self.row_id: int = row.id
        self.token = token
        self.stored_queue: str = row.queue
        self.request_id: str | None = row.request_id
        self.routing_key: str | None = row.routing_key
        self._message = _message(row)
        self._queue = queue
        self._attempt: int = row.attempt
        self._redelivered = bool(row.redelivered)
        self.settled = False

    @property
    def message(self) -> Message:
        return self._message

    @property
    def queue(self) -> str:
        return self._queue

    @property
    def attempt(self) -> int:
        return self._attempt

    @property
    def redelivered(self) -> bool:
        return self._redelivered

    async def ack(self) -> None:
        await self._settle(lambda: self._broker._ack(self))

    async def retry(self, reason: str) -> None:
        if self._attempt >= self._broker.retry_policy.max_attempts:
            await self.dead_letter(reason)
            return
        await self._settle(lambda: self._broker._retry_later(self, reason))

    async def dead_letter(self, reason: str) -> None:
        await self._settle(lambda: self._broker._dead_letter(self, reason))

    async def reply(self, message: Message) -> None:
        await self._settle(lambda: self._broker._reply(self, message))

    async def _settle(self, operation: Callable[[], Awaitable[None]]) -> None:
        if self.settled:
            raise BrokerError(f"delivery of {self._message.message_id} is already settled")
        self.settled = True
        try:
            await operation()
        except BaseException:
            self.settled = False  # still ours to settle: the row was not changed
            raise
        self.consumer.settled(self)


class EmbeddedSubscription:
    """A consumer of one queue: a task claiming rows, a task per delivery running the handler."""

    def __init__(
        self,
        broker: EmbeddedBroker,
        queue: str,
        handler: _DeliveryHandler,
        prefetch: int,
        *,
        auto_delete: bool,
        binding_key: str | None = None,
    ) -> None:
        self._broker = broker
        self.queue = queue
        self._handler = handler
        self._prefetch = prefetch
        self.auto_delete = auto_delete
        self.binding_key = binding_key
        self.wake = asyncio.Event()
        # Claimed and not settled, whether or not the handler still runs (as AMQP's unacked).
        self.held: set[EmbeddedDelivery] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None
        self._cancelled = False

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name=f"consume {self.queue}")

    async def _run(self) -> None:
        while not self._cancelled:
            self.wake.clear()
            free = self._prefetch - len(self.held)
            if free > 0:
                claimed = await self._claim(free)
                if self._cancelled:
                    # Cancelled while claiming: cancel() releases these with the rest.
                    self.held.update(claimed)
                    return
                for delivery in claimed:
                    self._deliver(delivery)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self._broker._poll_interval)

    async def _claim(self, limit: int) -> list[EmbeddedDelivery]:
        try:
            claimed = await self._broker._claim(self.queue, limit)
        except BrokerError:
            log.warning("cannot claim from %s", self.queue, exc_info=True)
            return []
        for delivery in claimed:
            delivery.consumer = self
        return claimed

    def _deliver(self, delivery: EmbeddedDelivery) -> None:
        self.held.add(delivery)
        task = asyncio.create_task(self._handle(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, delivery: EmbeddedDelivery) -> None:
        """A handler that raises before settling gets its delivery retried (a transient failure)."""
        try:
            await self._handler(delivery)
        except Exception as exc:
            log.exception("handler failed on %s", delivery.message.message_id)
            if delivery.settled:
                return
            try:
                await delivery.retry(f"handler raised {exc!r}")
            except BrokerError:
                # Still held: its lease is released on cancel, or expires if renewals fail.
                log.exception("could not retry %s", delivery.message.message_id)

    def settled(self, delivery: EmbeddedDelivery) -> None:
        self.held.discard(delivery)
        self.wake.set()  # a prefetch slot is free

    def lose(self, delivery: EmbeddedDelivery) -> None:
        """The lease was not renewed (this process stalled): the row belongs to others now."""
        if delivery in self.held and not delivery.settled:
            log.warning("lease on %s lost; it will be redelivered", delivery.message.message_id)
            self.held.discard(delivery)
            self.wake.set()

    async def cancel(self) -> None:
        """Stop claiming and the running handlers; release what is held for redelivery."""
        if self._cancelled:
            return
        self._cancelled = True
        self._broker._forget(self)
        current = asyncio.current_task()
        if self._loop is not None and self._loop is not current:
            # Not cancelled: a claim cut short would still commit, leaving leases nobody holds.
            self.wake.set()
            await asyncio.gather(self._loop, return_exceptions=True)
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        unsettled = [d for d in self.held if not d.settled]
        self.held.clear()
        if self.auto_delete:
            await self._broker._delete_queue(self.queue)  # its rows go with it
        else:
            await self._broker._release(unsettled)


def _row(
    stored: str,
    message: Message,
    now: datetime,
    *,
    request_id: str | None = None,
    routing_key: str | None = None,
) -> dict[str, Any]:
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


def _fresh(stored: str) -> dict[str, Any]:
    """The columns of a row put back into ``stored`` as a new message (attempt 1)."""
    return {
        "queue": stored,
        "attempt": 1,
        "redelivered": False,
        "available_at": _now(),
        "lease_owner": None,
        "lease_expires_at": None,
        "dead_reason": None,
        "dead_from_queue": None,
        "dead_at": None,
    }


def _message(row: Row[Any]) -> Message:
    return Message(
        body=bytes(row.body),
        message_id=row.message_id,
        correlation_id=row.correlation_id,
        headers=dict(row.headers),
        content_type=row.content_type,
        reply_to=row.reply_to,
    )


async def _fetch_all(conn: AsyncConnection, query: Select[Any]) -> Sequence[Row[Any]]:
    return (await conn.execute(query)).all()


def _ready(stored: str, now: datetime) -> ColumnElement[bool]:
    """Rows of ``stored`` that may be delivered now: due, and nobody holds a live lease."""
    lease_free = or_(messages.c.lease_expires_at.is_(None), messages.c.lease_expires_at <= now)
    return and_(messages.c.queue == stored, messages.c.available_at <= now, lease_free)


async def _any_ready(conn: AsyncConnection, stored: str) -> bool:
    query = select(messages.c.id).where(_ready(stored, _now())).limit(1)
    return (await conn.execute(query)).first() is not None


def _held_by(delivery: EmbeddedDelivery) -> ColumnElement[bool]:
    """Still this delivery's row: a lost lease must not let it settle someone else's claim."""
    return and_(messages.c.id == delivery.row_id, messages.c.lease_owner == delivery.token)


def _warn_if_lost(delivery: EmbeddedDelivery, rowcount: int) -> None:
    if rowcount == 0:
        log.warning(
            "%s was no longer held by this consumer (lease lost); it may be delivered again",
            delivery.message.message_id,
        )


async def _renew_leases(
    conn: AsyncConnection, held: list[EmbeddedDelivery], until: datetime
) -> set[tuple[int, str]]:
    if not held:
        return set()
    result = await conn.execute(
        update(messages)
        .where(
            messages.c.id.in_([d.row_id for d in held]),
            messages.c.lease_owner.in_({d.token for d in held}),
        )
        .values(lease_expires_at=until)
        .returning(messages.c.id, messages.c.lease_owner)
    )
    return {(row.id, row.lease_owner) for row in result}


async def _renew_queues(
    conn: AsyncConnection, owned: dict[str, str | None], until: datetime
) -> None:
    result = await conn.execute(
        update(queues)
        .where(queues.c.name.in_(owned))
        .values(expires_at=until)
        .returning(queues.c.name)
    )
    missing = set(owned) - set(result.scalars())
    if missing:
        # This process stalled past the expiry and another dropped them (and what they held).
        log.warning("auto-delete queue(s) %s had expired; declared again", sorted(missing))
        rows = [{"name": n, "binding_key": owned[n], "expires_at": until} for n in missing]
        await conn.execute(_upsert(conn).values(rows).on_conflict_do_nothing())


def _upsert(conn: AsyncConnection) -> Any:
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return dialect_insert(queues)
