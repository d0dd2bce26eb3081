"""The connector of one state system: it consumes that system's queue and calls the system.

Three kinds of message wait in a system's queue:
- ``sync-request``: a SyncChannel request, answered as the RPC's answering end
  (``gateway/routing/sync_rpc.py``, where both ends of that RPC and its headers are written).
- ``async-message``: an AsyncChannel message, pushed to the system's IAsyncChannelClient endpoint.
  Its answer must be signed by the system. Then the message is DELIVERED, the sender is told,
  and only then is the delivery acknowledged: a connector that dies halfway leaves it to be
  redelivered, and a redelivery of a message already DELIVERED is acknowledged without pushing.
- ``status-notification``: a changeMassageStatusNotification for a sender with an endpoint.

Transport failures and 5xx are retried with growing delays; a refusal (a SOAP Client fault or a
4xx) is permanent and goes to the dead-letter queue with the reason.
"""

from __future__ import annotations

import logging

from connectors import (
    GatewayError,
    MessageState,
    parse_document,
    parse_fault,
    verify_envelope,
)
from gateway.broker import Delivery, Subscription, system_queue
from gateway.delivery.context import DeliveryContext
from gateway.routing import SYNC_REQUEST, HttpDispatcher, ProviderAnswer, answer_sync_request
from gateway.tracking.notify import ASYNC_MESSAGE, STATUS_NOTIFICATION

log = logging.getLogger(__name__)

PREFETCH = 32


class Permanent(Exception):
    """The system refused the message for good: retrying cannot help."""


class Transient(Exception):
    """The system could not take the message now: try again later."""


class SystemConnector:
    """Consumes ``system_id``'s queue and calls that system's endpoints over HTTP."""

    def __init__(self, system_id: str, context: DeliveryContext, http: HttpDispatcher) -> None:
        self.system_id = system_id
        self.ctx = context
        self._http = http
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        self._subscription = await self.ctx.broker.consume(
            system_queue(self.system_id), self._handle, prefetch=PREFETCH
        )

    async def close(self) -> None:
        """Stop consuming; the HTTP client belongs to whoever passed it in."""
        if self._subscription is not None:
            await self._subscription.cancel()

    async def _handle(self, delivery: Delivery) -> None:
        headers = delivery.message.headers
        kind = headers.get("kind") or headers.get("type")
        if kind == SYNC_REQUEST:
            await answer_sync_request(
                delivery,
                self.system_id,
                self.ctx.registry.services,
                self._http,
                timeout=self.ctx.settings.provider_timeout_seconds,
            )
        elif kind in (ASYNC_MESSAGE, STATUS_NOTIFICATION):
            await self._push(delivery, kind)
        else:
            await delivery.dead_letter(f"{self.system_id}'s connector cannot handle {kind!r}")

    # --- AsyncChannel pushes -------------------------------------------------------------------

    async def _push(self, delivery: Delivery, kind: str) -> None:
        message_id = delivery.message.message_id
        if kind == ASYNC_MESSAGE and await self._already_delivered(message_id):
            # A redelivery after the effect: not pushed twice, but the notification the crash
            # may have cut short is repeated (it is recognised by its id).
            await self.ctx.notifier.repeat(message_id)
            await delivery.ack()
            return
        try:
            await self._post_verified(delivery.message.body)
        except Permanent as refusal:
            await self._give_up(delivery, kind, str(refusal))
            return
        except Transient as failure:
            await self._try_later(delivery, kind, str(failure))
            return
        if kind == ASYNC_MESSAGE:
            await self.ctx.notifier.settle(
                message_id, MessageState.DELIVERED, "DELIVERED", f"Delivered to {self.system_id}"
            )
        await delivery.ack()

    async def _already_delivered(self, message_id: str) -> bool:
        return await self.ctx.tracker.state_of(message_id) is MessageState.DELIVERED

    async def _post_verified(self, body: bytes) -> None:
        """POST to the system's push endpoint; only its own signed success counts."""
        sender = self.ctx.registry.senders[self.system_id]
        if sender.push_endpoint is None:
            raise Permanent(f"{self.system_id} has no push endpoint")
        try:
            answer = await self._http.post(
                self.system_id,
                sender.push_endpoint,
                body,
                timeout=self.ctx.settings.provider_timeout_seconds,
            )
        except GatewayError as error:
            raise Transient(error.message) from error
        self._judge(answer)

    def _judge(self, answer: ProviderAnswer) -> None:
        try:
            root = parse_document(
                answer.body,
                max_bytes=self.ctx.settings.max_message_bytes,
                max_depth=self.ctx.settings.max_xml_depth,
                limits=self.ctx.settings.xml_limits,
            )
        except GatewayError as error:
            raise Transient(f"HTTP {answer.http_status}, unreadable answer") from error
        fault = parse_fault(root)
        if fault is not None:
            reason = f"{self.system_id} refused it: {fault.error_code} {fault.error_message}"
            raise (Permanent if fault.error_code.startswith("Client") else Transient)(reason)
        if answer.http_status != 200:
            failure = Permanent if 400 <= answer.http_status < 500 else Transient
            raise failure(f"{self.system_id} answered HTTP {answer.http_status}")
        try:
            signature = verify_envelope(root, self.ctx.trust, now=self.ctx.clock())
            self.ctx.registry.check_certificate_of(self.system_id, signature.certificate)
        except GatewayError as error:
            raise Transient(f"{self.system_id}'s answer is not trusted: {error.message}") from error

    async def _try_later(self, delivery: Delivery, kind: str, reason: str) -> None:
        retry = self.ctx.settings.max_delivery_attempts
        if delivery.attempt >= retry:  # the broker dead-letters this one
            await self._give_up(delivery, kind, f"{reason} (after {delivery.attempt} attempts)")
            return
        log.info("%s: attempt %d failed, retrying: %s", self.system_id, delivery.attempt, reason)
        await delivery.retry(reason)
        self.ctx.metrics.retries.labels(self.system_id).inc()

    async def _give_up(self, delivery: Delivery, kind: str, reason: str) -> None:
        # Parked first, then reported: whoever sees NOT_DELIVERED finds it in the dead letters.
        await delivery.dead_letter(reason)
        self.ctx.metrics.dead_letters.labels(self.system_id).inc()
        if kind == ASYNC_MESSAGE:
            await self.ctx.notifier.settle(
                delivery.message.message_id,
                MessageState.NOT_DELIVERED,
                "DEAD_LETTERED",
                reason,
                dead_lettered=True,
            )
