"""The broker's share of tracing: trace context in every AMQP message's headers, and a consumer
span per delivery continuing the publisher's trace, so one trace crosses gateway → broker →
connector. The rest of tracing (setup, spans, the HTTP middleware) is the kit's
``connectors.tracing``, which the simulated systems use too.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from opentelemetry import propagate
from opentelemetry.trace import SpanKind

from connectors.tracing import trace_headers, tracer
from gateway.broker.port import Broker, Delivery, Handler, Message, Subscription


def _with_trace(message: Message) -> Message:
    return dataclasses.replace(message, headers={**message.headers, **trace_headers()})


class TracedBroker:
    """The ``Broker`` port with trace context in every message's headers, and a consumer span
    per delivery continuing the publisher's trace."""

    def __init__(self, inner: Broker, system: str = "GATEWAY") -> None:
        self._inner = inner
        self._system = system

    def __getattr__(self, name: str) -> Any:  # queue_depths, retry_policy, …
        return getattr(self._inner, name)

    async def start(self, systems: list[str]) -> None:
        await self._inner.start(systems)

    async def close(self) -> None:
        await self._inner.close()

    async def publish(self, queue: str, message: Message, *, timeout: float = 10.0) -> None:
        with tracer().start_as_current_span(
            f"publish {queue}", kind=SpanKind.PRODUCER, attributes={"messaging.destination": queue}
        ):
            await self._inner.publish(queue, _with_trace(message), timeout=timeout)

    async def publish_event(
        self, routing_key: str, message: Message, *, timeout: float = 10.0
    ) -> None:
        await self._inner.publish_event(routing_key, _with_trace(message), timeout=timeout)

    async def consume(self, queue: str, handler: Handler, *, prefetch: int = 16) -> Subscription:
        return await self._inner.consume(queue, _traced(handler, queue), prefetch=prefetch)

    async def subscribe_events(self, binding_key: str, handler: Handler) -> Subscription:
        return await self._inner.subscribe_events(binding_key, _traced(handler, binding_key))

    async def request(self, queue: str, message: Message, *, timeout: float) -> Message:
        with tracer().start_as_current_span(
            f"request {queue}", kind=SpanKind.PRODUCER, attributes={"messaging.destination": queue}
        ):
            return await self._inner.request(queue, _with_trace(message), timeout=timeout)

    async def dead_letters(self, limit: int = 100) -> list[Any]:
        return await self._inner.dead_letters(limit)

    async def replay_dead_letter(self, message_id: str) -> bool:
        return await self._inner.replay_dead_letter(message_id)

    @property
    def description(self) -> str:
        return self._inner.description


def _traced(handler: Handler, queue: str) -> Handler:
    async def handle(delivery: Delivery) -> None:
        parent = propagate.extract(dict(delivery.message.headers or {}))
        with tracer().start_as_current_span(
            f"consume {queue}",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={"messaging.source": queue, "messaging.attempt": delivery.attempt},
        ):
            await handler(delivery)

    return handle
