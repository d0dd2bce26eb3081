"""One AMQP delivery as a port ``Delivery``: a confirmed copy first, then the ack of the original.

Retry, dead letter and reply each publish a copy (to a delay exchange, the dead-letter queue or
the requester's reply queue) and wait for its confirm before acking the original: a crash in
between duplicates a message, never loses one. Settle-once and the escalation to the dead-letter
queue are the shared ``DeliveryBase``.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from aio_pika.abc import AbstractIncomingMessage
from aio_pika.exceptions import CONNECTION_EXCEPTIONS

from gateway.broker.delivery import DeliveryBase, worn_reason
from gateway.broker.port import BrokerError, BrokerUnavailable
from gateway.broker.rabbitmq.messages import (
    ATTEMPT_HEADER,
    DELIVERY_COUNT_HEADER,
    from_amqp,
    text_headers,
)

if TYPE_CHECKING:
    from gateway.broker.rabbitmq.broker import RabbitBroker


class RabbitDelivery(DeliveryBase):
    """One AMQP delivery (``incoming``) of a port queue."""

    def __init__(self, broker: RabbitBroker, incoming: AbstractIncomingMessage, queue: str) -> None:
        headers = text_headers(incoming.headers)
        # Our own count of retries, plus the quorum queue's count of crash redeliveries.
        attempt = int(headers.get(ATTEMPT_HEADER, "1")) + int(
            headers.get(DELIVERY_COUNT_HEADER, "0")
        )
        super().__init__(broker, from_amqp(incoming), queue, attempt, bool(incoming.redelivered))
        self._broker = broker
        self.incoming = incoming

    async def bury_worn(self) -> None:
        """Dead-letter a message whose consumer stopped before settling it max_attempts times."""
        crashes = self.attempt - 1
        reason = worn_reason(crashes)
        with contextlib.suppress(BrokerError):  # else it stays unacked and comes back later
            await self._settle(
                lambda: self._broker.settle_dead_letter(self, reason, attempts=crashes)
            )

    async def _settled(self) -> None:
        try:
            await self.incoming.ack()
        except CONNECTION_EXCEPTIONS as exc:
            # The channel is gone, so the broker will redeliver it: a duplicate, not a loss.
            raise BrokerUnavailable(f"ack of {self.message.message_id} failed: {exc!r}") from exc


__all__ = ["RabbitDelivery"]
