"""Choosing and starting the broker adapter from the settings (``KZGATE_BROKER``)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Literal

from connectors.config import Settings
from gateway.broker.port import Broker, RetryPolicy

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
_PROBE = ("127.0.0.1", 5672)
_PROBE_TIMEOUT = 1.0


async def open_broker(
    settings: Settings, *, systems: list[str], engine: AsyncEngine | None = None
) -> Broker:
    """The broker named by ``settings.broker``, started with a queue per system.

    ``auto`` picks RabbitMQ when ``amqp_url`` is set or a broker answers on 127.0.0.1:5672
    within a second, the embedded broker (in ``engine``'s database) otherwise.
    """
    retry = RetryPolicy(max_attempts=settings.max_delivery_attempts, delays=settings.retry_delays)
    if await broker_kind(settings) == "rabbitmq":
        broker = _rabbit(settings, retry)
    else:
        broker = await _embedded(settings, engine, retry)
    await broker.start(systems)
    return broker


async def broker_kind(settings: Settings) -> Literal["rabbitmq", "embedded"]:
    """Which adapter ``open_broker`` picks for these settings (``auto`` resolved)."""
    if settings.broker != "auto":
        return settings.broker
    return "rabbitmq" if settings.amqp_url or await _rabbitmq_answers() else "embedded"


def _rabbit(settings: Settings, retry: RetryPolicy) -> Broker:
    from gateway.broker.rabbitmq import RabbitBroker

    return RabbitBroker(
        settings.amqp_url or DEFAULT_AMQP_URL, retry=retry, namespace=settings.broker_namespace
    )


async def _embedded(settings: Settings, engine: AsyncEngine | None, retry: RetryPolicy) -> Broker:
    # Imported here: the embedded adapter pulls in the storage layer RabbitMQ users don't need.
    from gateway.broker.embedded import EmbeddedBroker

    if engine is None:
        # The caller passed no engine: the settings' database, its tables created if missing.
        from connectors.db import create_engine
        from gateway.storage import create_schema

        engine = create_engine(settings.database_url)
        await create_schema(engine)
    return EmbeddedBroker(engine, retry=retry, namespace=settings.broker_namespace)


async def _rabbitmq_answers() -> bool:
    """Whether something accepts TCP connections on the local AMQP port within a second."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(*_PROBE), _PROBE_TIMEOUT)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True
