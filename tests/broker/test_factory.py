"""``open_broker``: the adapter named by KZGATE_BROKER, started with its topology."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.config import Settings
from connectors.db import create_engine
from gateway.broker import Message, RetryPolicy
from gateway.broker.embedded import EmbeddedBroker
from gateway.broker.factory import broker_kind, open_broker
from gateway.broker.rabbitmq import RabbitBroker
from gateway.storage import create_schema
from tests.broker.conftest import fresh_namespace
from tests.broker.test_contract import ALPHA
from tests.services import require_rabbitmq


async def test_embedded_is_opened_on_the_given_engine(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'broker.db'}")
    await create_schema(engine)
    settings = Settings(broker="embedded", max_delivery_attempts=7)
    broker = await open_broker(settings, systems=["ALPHA"], engine=engine)
    try:
        assert isinstance(broker, EmbeddedBroker)
        assert broker.retry_policy == RetryPolicy(max_attempts=7)
        await broker.publish(ALPHA, Message(b"<x/>", "m-1"))  # ALPHA's queue was declared
    finally:
        await broker.close()
        await engine.dispose()


@pytest.mark.rabbitmq
@pytest.mark.parametrize("kind", ["rabbitmq", "auto"])
async def test_rabbitmq_is_opened_with_its_topology(kind: str) -> None:
    settings = Settings(
        broker=kind,
        amqp_url=require_rabbitmq(),
        broker_namespace=fresh_namespace(),
        max_delivery_attempts=2,
    )
    assert await broker_kind(settings) == "rabbitmq"
    broker = await open_broker(settings, systems=["ALPHA"])
    assert isinstance(broker, RabbitBroker)
    try:
        assert broker.retry_policy == RetryPolicy(max_attempts=2)
        assert broker.description.startswith("RabbitMQ at amqp://127.0.0.1:5672")
        assert "guest" not in broker.description
        await broker.publish(ALPHA, Message(b"<x/>", "m-1"))
    finally:
        await broker.delete_topology()
        await broker.close()


async def test_auto_without_a_local_broker_is_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gateway.broker.factory._PROBE", ("127.0.0.1", 1))  # nothing listens
    assert await broker_kind(Settings(broker="auto", amqp_url=None)) == "embedded"
