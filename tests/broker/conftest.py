"""The ``broker`` fixture: every contract test runs on each adapter of the broker port.

``embedded`` runs on a fresh SQLite file; ``rabbitmq`` on the real broker at 127.0.0.1:5672 in a
namespace of its own (``test-<uuid>.``) whose queues and exchanges are deleted afterwards, so the
tests can share the broker with a running gateway.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from connectors.db import create_engine
from gateway.broker import Broker, BrokerUnavailable, Delivery, RetryPolicy
from gateway.broker.rabbitmq import RabbitBroker
from gateway.storage import create_schema
from tests.services import require_rabbitmq

FAST_RETRY = RetryPolicy(max_attempts=3, delays=(0.2, 0.4))
SYSTEMS = ["ALPHA", "BETA"]


def fresh_namespace() -> str:
    return f"test-{uuid.uuid4()}."


@pytest.fixture(params=["embedded", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
async def broker(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Broker]:
    if request.param == "embedded":
        async for embedded in _embedded_broker(tmp_path):
            yield embedded
    else:
        async for rabbit in rabbit_broker(require_rabbitmq()):
            yield rabbit


async def _embedded_broker(tmp_path: Path) -> AsyncIterator[Broker]:
    # Not skipped while gateway/broker/embedded.py is missing: that must show as a failure.
    from gateway.broker.embedded import EmbeddedBroker

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'broker.db'}")
    await create_schema(engine)
    broker = EmbeddedBroker(engine, retry=FAST_RETRY)
    await broker.start(SYSTEMS)
    try:
        yield broker
    finally:
        await broker.close()
        await engine.dispose()


async def rabbit_broker(
    url: str, *, namespace: str | None = None, confirm_timeout: float = 5.0
) -> AsyncIterator[RabbitBroker]:
    broker = RabbitBroker(
        url,
        retry=FAST_RETRY,
        namespace=namespace or fresh_namespace(),
        confirm_timeout=confirm_timeout,
    )
    await broker.start(SYSTEMS)
    try:
        yield broker
    finally:
        await _delete_topology(broker)
        await broker.close()


async def _delete_topology(broker: RabbitBroker, within: float = 15.0) -> None:
    """Delete the test's queues, retrying while a connection restored after a broker restart
    is still settling (RabbitMQ has refused its first channel with CHANNEL_ERROR then)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            await broker.delete_topology()
            return
        except BrokerUnavailable:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


class Inbox:
    """A handler that keeps each delivery (unsettled unless ``settle`` says otherwise)."""

    def __init__(self) -> None:
        self.deliveries: asyncio.Queue[Delivery] = asyncio.Queue()

    async def __call__(self, delivery: Delivery) -> None:
        self.deliveries.put_nowait(delivery)

    async def next(self, timeout: float = 5.0) -> Delivery:
        return await asyncio.wait_for(self.deliveries.get(), timeout)

    async def nothing_more(self, wait: float = 0.6) -> bool:
        """True if no further delivery arrives within ``wait`` seconds."""
        await asyncio.sleep(wait)
        return self.deliveries.empty()
