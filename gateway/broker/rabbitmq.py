"""The RabbitMQ adapter of the broker port (aio-pika, robust connection, publisher confirms).

Topology (every name below is prefixed with the adapter's ``namespace``, "" in production)::

  publish(queue)            default exchange "" (routing key = queue name, mandatory)
        │                    no such queue → Basic.Return → Unroutable
        ▼
  kzgate.system.<id>        durable quorum queue, manual acks, per-consumer prefetch
        │  Delivery.retry(reason), attempt n+1 ≤ max_attempts
        │    copy published (confirmed) first, then the original is acked
        ▼
  kzgate.retry.<ms>ms       fanout exchange (durable), one per delay level of the RetryPolicy
        ▼
  kzgate.retry.<ms>ms       durable classic queue: x-message-ttl=<ms>,
        │                    x-dead-letter-exchange="" (no dead-letter routing key, so the
        │                    message keeps the routing key it was published with: its queue)
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
Dead-lettering out of the delay queues is at-most-once in RabbitMQ: a message whose original
queue was deleted while it waited is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, DeliveryError, PublishError
from yarl import URL

from gateway.broker.port import (
    DEAD_LETTER_QUEUE,
    EVENTS_EXCHANGE,
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

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-kzgate-attempt"
REQUEST_ID_HEADER = "x-kzgate-request-id"
DEAD_REASON_HEADER = "x-kzgate-dead-reason"
ORIGINAL_QUEUE_HEADER = "x-kzgate-original-queue"
DEAD_AT_HEADER = "x-kzgate-dead-lettered-at"
RETRY_PREFIX = "kzgate.retry."
REPLY_PREFIX = "kzgate.reply."
EVENT_QUEUE_PREFIX = "kzgate.events.sub."
# Headers the adapter itself writes or RabbitMQ adds; they are not part of the Message.
_INTERNAL_HEADERS = frozenset(
    {
        ATTEMPT_HEADER,
        REQUEST_ID_HEADER,
        DEAD_REASON_HEADER,
        ORIGINAL_QUEUE_HEADER,
        DEAD_AT_HEADER,
        "x-delivery-count",
        "x-death",
        "x-first-death-exchange",
        "x-first-death-queue",
        "x-first-death-reason",
        "x-last-death-exchange",
        "x-last-death-queue",
        "x-last-death-reason",
    }
)
_SYSTEM_QUEUE_ARGS = {"x-queue-type": "quorum"}
_DEFAULT_CONTENT_TYPE = Message(b"", "").content_type
_T = TypeVar("_T")


class RabbitBroker:
    """The ``Broker`` port on RabbitMQ; see the module docstring for the topology."""

    def __init__(
        self,
        url: str,
        *,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008  (frozen dataclass: safe default)
        namespace: str = "",
        confirm_timeout: float = 10.0,
    ) -> None:
        self._url = url
        self._retry = retry
        self._ns = namespace
        self._confirm_timeout = confirm_timeout
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None  # publishing, with confirms
        self._reply_queue_name = self._name(f"{REPLY_PREFIX}{uuid.uuid4().hex}")
        self._pending: dict[str, asyncio.Future[Message]] = {}
        self._subscriptions: list[_RabbitSubscription] = []
        self._durable_queues: set[str] = set()
        self._durable_exchanges: set[str] = set()

    # -- names ------------------------------------------------------------------------------

    def _name(self, name: str) -> str:
        return f"{self._ns}{name}"

    def _port_name(self, amqp_name: str) -> str:
        """The queue name as the port knows it (without the namespace)."""
        return amqp_name.removeprefix(self._ns)

    def _delay_name(self, attempt: int) -> str:
        millis = round(self._retry.delay_before(attempt) * 1000)
        return self._name(f"{RETRY_PREFIX}{millis}ms")

    @property
    def description(self) -> str:
        url = URL(self._url)
        shown = url.with_password(None).with_user(None) if url.user else url
        return f"RabbitMQ at {shown}" + (f" (namespace {self._ns!r})" if self._ns else "")

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, systems: list[str]) -> None:
        try:
            self._connection = await asyncio.wait_for(
                aio_pika.connect_robust(self._url, **self._reconnect_options()),
                self._confirm_timeout,
            )
            # The topology is declared on the long-lived publishing channel: a robust channel
            # re-declares what it declared when it reconnects (e.g. to a wiped broker).
            self._channel = await self._open_channel(publisher_confirms=True)
            await self._declare_topology(systems)
        except (TimeoutError, *CONNECTION_EXCEPTIONS) as exc:
            await self.close()
            raise BrokerUnavailable(f"cannot reach {self.description}: {exc!r}") from exc

    def _reconnect_options(self) -> dict[str, Any]:
        # aio-pika waits 5 s between reconnect attempts; 1 s brings consumers back sooner
        # after a broker restart. A reconnect_interval in the URL wins.
        return {} if "reconnect_interval" in URL(self._url).query else {"reconnect_interval": 1}

    async def _open_channel(self, *, publisher_confirms: bool) -> AbstractRobustChannel:
        assert self._connection is not None, "start() first"
        channel = await self._connection.channel(
            publisher_confirms=publisher_confirms, on_return_raises=publisher_confirms
        )
        return channel  # type: ignore[return-value]

    async def _declare_topology(self, systems: list[str]) -> None:
        channel = self._publisher()
        for system_id in systems:
            await self._declare_durable_queue(channel, system_queue(system_id), _SYSTEM_QUEUE_ARGS)
        await self._declare_durable_queue(channel, DEAD_LETTER_QUEUE)
        for attempt in range(2, max(self._retry.max_attempts, 2) + 1):
            await self._declare_delay_level(channel, attempt)
        await self._declare_durable_exchange(channel, EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC)
        reply_queue = await channel.declare_queue(
            self._reply_queue_name, exclusive=True, auto_delete=True
        )
        await reply_queue.consume(self._on_reply, no_ack=True)

    async def _declare_durable_queue(
        self, channel: AbstractRobustChannel, name: str, arguments: dict[str, Any] | None = None
    ) -> AbstractQueue:
        self._durable_queues.add(self._name(name))
        return await channel.declare_queue(self._name(name), durable=True, arguments=arguments)

    async def _declare_durable_exchange(
        self, channel: AbstractRobustChannel, name: str, kind: aio_pika.ExchangeType
    ) -> None:
        self._durable_exchanges.add(self._name(name))
        await channel.declare_exchange(self._name(name), kind, durable=True)

    async def _declare_delay_level(self, channel: AbstractRobustChannel, attempt: int) -> None:
        name = self._port_name(self._delay_name(attempt))
        millis = round(self._retry.delay_before(attempt) * 1000)
        await self._declare_durable_exchange(channel, name, aio_pika.ExchangeType.FANOUT)
        queue = await self._declare_durable_queue(
            channel, name, {"x-message-ttl": millis, "x-dead-letter-exchange": ""}
        )
        await queue.bind(self._name(name))

    async def delete_topology(self) -> None:
        """Delete every durable queue and exchange start() declared, messages included.

        For tearing down a test namespace; never call it on the production namespace.
        """
        for subscription in list(self._subscriptions):
            await subscription.cancel()  # else the broker cancels them and aio-pika reconnects
        channel = await self._guarded(self._open_channel(publisher_confirms=False))
        try:
            underlay = await channel.get_underlay_channel()
            for queue in sorted(self._durable_queues):
                await underlay.queue_delete(queue)
            for exchange in sorted(self._durable_exchanges):
                await underlay.exchange_delete(exchange)
        finally:
            await _close_quietly(channel)

    async def close(self) -> None:
        for subscription in list(self._subscriptions):
            await subscription.cancel()
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        if self._connection is not None:
            with contextlib.suppress(*CONNECTION_EXCEPTIONS):
                await self._connection.close()
        self._connection = self._channel = None

    def _publisher(self) -> AbstractRobustChannel:
        if self._channel is None:
            raise BrokerUnavailable("the RabbitMQ broker is not started")
        return self._channel

    # -- publishing --------------------------------------------------------------------------

    async def publish(self, queue: str, message: Message, *, timeout: float = 10.0) -> None:
        await self._publish("", self._name(queue), _to_amqp(message), timeout=timeout)

    async def publish_event(
        self, routing_key: str, message: Message, *, timeout: float = 10.0
    ) -> None:
        await self._publish(
            self._name(EVENTS_EXCHANGE),
            routing_key,
            _to_amqp(message),
            timeout=timeout,
            mandatory=False,  # an event nobody listens to is not an error
        )

    async def _publish(
        self,
        exchange: str,
        routing_key: str,
        message: aio_pika.Message,
        *,
        timeout: float | None = None,
        mandatory: bool = True,
    ) -> None:
        """Publish and wait for the broker's confirm; map every failure to a port error."""
        channel = self._publisher()

        async def confirmed() -> None:
            underlay = await channel.get_underlay_channel()
            await underlay.basic_publish(
                message.body,
                exchange=exchange,
                routing_key=routing_key,
                properties=message.properties,
                mandatory=mandatory,
            )

        where = f"{exchange or '(default)'}/{routing_key}"
        try:
            # A publish on a robust connection that is reconnecting waits for it: bound it.
            await asyncio.wait_for(confirmed(), timeout or self._confirm_timeout)
        except PublishError as exc:
            raise Unroutable(f"no queue is bound for {where}") from exc
        except DeliveryError as exc:
            raise BrokerUnavailable(f"the broker refused {where} (nack)") from exc
        except TimeoutError as exc:
            raise BrokerUnavailable(f"no confirm for {where} in time") from exc
        except CONNECTION_EXCEPTIONS as exc:
            raise BrokerUnavailable(f"publish to {where} failed: {exc!r}") from exc

    # -- consuming ---------------------------------------------------------------------------

    async def consume(
        self, queue: str, handler: Handler, *, prefetch: int = 16
    ) -> _RabbitSubscription:
        channel = await self._guarded(self._open_channel(publisher_confirms=False))
        try:
            await self._guarded(channel.set_qos(prefetch_count=prefetch))
            amqp_queue = await self._consumable_queue(channel, queue)
        except BaseException:
            await _close_quietly(channel)
            raise
        return await self._subscribe(channel, amqp_queue, handler)

    async def _consumable_queue(self, channel: AbstractRobustChannel, queue: str) -> AbstractQueue:
        """Declare the queue the way start() does, so a consumer can come up first."""
        if queue.startswith(_system_prefix()):
            return await self._guarded(
                self._declare_durable_queue(channel, queue, _SYSTEM_QUEUE_ARGS)
            )
        if queue == DEAD_LETTER_QUEUE:
            return await self._guarded(self._declare_durable_queue(channel, queue))
        # Anything else (an events or reply queue) must exist already.
        return await self._guarded(channel.declare_queue(self._name(queue), passive=True))

    async def subscribe_events(self, binding_key: str, handler: Handler) -> _RabbitSubscription:
        channel = await self._guarded(self._open_channel(publisher_confirms=False))
        try:
            amqp_queue = await self._guarded(
                channel.declare_queue(
                    self._name(f"{EVENT_QUEUE_PREFIX}{uuid.uuid4().hex}"),
                    exclusive=True,
                    auto_delete=True,
                )
            )
            await self._guarded(amqp_queue.bind(self._name(EVENTS_EXCHANGE), binding_key))
        except BaseException:
            await _close_quietly(channel)
            raise
        return await self._subscribe(channel, amqp_queue, handler)

    async def _subscribe(
        self, channel: AbstractRobustChannel, amqp_queue: AbstractQueue, handler: Handler
    ) -> _RabbitSubscription:
        async def on_message(incoming: AbstractIncomingMessage) -> None:
            delivery = _RabbitDelivery(self, incoming, amqp_queue.name)
            if delivery.attempt > self._retry.max_attempts:
                # Its consumers kept dying before settling it: it would loop forever otherwise.
                await delivery.bury_worn()
                return
            await _run_handler(handler, delivery)

        tag = await self._guarded(amqp_queue.consume(on_message, no_ack=False))
        subscription = _RabbitSubscription(self, channel, amqp_queue, tag)
        self._subscriptions.append(subscription)
        return subscription

    async def _guarded(self, operation: Awaitable[_T]) -> _T:
        """Run a broker operation within the confirm timeout, as a port error on failure."""
        try:
            return await asyncio.wait_for(operation, self._confirm_timeout)
        except TimeoutError as exc:
            raise BrokerUnavailable("the broker did not answer in time") from exc
        except aiormq.exceptions.ChannelNotFoundEntity as exc:
            raise BrokerError(f"not found on the broker: {exc}") from exc
        except CONNECTION_EXCEPTIONS as exc:
            raise BrokerUnavailable(f"broker operation failed: {exc!r}") from exc

    # -- retry and dead letters --------------------------------------------------------------

    async def _send_retry(self, delivery: _RabbitDelivery, reason: str) -> None:
        attempt = delivery.attempt + 1
        copy = _to_amqp(delivery.message, {ATTEMPT_HEADER: str(attempt)})
        # Routing key = the original queue: the delay queue dead-letters with it when it expires.
        await self._publish(self._delay_name(attempt), self._name(delivery.queue), copy)
        log.info(
            "retry %s on %s as attempt %d: %s",
            delivery.message.message_id,
            delivery.queue,
            attempt,
            reason,
        )

    async def _send_dead_letter(
        self, delivery: _RabbitDelivery, reason: str, attempts: int | None = None
    ) -> None:
        attempts = delivery.attempt if attempts is None else attempts
        headers = {
            ATTEMPT_HEADER: str(attempts),
            DEAD_REASON_HEADER: reason,
            ORIGINAL_QUEUE_HEADER: delivery.queue,
            DEAD_AT_HEADER: datetime.now(UTC).isoformat(),
        }
        copy = _to_amqp(delivery.message, headers)
        await self._publish("", self._name(DEAD_LETTER_QUEUE), copy)
        log.warning(
            "dead-lettered %s from %s after %d attempt(s): %s",
            delivery.message.message_id,
            delivery.queue,
            attempts,
            reason,
        )

    async def queue_depths(self) -> dict[str, int]:
        """Ready messages per durable queue (passive declares: nothing is created or changed)."""
        channel = await self._guarded(self._open_channel(publisher_confirms=False))
        try:
            depths = {}
            for name in sorted(self._durable_queues):
                queue = await self._guarded(channel.declare_queue(name, passive=True))
                depths[self._port_name(name)] = int(queue.declaration_result.message_count or 0)
            return depths
        finally:
            await channel.close()

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        async def read(channel: AbstractRobustChannel, queue: AbstractQueue) -> list[DeadLetter]:
            found: list[DeadLetter] = []
            while len(found) < limit:
                incoming = await queue.get(no_ack=False, fail=False)
                if incoming is None:
                    break
                found.append(self._to_dead_letter(incoming))
            return found

        # Closing the channel without acking puts them back, in their order.
        return await self._with_dead_letter_queue(read)

    async def replay_dead_letter(self, message_id: str) -> bool:
        async def replay(channel: AbstractRobustChannel, queue: AbstractQueue) -> bool:
            while (incoming := await queue.get(no_ack=False, fail=False)) is not None:
                if incoming.message_id != message_id:
                    continue
                dead = self._to_dead_letter(incoming)
                # Confirmed copy first, then the ack: a crash in between duplicates, never loses.
                await self._publish("", self._name(dead.queue), _to_amqp(dead.message))
                await incoming.ack()
                return True
            return False

        return await self._with_dead_letter_queue(replay)

    async def _with_dead_letter_queue(
        self, work: Callable[[AbstractRobustChannel, AbstractQueue], Awaitable[_T]]
    ) -> _T:
        channel = await self._guarded(self._open_channel(publisher_confirms=False))
        try:
            queue = await self._guarded(
                channel.declare_queue(self._name(DEAD_LETTER_QUEUE), durable=True)
            )
            return await self._guarded(work(channel, queue))
        finally:
            await _close_quietly(channel)

    def _to_dead_letter(self, incoming: AbstractIncomingMessage) -> DeadLetter:
        headers = _text_headers(incoming.headers)
        when = headers.get(DEAD_AT_HEADER)
        return DeadLetter(
            message=_from_amqp(incoming),
            queue=headers.get(ORIGINAL_QUEUE_HEADER, ""),
            reason=headers.get(DEAD_REASON_HEADER, ""),
            attempts=int(headers.get(ATTEMPT_HEADER, "1")),
            dead_lettered_at=datetime.fromisoformat(when) if when else datetime.now(UTC),
        )

    # -- RPC ---------------------------------------------------------------------------------

    async def request(self, queue: str, message: Message, *, timeout: float) -> Message:
        request_id = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        future: asyncio.Future[Message] = loop.create_future()
        self._pending[request_id] = future
        amqp = _to_amqp(message, {REQUEST_ID_HEADER: request_id})
        amqp.reply_to = self._reply_queue_name
        try:
            await self._publish("", self._name(queue), amqp, timeout=timeout)
            return await asyncio.wait_for(future, max(deadline - loop.time(), 0.0))
        except TimeoutError as exc:
            raise RequestTimeout(f"no reply from {queue} in {timeout:g} s") from exc
        finally:
            self._pending.pop(request_id, None)

    async def _on_reply(self, incoming: AbstractIncomingMessage) -> None:
        headers = _text_headers(incoming.headers)
        request_id = headers.get(REQUEST_ID_HEADER) or incoming.correlation_id or ""
        future = self._pending.pop(request_id, None)
        if future is None or future.done():
            log.info("late or unknown reply %s dropped", incoming.message_id)
            return
        future.set_result(_from_amqp(incoming))

    async def _send_reply(self, delivery: _RabbitDelivery, reply: Message) -> None:
        request = delivery.incoming
        reply_to = request.reply_to
        if not reply_to:
            raise BrokerError(f"{delivery.message.message_id} is not a request: no reply_to")
        extra = {}
        request_id = _text_headers(request.headers).get(REQUEST_ID_HEADER)
        if request_id:
            extra[REQUEST_ID_HEADER] = request_id
        amqp = _to_amqp(reply, extra)
        amqp.correlation_id = reply.correlation_id or request.correlation_id
        try:
            # reply_to is the requester's real queue name: no namespace is added.
            await self._publish("", reply_to, amqp)
        except Unroutable:
            # The requester is gone (closed or crashed): nobody can use the answer any more.
            log.warning("reply to %s dropped: the requester is gone", delivery.message.message_id)


class _RabbitDelivery:
    """One AMQP delivery as a port ``Delivery``."""

    def __init__(
        self, broker: RabbitBroker, incoming: AbstractIncomingMessage, amqp_queue: str
    ) -> None:
        self._broker = broker
        self.incoming = incoming
        self._message = _from_amqp(incoming)
        headers = _text_headers(incoming.headers)
        # Our own count of retries, plus the quorum queue's count of crash redeliveries.
        self._attempt = int(headers.get(ATTEMPT_HEADER, "1")) + int(
            headers.get("x-delivery-count", "0")
        )
        self._queue = broker._port_name(amqp_queue)
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
        return bool(self.incoming.redelivered)

    async def ack(self) -> None:
        self._settle()
        try:
            await self.incoming.ack()
        except CONNECTION_EXCEPTIONS as exc:
            # The channel is gone, so the broker will redeliver it: a duplicate, not a loss.
            raise BrokerUnavailable(f"ack of {self._message.message_id} failed: {exc!r}") from exc

    async def retry(self, reason: str) -> None:
        if self._attempt >= self._broker.retry_policy.max_attempts:
            await self.dead_letter(reason)
            return
        await self._publish_then_ack(lambda: self._broker._send_retry(self, reason))

    async def dead_letter(self, reason: str) -> None:
        await self._publish_then_ack(lambda: self._broker._send_dead_letter(self, reason))

    async def bury_worn(self) -> None:
        """Dead-letter a message whose consumer stopped before settling it max_attempts times."""
        crashes = self._attempt - 1
        reason = f"its consumer stopped before settling it {crashes} time(s)"
        with contextlib.suppress(BrokerError):  # else it stays unacked and comes back later
            await self._publish_then_ack(
                lambda: self._broker._send_dead_letter(self, reason, attempts=crashes)
            )

    async def reply(self, message: Message) -> None:
        await self._publish_then_ack(lambda: self._broker._send_reply(self, message))

    def _settle(self) -> None:
        if self.settled:
            raise BrokerError(f"delivery of {self._message.message_id} is already settled")
        self.settled = True

    async def _publish_then_ack(self, publish: Callable[[], Awaitable[None]]) -> None:
        """The confirmed copy first, then the ack: a crash in between duplicates, never loses."""
        self._settle()
        try:
            await publish()
        except BaseException:
            self.settled = False  # still ours to settle: the original is not acked
            raise
        try:
            await self.incoming.ack()
        except CONNECTION_EXCEPTIONS as exc:
            raise BrokerUnavailable(f"ack of {self._message.message_id} failed: {exc!r}") from exc


class _RabbitSubscription:
    def __init__(
        self,
        broker: RabbitBroker,
        channel: AbstractRobustChannel,
        queue: AbstractQueue,
        consumer_tag: str,
    ) -> None:
        self._broker = broker
        self._channel = channel
        self._queue = queue
        self._tag = consumer_tag

    async def cancel(self) -> None:
        """Stop consuming; closing the channel returns unsettled deliveries to the queue."""
        with contextlib.suppress(ValueError):
            self._broker._subscriptions.remove(self)
        with contextlib.suppress(TimeoutError, *CONNECTION_EXCEPTIONS):
            await asyncio.wait_for(self._queue.cancel(self._tag), 5)
        await _close_quietly(self._channel)


async def _run_handler(handler: Handler, delivery: _RabbitDelivery) -> None:
    """A handler that raises before settling gets its delivery retried (a transient failure)."""
    try:
        await handler(delivery)
    except Exception as exc:
        log.exception("handler failed on %s", delivery.message.message_id)
        if delivery.settled:
            return
        try:
            await delivery.retry(f"handler raised {exc!r}")
        except BrokerError:
            # Left unacked: the broker redelivers it when this channel closes or reconnects.
            log.exception("could not retry %s", delivery.message.message_id)


async def _close_quietly(channel: AbstractRobustChannel) -> None:
    with contextlib.suppress(TimeoutError, *CONNECTION_EXCEPTIONS):
        await asyncio.wait_for(channel.close(), 5)


def _system_prefix() -> str:
    return system_queue("")


def _to_amqp(message: Message, extra: Mapping[str, str] | None = None) -> aio_pika.Message:
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


def _from_amqp(incoming: AbstractIncomingMessage) -> Message:
    headers = {
        key: value
        for key, value in _text_headers(incoming.headers).items()
        if key not in _INTERNAL_HEADERS
    }
    return Message(
        body=incoming.body,
        message_id=incoming.message_id or "",
        correlation_id=incoming.correlation_id,
        headers=headers,
        content_type=incoming.content_type or _DEFAULT_CONTENT_TYPE,
        reply_to=incoming.reply_to,
    )


def _text_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """AMQP header values as text (the port's headers are strings)."""
    text: dict[str, str] = {}
    for key, value in (headers or {}).items():
        if isinstance(value, bytes):
            text[key] = value.decode("utf-8", "replace")
        elif isinstance(value, str | int | float | bool):
            text[key] = str(value)
    return text
