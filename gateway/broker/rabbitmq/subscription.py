"""A RabbitMQ consumer: its own channel (its prefetch), cancelled by closing that channel."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from aio_pika.abc import AbstractQueue, AbstractRobustChannel
from aio_pika.exceptions import CONNECTION_EXCEPTIONS


class RabbitSubscription:
    def __init__(
        self,
        channel: AbstractRobustChannel,
        queue: AbstractQueue,
        consumer_tag: str,
        forget: Callable[[RabbitSubscription], None],
    ) -> None:
        self._channel = channel
        self._queue = queue
        self._tag = consumer_tag
        self._forget = forget

    async def cancel(self) -> None:
        """Stop consuming; closing the channel returns unsettled deliveries to the queue."""
        self._forget(self)
        with contextlib.suppress(TimeoutError, *CONNECTION_EXCEPTIONS):
            await asyncio.wait_for(self._queue.cancel(self._tag), 5)
        await close_quietly(self._channel)


async def close_quietly(channel: AbstractRobustChannel) -> None:
    with contextlib.suppress(TimeoutError, *CONNECTION_EXCEPTIONS):
        await asyncio.wait_for(channel.close(), 5)


__all__ = ["RabbitSubscription", "close_quietly"]
