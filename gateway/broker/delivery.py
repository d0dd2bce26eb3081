"""What every adapter's ``Delivery`` does the same way: settle once, escalate, survive a handler.

- **Settle once.** Each settlement (ack, retry, dead letter, reply) first makes its change durable
  through the adapter's ``Settlements`` (a row updated, a confirmed copy published); only if that
  succeeded is the delivery settled, and ``_settled`` then finishes it (the adapter frees the
  prefetch slot or acks the original). A failed change leaves the delivery unsettled, so the
  handler may still settle it another way.
- **Retry to dead letter.** A retry at ``max_attempts`` dead-letters instead: a message that keeps
  failing must not loop forever.
- **A handler that raises** before settling gets its delivery retried (a transient failure).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from gateway.broker.port import BrokerError, Message, RetryPolicy

log = logging.getLogger(__name__)

_D = TypeVar("_D", bound="DeliveryBase")
_D_contra = TypeVar("_D_contra", contravariant=True)


class Settlements(Protocol[_D_contra]):
    """The durable change behind each settlement of an adapter's deliveries (its broker)."""

    @property
    def retry_policy(self) -> RetryPolicy: ...

    async def settle_ack(self, delivery: _D_contra) -> None: ...

    async def settle_retry(self, delivery: _D_contra, reason: str) -> None:
        """Make attempt + 1 due after the policy's delay (called below max_attempts only)."""
        ...

    async def settle_dead_letter(self, delivery: _D_contra, reason: str) -> None: ...

    async def settle_reply(self, delivery: _D_contra, reply: Message) -> None: ...


class DeliveryBase(ABC):
    """A port ``Delivery`` whose settlements go through one settle-once guard."""

    def __init__(
        self,
        settlements: Settlements[Any],
        message: Message,
        queue: str,
        attempt: int,
        redelivered: bool,
    ) -> None:
        self._settlements = settlements
        self._message = message
        self._queue = queue
        self._attempt = attempt
        self._redelivered = redelivered
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
        await self._settle(lambda: self._settlements.settle_ack(self))

    async def retry(self, reason: str) -> None:
        if self._attempt >= self._settlements.retry_policy.max_attempts:
            await self.dead_letter(reason)
            return
        await self._settle(lambda: self._settlements.settle_retry(self, reason))

    async def dead_letter(self, reason: str) -> None:
        await self._settle(lambda: self._settlements.settle_dead_letter(self, reason))

    async def reply(self, message: Message) -> None:
        await self._settle(lambda: self._settlements.settle_reply(self, message))

    async def _settle(self, change: Callable[[], Awaitable[None]]) -> None:
        if self.settled:
            raise BrokerError(f"delivery of {self._message.message_id} is already settled")
        self.settled = True
        try:
            await change()
        except BaseException:
            self.settled = False  # still ours to settle: nothing durable was changed
            raise
        await self._settled()

    @abstractmethod
    async def _settled(self) -> None:
        """What follows a durable change (free the prefetch slot, ack the original)."""


def worn_reason(crashes: int) -> str:
    """Why a message is dead-lettered after its consumers died ``crashes`` times holding it."""
    return f"its consumer stopped before settling it {crashes} time(s)"


async def run_handler(handler: Callable[[_D], Awaitable[None]], delivery: _D) -> None:
    """Run ``handler``; if it raises before settling, retry the delivery (a transient failure).

    If even the retry fails, the delivery stays unsettled and its adapter brings it back (the
    embedded lease is released on cancel or expires; AMQP redelivers when the channel closes).
    """
    try:
        await handler(delivery)
    except Exception as exc:
        log.exception("handler failed on %s", delivery.message.message_id)
        if delivery.settled:
            return
        try:
            await delivery.retry(f"handler raised {exc!r}")
        except BrokerError:
            log.exception("could not retry %s", delivery.message.message_id)


__all__ = ["DeliveryBase", "Settlements", "run_handler", "worn_reason"]
