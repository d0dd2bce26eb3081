"""``RabbitBroker``: the broker port on RabbitMQ (aio-pika, robust connection, confirms).

Every publish waits for the broker's confirm, bounded in time, with ``mandatory`` so that a
message no queue takes comes back as ``Unroutable``. The topology it declares, and why, is in
``topology``; the settlement of a delivery in ``delivery``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
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

from gateway.broker.adapter import DEFAULT_RETRY, AdapterBase
from gateway.broker.delivery import run_handler
from gateway.broker.naming import is_system_queue
from gateway.broker.port import (
    DEAD_LETTER_QUEUE,
    EVENTS_EXCHANGE,
    BrokerError,
    BrokerUnavailable,
    DeadLetter,
    Handler,
    Message,
    RetryPolicy,
    Unroutable,
)
from gateway.broker.rabbitmq.delivery import RabbitDelivery
from gateway.broker.rabbitmq.messages import (
    ATTEMPT_HEADER,
    DEAD_AT_HEADER,
    DEAD_REASON_HEADER,
    ORIGINAL_QUEUE_HEADER,
    REQUEST_ID_HEADER,
    from_amqp,
    text_headers,
    to_amqp,
    to_dead_letter,
)
from gateway.broker.rabbitmq.subscription import RabbitSubscription, close_quietly
from gateway.broker.rabbitmq.topology import SYSTEM_QUEUE_ARGS, Topology
from gateway.broker.rpc import addressed_reply, requester_gone

log = logging.getLogger(__name__)

_T = TypeVar("_T")


class RabbitBroker(AdapterBase):
    """The ``Broker`` port on RabbitMQ; see ``gateway.broker.rabbitmq.topology``."""

    def __init__(
        self,
        url: str,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        namespace: str = "",
        confirm_timeout: float = 10.0,
    ) -> None:
        super().__init__(retry=retry, namespace=namespace)
        self._url = url
        self._confirm_timeout = confirm_timeout
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None  # publishing, with confirms
        self._topology = Topology(self._ns, retry)
        self._subscriptions: list[RabbitSubscription] = []

    @property
    def description(self) -> str:
        url = URL(self._url)
        shown = url.with_password(None).with_user(None) if url.user else url
        return self._ns.describe(f"RabbitMQ at {shown}")

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
            await self._topology.declare(self._channel, systems)
            reply_queue = await self._channel.declare_queue(
                self._reply_queue, exclusive=True, auto_delete=True
            )
            await reply_queue.consume(self._on_reply, no_ack=True)
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

    async def delete_topology(self) -> None:
        """Delete every durable queue and exchange start() declared, messages included.

        For tearing down a test namespace; never call it on the production namespace.
        """
        for subscription in list(self._subscriptions):
            await subscription.cancel()  # else the broker cancels them and aio-pika reconnects
        channel = await self._guarded(self._open_channel(publisher_confirms=False))
        try:
            await self._topology.delete(channel)
        finally:
            await close_quietly(channel)

    async def close(self) -> None:
        for subscription in list(self._subscriptions):
            await subscription.cancel()
        self._replies.cancel_all()
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
        await self._publish("", self._ns.stored(queue), to_amqp(message), timeout=timeout)

    async def publish_event(
        self, routing_key: str, message: Message, *, timeout: float = 10.0
    ) -> None:
        await self._publish(
            self._ns.stored(EVENTS_EXCHANGE),
            routing_key,
            to_amqp(message),
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
    ) -> RabbitSubscription:
        channel = await self._guarded(self._open_channel(publisher_confirms=False))
        try:
            await self._guarded(channel.set_qos(prefetch_count=prefetch))
            amqp_queue = await self._consumable_queue(channel, queue)
        except BaseException:
            await close_quietly(channel)
            raise
        return await self._subscribe(channel, amqp_queue, handler)

    async def _consumable_queue(self, channel: AbstractRobustChannel, queue: str) -> AbstractQueue:
        """Declare the queue the way start() does, so a consumer can come up first."""
        if is_system_queue(queue):
            return await self._guarded(
                self._topology.declare_durable_queue(channel, queue, SYSTEM_QUEUE_ARGS)
            )
        if queue == DEAD_LETTER_QUEUE:
            return await self._guarded(self._topology.declare_durable_queue(channel, queue))
        # Anything else (an events or reply queue) must exist already.
        return await self._guarded(channel.declare_queue(self._ns.stored(queue), passive=True))

    async def subscribe_events(self, binding_key: str, handler: Handler) -> RabbitSubscription:
        channel = await self._guarded(self._open_channel(publisher_confirms=False))
        try:
            amqp_queue = await self._guarded(
                channel.declare_queue(self._ns.new_event_queue(), exclusive=True, auto_delete=True)
            )
            await self._guarded(amqp_queue.bind(self._ns.stored(EVENTS_EXCHANGE), binding_key))
        except BaseException:
            await close_quietly(channel)
            raise
        return await self._subscribe(channel, amqp_queue, handler)

    async def _subscribe(
        self, channel: AbstractRobustChannel, amqp_queue: AbstractQueue, handler: Handler
    ) -> RabbitSubscription:
        queue = self._ns.port_name(amqp_queue.name)

        async def on_message(incoming: AbstractIncomingMessage) -> None:
            delivery = RabbitDelivery(self, incoming, queue)
            if delivery.attempt > self._retry.max_attempts:
                # Its consumers kept dying before settling it: it would loop forever otherwise.
                await delivery.bury_worn()
                return
            await run_handler(handler, delivery)

        tag = await self._guarded(amqp_queue.consume(on_message, no_ack=False))
        subscription = RabbitSubscription(channel, amqp_queue, tag, self._forget)
        self._subscriptions.append(subscription)
        return subscription

    def _forget(self, subscription: RabbitSubscription) -> None:
        with contextlib.suppress(ValueError):
            self._subscriptions.remove(subscription)

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

    # -- what a delivery publishes before its ack --------------------------------------------

    async def settle_ack(self, delivery: RabbitDelivery) -> None:
        """Nothing to publish: the ack of the original that follows is the whole of it."""

    async def settle_retry(self, delivery: RabbitDelivery, reason: str) -> None:
        """A copy with attempt + 1 to the delay level that holds it back."""
        attempt = delivery.attempt + 1
        copy = to_amqp(delivery.message, {ATTEMPT_HEADER: str(attempt)})
        # Routing key = the original queue: the delay queue dead-letters with it when it expires.
        exchange = self._topology.delay_exchange(attempt)
        await self._publish(exchange, self._ns.stored(delivery.queue), copy)
        log.info(
            "retry %s on %s as attempt %d: %s",
            delivery.message.message_id, delivery.queue, attempt, reason,
        )  # fmt: skip

    async def settle_dead_letter(
        self, delivery: RabbitDelivery, reason: str, attempts: int | None = None
    ) -> None:
        """A copy to the dead-letter queue, with why, whence and when."""
        attempts = delivery.attempt if attempts is None else attempts
        headers = {
            ATTEMPT_HEADER: str(attempts),
            DEAD_REASON_HEADER: reason,
            ORIGINAL_QUEUE_HEADER: delivery.queue,
            DEAD_AT_HEADER: datetime.now(UTC).isoformat(),
        }
        copy = to_amqp(delivery.message, headers)
        await self._publish("", self._ns.stored(DEAD_LETTER_QUEUE), copy)
        log.warning(
            "dead-lettered %s from %s after %d attempt(s): %s",
            delivery.message.message_id, delivery.queue, attempts, reason,
        )  # fmt: skip

    async def settle_reply(self, delivery: RabbitDelivery, reply: Message) -> None:
        """The answer to the requester's reply queue, carrying the request id back.

        When the requester waits in this very process (the connector that answered runs beside
        the intake that asked), the answer is handed over in memory: its reply queue is exclusive
        to this connection and dies with the process, so the broker would keep nothing the
        requester could outlive. The ack of the request follows either way.
        """
        reply_to, answer = addressed_reply(delivery.message, reply)
        extra = {}
        request_id = text_headers(delivery.incoming.headers).get(REQUEST_ID_HEADER)
        if request_id and reply_to == self._reply_queue and self._replies.awaits(request_id):
            self._replies.resolve(request_id, answer)
            return
        if request_id:
            extra[REQUEST_ID_HEADER] = request_id
        try:
            await self._publish("", reply_to, to_amqp(answer, extra))
        except Unroutable:
            requester_gone(delivery.message)

    # -- dead letters and depths -------------------------------------------------------------

    async def queue_depths(self) -> dict[str, int]:
        """Ready messages per durable queue (passive declares: nothing is created or changed)."""
        channel = await self._guarded(self._open_channel(publisher_confirms=False))
        try:
            depths = {}
            for name in sorted(self._topology.durable_queues):
                queue = await self._guarded(channel.declare_queue(name, passive=True))
                depths[self._ns.port_name(name)] = int(queue.declaration_result.message_count or 0)
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
                found.append(to_dead_letter(incoming))
            return found

        # Closing the channel without acking puts them back, in their order.
        return await self._with_dead_letter_queue(read)

    async def replay_dead_letter(self, message_id: str) -> bool:
        async def replay(channel: AbstractRobustChannel, queue: AbstractQueue) -> bool:
            while (incoming := await queue.get(no_ack=False, fail=False)) is not None:
                if incoming.message_id != message_id:
                    continue
                dead = to_dead_letter(incoming)
                # Confirmed copy first, then the ack: a crash in between duplicates, never loses.
                await self._publish("", self._ns.stored(dead.queue), to_amqp(dead.message))
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
                channel.declare_queue(self._ns.stored(DEAD_LETTER_QUEUE), durable=True)
            )
            return await self._guarded(work(channel, queue))
        finally:
            await close_quietly(channel)

    # -- RPC ---------------------------------------------------------------------------------

    async def request(self, queue: str, message: Message, *, timeout: float) -> Message:
        async def send(request_id: str) -> None:
            amqp = to_amqp(message, {REQUEST_ID_HEADER: request_id})
            amqp.reply_to = self._reply_queue
            await self._publish("", self._ns.stored(queue), amqp, timeout=timeout)

        return await self._replies.request(queue, send, timeout=timeout)

    async def _on_reply(self, incoming: AbstractIncomingMessage) -> None:
        headers = text_headers(incoming.headers)
        request_id = headers.get(REQUEST_ID_HEADER) or incoming.correlation_id or ""
        self._replies.resolve(request_id, from_amqp(incoming))


__all__ = ["RabbitBroker"]
