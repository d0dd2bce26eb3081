"""What follows a change of an async message's state: the sender is told (a signed
``changeMassageStatusNotification`` queued for its push endpoint) and AMQP consumers see an event.

Notification ids are derived from (messageId, state), so a notification that is queued twice after
a crash is recognisably the same one and a participant applies it once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from lxml import etree

from connectors import MessageState, TransportKey, build_change_status_notification, sign_envelope
from gateway.broker import Broker, BrokerError, Message, system_queue
from gateway.registry import Registry
from gateway.tracking.store import MessageTracker, TrackedMessage

log = logging.getLogger(__name__)

STATUS_NOTIFICATION = "status-notification"
ASYNC_MESSAGE = "async-message"

# Routing keys on the events exchange (documented in the README).
EVENT_KEYS = {
    MessageState.ON_DELIVERY: "message.accepted",
    MessageState.DELIVERED: "message.delivered",
    MessageState.NOT_DELIVERED: "message.not-delivered",
    MessageState.DELIVERY_STOPPED: "message.delivery-stopped",
}
DEAD_LETTERED_EVENT = "message.dead-lettered"


class StatusNotifier:
    """Moves a tracked message to a new state and tells whoever needs to know."""

    def __init__(
        self,
        tracker: MessageTracker,
        broker: Broker,
        registry: Registry,
        key: TransportKey,
        clock: Callable[[], datetime],
    ) -> None:
        self.tracker, self.broker, self.registry = tracker, broker, registry
        self._key, self._clock = key, clock

    async def settle(
        self,
        message_id: str,
        state: MessageState,
        code: str,
        text: str,
        *,
        dead_lettered: bool = False,
    ) -> None:
        now = self._clock()
        tracked = await self.tracker.set_state(message_id, state, code, text, now)
        if tracked is None:
            return
        await self._notify_sender(tracked, now)
        await self.announce(tracked, DEAD_LETTERED_EVENT if dead_lettered else EVENT_KEYS[state])

    async def repeat(self, message_id: str) -> None:
        """Tell again what a crash may have cut short; receivers know the notification by its id."""
        tracked = await self.tracker.get(message_id)
        if tracked is not None:
            await self._notify_sender(tracked, self._clock())
            await self.announce(tracked, EVENT_KEYS[tracked.state])

    async def announce(self, tracked: TrackedMessage, routing_key: str) -> None:
        """An event for AMQP consumers: the signed message and its identity in the headers."""
        event = Message(
            body=tracked.delivered_envelope,
            message_id=tracked.message_id,
            correlation_id=tracked.correlation_id,
            headers=event_headers(tracked),
        )
        try:
            await self.broker.publish_event(routing_key, event)
        except BrokerError:  # the state is recorded; an event is a courtesy, not the record
            log.warning("event %s for %s not published", routing_key, tracked.message_id)

    async def _notify_sender(self, tracked: TrackedMessage, now: datetime) -> None:
        sender = self.registry.senders.get(tracked.sender_id)
        if sender is None or sender.push_endpoint is None:
            return  # a polling sender asks with getMessageStatus
        envelope = build_change_status_notification(
            notification_id=f"{tracked.message_id}:{tracked.state.value}",
            message_id=tracked.message_id,
            notification_date=now,
            state=tracked.state,
            status_code=tracked.status_code,
            status_message=tracked.status_message,
            status_date=tracked.status_date,
            request_date=now,
        )
        sign_envelope(envelope, self._key)
        notification = Message(
            body=etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"),
            message_id=f"{tracked.message_id}:{tracked.state.value}",
            correlation_id=tracked.correlation_id,
            headers={**event_headers(tracked), "type": STATUS_NOTIFICATION},
        )
        await self.broker.publish(system_queue(sender.sender_id), notification)


def event_headers(tracked: TrackedMessage) -> dict[str, str]:
    return {
        "messageId": tracked.message_id,
        "correlationId": tracked.correlation_id,
        "serviceId": tracked.service_id,
        "sender": tracked.sender_id,
        "receiver": tracked.receiver_id,
        "type": tracked.message_type,
        "state": tracked.state.value,
    }
