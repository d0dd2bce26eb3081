"""A consumer of one embedded queue: a task claiming rows, a task per delivery running the handler.

It claims as many rows as it has free prefetch slots, woken at once by a publish of this process
(else every poll interval). Cancelling it stops the claims and the running handlers and releases
what it held, so the rows are redelivered without waiting for their leases to expire; an
auto-delete queue is dropped instead, its rows with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

from gateway.broker.delivery import run_handler
from gateway.broker.embedded.delivery import EmbeddedDelivery
from gateway.broker.port import BrokerError

if TYPE_CHECKING:
    from gateway.broker.embedded.broker import EmbeddedBroker

log = logging.getLogger(__name__)

# What a subscription calls: a port Handler fits (an EmbeddedDelivery is a Delivery), and the
# broker's own reply handler may use the embedded extras (request_id).
DeliveryHandler = Callable[[EmbeddedDelivery], Awaitable[None]]


class EmbeddedSubscription:
    """The consumer of ``queue`` (its stored name) for one ``consume`` or ``subscribe_events``."""

    def __init__(
        self,
        broker: EmbeddedBroker,
        queue: str,
        handler: DeliveryHandler,
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
                await asyncio.wait_for(self.wake.wait(), self._broker.poll_interval)

    async def _claim(self, limit: int) -> list[EmbeddedDelivery]:
        try:
            claimed = await self._broker.claim(self.queue, limit)
        except BrokerError:
            log.warning("cannot claim from %s", self.queue, exc_info=True)
            return []
        for delivery in claimed:
            delivery.consumer = self
        return claimed

    def _deliver(self, delivery: EmbeddedDelivery) -> None:
        self.held.add(delivery)
        # A delivery whose retry fails stays held: released on cancel, or its lease expires.
        task = asyncio.create_task(run_handler(self._handler, delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
        self._broker.forget(self)
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
            await self._broker.delete_queue(self.queue)  # its rows go with it
        else:
            await self._broker.release(unsettled)


class Consumers:
    """The running consumers of one broker, by queue: whom a change in a queue should wake."""

    def __init__(self) -> None:
        self._all: set[EmbeddedSubscription] = set()
        self._by_queue: dict[str, set[EmbeddedSubscription]] = defaultdict(set)
        self._timers: set[asyncio.TimerHandle] = set()

    def __iter__(self) -> Iterator[EmbeddedSubscription]:
        return iter(list(self._all))  # a copy: a consumer may be forgotten meanwhile

    def add(self, consumer: EmbeddedSubscription) -> None:
        self._all.add(consumer)
        self._by_queue[consumer.queue].add(consumer)

    def forget(self, consumer: EmbeddedSubscription) -> None:
        self._all.discard(consumer)
        self._by_queue[consumer.queue].discard(consumer)

    def wake(self, stored: str) -> None:
        """Rows of ``stored`` are due: its consumers of this process claim now, not at the poll."""
        for consumer in self._by_queue.get(stored, ()):
            consumer.wake.set()

    def wake_later(self, stored: str, delay: float) -> None:
        """A retried row becomes available in ``delay`` s: wake its consumers then, not later."""

        def fire() -> None:
            self._timers.discard(timer)
            self.wake(stored)

        timer = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(timer)

    def stop_timers(self) -> None:
        for timer in self._timers:
            timer.cancel()


__all__ = ["Consumers", "DeliveryHandler", "EmbeddedSubscription"]
