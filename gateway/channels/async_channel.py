"""The AsyncChannel (SHEP v10) at ``/async``: sendMessage, getMessageStatus, getMessages and
sendDeliveryNotification.

A sendMessage is acknowledged only once the broker has confirmed the durable publish to the
receiver's queue; its messageId and correlationId are in the answer. A resend under the same
messageId with the same content gets the same answer and is delivered once; the same messageId
with other content is refused. Systems with a push endpoint get their messages from their
connector; the others poll with getMessages and acknowledge with sendDeliveryNotification.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from connectors import (
    Envelope,
    GatewayError,
    MessageState,
    MessageType,
    ReceiveStatus,
    ResendMessage,
    errors,
    parse_document,
    split_envelope,
)
from connectors.soap import async_ as soap
from gateway.broker import Broker, BrokerError, Message, system_queue
from gateway.channels.admission import admit, admit_caller, service_of
from gateway.channels.exchange import Channel, Exchange, SoapReply
from gateway.messagelog import Direction, Outcome
from gateway.tracking.notify import ASYNC_MESSAGE, EVENT_KEYS, StatusNotifier, event_headers
from gateway.tracking.store import TrackedMessage

DEFAULT_BATCH = 10
ACCEPTED = ("ACCEPTED", "Accepted by the gateway, on its way to the receiver")


@dataclass(frozen=True)
class _ServiceRequest:
    """The fields admission reads, taken from an async sendMessage."""

    message_id: str
    sender_id: str
    password: str | None
    service_id: str
    message_date: datetime | None
    data: etree._Element | None


class AsyncChannel(Channel):
    """Handles the four gateway-side operations posted to ``/async``."""

    schema = "async"
    fault_channel = "async"
    operations = frozenset(
        {
            soap.SEND_MESSAGE,
            soap.SEND_MESSAGE_CLIENT,
            soap.GET_MESSAGE_STATUS,
            soap.GET_MESSAGES,
            soap.SEND_DELIVERY_NOTIFICATION,
        }
    )

    async def _handle(self, exchange: Exchange) -> SoapReply:
        envelope = await self.read(exchange)
        operation = etree.QName(envelope.operation)
        if operation.text in (soap.SEND_MESSAGE, soap.SEND_MESSAGE_CLIENT):
            return await self._send(exchange, envelope)
        handlers = {
            soap.GET_MESSAGE_STATUS: self._status,
            soap.GET_MESSAGES: self._get_messages,
            soap.SEND_DELIVERY_NOTIFICATION: self._delivery_notification,
        }
        handler = handlers.get(operation.text)
        if handler is None:
            raise GatewayError(errors.SOAP_UNKNOWN_OPERATION, f"the Body holds {operation.text}")
        return await handler(exchange, envelope)

    # --- sendMessage -------------------------------------------------------------------------

    async def _send(self, exchange: Exchange, envelope: Envelope) -> SoapReply:
        request = soap.parse_send_message(envelope.operation)
        info = request.info
        message_id = info.message_id or str(uuid.uuid4())
        correlation_id = _chain_id(info.message_type, info.correlation_id, message_id)
        exchange.identify(
            message_id=message_id,
            sender_id=info.sender_id,
            service_id=info.service_id,
            correlation_id=correlation_id,
        )
        view = _ServiceRequest(
            message_id,
            info.sender_id,
            info.password,
            info.service_id,
            info.message_date,
            request.data,
        )
        exchange.admitted = await self.off_loop(
            exchange,
            admit,
            envelope.root,
            view,
            self.ctx.admission,
            channel="async",
            now=exchange.received,
        )
        service = service_of(exchange.admitted)
        exchange.receiver_id = service.provider
        tracked = await self._accept(exchange, request, correlation_id)
        if not tracked.published:
            await self._publish(tracked)
        return await self.reply(
            exchange,
            soap.build_send_message_response(
                message_id=tracked.message_id,
                correlation_id=tracked.correlation_id,
                response_date=self.ctx.clock(),
                session_id=exchange.session_id,
            ),
        )

    async def _accept(
        self, exchange: Exchange, request: soap.AsyncSendMessageRequest, correlation_id: str
    ) -> TrackedMessage:
        """Record the message once; a resend of the same message gets the first record back."""
        message_id = exchange.message_id or ""
        delivered = soap.delivered_message(
            request,
            message_id=message_id,
            correlation_id=correlation_id,
            session_id=exchange.session_id,
        )
        body = self.sign(soap.build_send_message_envelope(delivered))
        candidate = self._tracked(exchange, request, correlation_id, body)
        tracked, new = await self.ctx.tracker.accept(candidate)
        if not new and (
            tracked.sender_id != candidate.sender_id
            or tracked.payload_digest != candidate.payload_digest
        ):
            raise GatewayError(errors.ASYNC_MESSAGE_ID_REUSED, f"messageId {message_id!r}")
        await self.record(
            exchange,
            Direction.REQUEST_IN,
            Outcome.ACCEPTED,
            exchange.raw,
            also=(Direction.REQUEST_OUT, tracked.delivered_envelope) if new else None,
        )
        exchange.accepted = True
        return tracked

    def _tracked(
        self,
        exchange: Exchange,
        request: soap.AsyncSendMessageRequest,
        correlation_id: str,
        body: bytes,
    ) -> TrackedMessage:
        receiver = self.ctx.registry.senders[exchange.receiver_id or ""]
        now = self.ctx.clock()
        return TrackedMessage(
            message_id=exchange.message_id or "",
            sender_id=exchange.sender_id or "",
            receiver_id=receiver.sender_id,
            service_id=exchange.service_id,
            correlation_id=correlation_id,
            message_type=request.info.message_type.value,
            payload_digest=_digest(request, correlation_id),
            state=MessageState.ON_DELIVERY,
            status_code=ACCEPTED[0],
            status_message=ACCEPTED[1],
            status_date=now,
            accepted_at=now,
            published=False,
            push=receiver.push_endpoint is not None,
            delivered_envelope=body,
        )

    async def _publish(self, tracked: TrackedMessage) -> None:
        """Queue a push receiver's message; only a confirmed publish makes the send accepted."""
        broker, notifier = self._delivery()
        if tracked.push:
            message = Message(
                body=tracked.delivered_envelope,
                message_id=tracked.message_id,
                correlation_id=tracked.correlation_id,
                headers={**event_headers(tracked), "kind": ASYNC_MESSAGE},
            )
            try:
                await broker.publish(system_queue(tracked.receiver_id), message)
            except BrokerError as exc:
                raise GatewayError(errors.BROKER_UNAVAILABLE, str(exc)) from exc
        await self.ctx.tracker.mark_published(tracked.message_id)
        await notifier.announce(tracked, EVENT_KEYS[MessageState.ON_DELIVERY])

    def _delivery(self) -> tuple[Broker, StatusNotifier]:
        """The broker and notifier; a gateway wired without a broker has no AsyncChannel."""
        if self.ctx.broker is None or self.ctx.notifier is None:
            raise GatewayError(errors.BROKER_UNAVAILABLE, "this gateway runs without a broker")
        return self.ctx.broker, self.ctx.notifier

    # --- getMessageStatus --------------------------------------------------------------------

    async def _status(self, exchange: Exchange, envelope: Envelope) -> SoapReply:
        request = soap.parse_get_message_status(envelope.operation)
        tracked = await self._involving(exchange, envelope, request, request.message_id)
        return await self.reply(
            exchange,
            soap.build_get_message_status_response(
                state=tracked.state,
                status_code=tracked.status_code,
                status_message=tracked.status_message,
                status_date=tracked.status_date,
                response_date=self.ctx.clock(),
                session_id=exchange.session_id,
            ),
        )

    async def _involving(
        self, exchange: Exchange, envelope: Envelope, request: object, message_id: str
    ) -> TrackedMessage:
        """The tracked message, if the proven caller is its sender or its receiver."""
        sender_id = getattr(request, "sender_id", None)
        exchange.identify(
            message_id=message_id, sender_id=sender_id or "", service_id="", correlation_id=None
        )
        exchange.admitted = await self.off_loop(
            exchange,
            admit_caller,
            envelope.root,
            sender_id,
            getattr(request, "password", None),
            getattr(request, "request_date", None),
            self.ctx.admission,
            now=exchange.received,
        )
        tracked = await self.ctx.tracker.get(message_id)
        caller = exchange.admitted.sender.sender_id
        if tracked is None or caller not in (tracked.sender_id, tracked.receiver_id):
            raise GatewayError(errors.ASYNC_UNKNOWN_MESSAGE, f"messageId {message_id!r}")
        exchange.service_id = tracked.service_id
        return tracked

    # --- getMessages and sendDeliveryNotification (systems that poll) -------------------------

    async def _get_messages(self, exchange: Exchange, envelope: Envelope) -> SoapReply:
        request = soap.parse_get_messages(envelope.operation)
        exchange.identify(
            message_id=exchange.session_id,
            sender_id=request.sender_id or "",
            service_id=request.service_id,
            correlation_id=request.correlation_id,
        )
        exchange.admitted = await self.off_loop(
            exchange,
            admit_caller,
            envelope.root,
            request.sender_id,
            request.password,
            request.request_date,
            self.ctx.admission,
            now=exchange.received,
        )
        service = self.ctx.registry.service(request.service_id)
        if service.provider != exchange.admitted.sender.sender_id:
            raise GatewayError(errors.ASYNC_NOT_RECEIVER, f"{service.service_id}")
        waiting = await self.ctx.tracker.mailbox(
            service.provider,
            service.service_id,
            limit=request.batch_size(DEFAULT_BATCH),
            message_id=request.message_id,
            correlation_id=request.correlation_id,
        )
        return await self.reply(
            exchange,
            soap.build_get_messages_response(
                messages=[self._stored_request(t) for t in waiting],
                response_date=self.ctx.clock(),
                session_id=exchange.session_id,
            ),
        )

    def _stored_request(self, tracked: TrackedMessage) -> soap.AsyncSendMessageRequest:
        # Our own signed bytes, stored at acceptance: no limit can be exceeded that was not before.
        root = parse_document(
            tracked.delivered_envelope,
            max_bytes=1 << 30,
            max_depth=1 << 10,
            limits=self.ctx.settings.xml_limits,  # the limits it passed when it was accepted
        )
        return soap.parse_send_message(split_envelope(root).operation)

    async def _delivery_notification(self, exchange: Exchange, envelope: Envelope) -> SoapReply:
        request = soap.parse_delivery_notification(envelope.operation)
        tracked = await self._involving(exchange, envelope, request, request.message_id)
        if exchange.admitted is None or exchange.admitted.sender.sender_id != tracked.receiver_id:
            raise GatewayError(errors.ASYNC_NOT_RECEIVER, f"messageId {request.message_id!r}")
        await self._settle_reported(tracked, request)
        return await self.reply(
            exchange,
            soap.build_delivery_notification_response(
                notification_id=str(uuid.uuid4()),
                response_date=self.ctx.clock(),
                session_id=exchange.session_id,
            ),
        )

    async def _settle_reported(
        self, tracked: TrackedMessage, request: soap.AsyncDeliveryNotificationRequest
    ) -> None:
        if request.receive_status is ReceiveStatus.MESSAGE_ACCEPTED:
            state, code, text = MessageState.DELIVERED, "DELIVERED", "The receiver took it"
        elif request.resend_message is ResendMessage.RESEND:
            state, code = MessageState.ON_DELIVERY, "RESEND"
            text = "The receiver could not take it yet and asked for it again"
        else:
            state, code = MessageState.NOT_DELIVERED, "NOT_ACCEPTED"
            text = "The receiver refused it"
        if request.error is not None:
            text = f"{text}: {request.error.error_code} {request.error.error_message}"
        await self._delivery()[1].settle(tracked.message_id, state, code, text)


def _chain_id(message_type: MessageType, given: str | None, message_id: str) -> str:
    """The chain id: SHEP opens one for a REQUEST; every later message must carry it."""
    if message_type is MessageType.REQUEST:
        return given or message_id
    if not given:
        raise GatewayError(errors.ASYNC_CORRELATION_REQUIRED, f"messageType {message_type.value}")
    return given


def _digest(request: soap.AsyncSendMessageRequest, correlation_id: str) -> str:
    """What makes two sends the same message: service, type, chain and the canonical payload."""
    payload = (
        etree.tostring(request.data, method="c14n", exclusive=True)
        if request.data is not None
        else b""
    )
    identity = f"{request.info.service_id}\0{request.info.message_type.value}\0{correlation_id}\0"
    return hashlib.sha256(identity.encode() + payload).hexdigest()
