"""One claimed row as a port ``Delivery``: each settlement is one statement on the held row.

Settle-once and the escalation to the dead-letter queue are the shared ``DeliveryBase``; the
changes themselves are the broker's ``settle_*``, checked against this claim's lease token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Row

from gateway.broker.delivery import DeliveryBase
from gateway.broker.embedded.leases import Claim
from gateway.broker.embedded.tables import row_message

if TYPE_CHECKING:
    from gateway.broker.embedded.broker import EmbeddedBroker
    from gateway.broker.embedded.subscription import EmbeddedSubscription


class EmbeddedDelivery(DeliveryBase):
    """Row ``row_id`` of ``stored_queue``, held under the lease ``token``."""

    def __init__(self, broker: EmbeddedBroker, row: Row[Any], token: str, queue: str) -> None:
        super().__init__(broker, row_message(row), queue, row.attempt, bool(row.redelivered))
        self.consumer: EmbeddedSubscription  # set by the consumer that claimed it
        self.row_id: int = row.id
        self.token = token
        self.stored_queue: str = row.queue
        self.request_id: str | None = row.request_id
        self.routing_key: str | None = row.routing_key

    @property
    def claim(self) -> Claim:
        return self.row_id, self.token

    async def _settled(self) -> None:
        self.consumer.settled(self)


__all__ = ["EmbeddedDelivery"]
