"""The SyncChannel RPC over the broker, both ends in one file: what travels and who reads it.

The gateway's intake hands a SyncChannel request to ``BrokerDispatcher``, which publishes it to
the provider's queue as a ``sync-request`` and waits for the reply. The provider's connector
(``gateway/delivery/connector.py``) takes it off the queue and calls ``answer_sync_request``,
which relays the gateway-signed envelope byte for byte to the provider (re-serialising it would
break the signature) and replies with the provider's answer — or, when there is none, the fault
that says why. The three ``x-kzgate-*`` reply headers carry that outcome back.

How a reply finds its waiting request (reply queue, request id, deadline) is the broker's own
business: ``gateway/broker/rpc.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors import GatewayError, errors
from gateway.broker import (
    Broker,
    BrokerUnavailable,
    Delivery,
    Message,
    RequestTimeout,
    Unroutable,
    system_queue,
)
from gateway.registry import Service
from gateway.routing.dispatcher import Dispatcher, Envelope, ProviderAnswer

# The message type of a SyncChannel request in a system's queue (``type`` header).
SYNC_REQUEST = "sync-request"

# Headers a connector sets on its reply: how the provider answered, or why it gave no answer.
HTTP_STATUS_HEADER = "x-kzgate-http-status"
FAULT_CODE_HEADER = "x-kzgate-fault-code"
FAULT_DETAIL_HEADER = "x-kzgate-fault-detail"


# --- the request: built by the gateway, read by the connector ---------------------------------


def request_message(service: Service, envelope: Envelope) -> Message:
    """The RPC request for ``service``'s provider: the signed envelope and who sent it for what."""
    return Message(
        body=envelope.body,
        message_id=envelope.message_id,
        correlation_id=envelope.correlation_id,
        headers={
            "messageId": envelope.message_id,
            "correlationId": envelope.correlation_id or "",
            "serviceId": service.service_id,
            "sender": envelope.sender_id,
            "type": SYNC_REQUEST,
        },
    )


def requested_envelope(request: Message) -> Envelope:
    """The envelope a ``sync-request`` carries, as the provider is to receive it."""
    return Envelope(
        request.body,
        request.message_id,
        request.correlation_id,
        request.headers.get("sender", ""),
    )


# --- the reply: built by the connector, read by the gateway -----------------------------------


def answer_reply(request: Message, answer: ProviderAnswer) -> Message:
    """The reply that carries the provider's answer (a SOAP fault included) as received."""
    return _reply(request, answer.body, {HTTP_STATUS_HEADER: str(answer.http_status)})


def fault_reply(request: Message, error: GatewayError) -> Message:
    """The reply that says why the provider gave no answer."""
    headers = {FAULT_CODE_HEADER: error.fault.code, FAULT_DETAIL_HEADER: error.detail}
    return _reply(request, b"", headers)


def _reply(request: Message, body: bytes, headers: dict[str, str]) -> Message:
    return Message(
        body=body,
        message_id=request.message_id,
        correlation_id=request.correlation_id,
        headers=headers,
    )


def read_reply(reply: Message) -> ProviderAnswer:
    """The provider's answer in ``reply``; a fault reply raises its ``GatewayError``."""
    if FAULT_CODE_HEADER in reply.headers:
        fault = errors.by_code(reply.headers[FAULT_CODE_HEADER])
        raise GatewayError(fault, reply.headers.get(FAULT_DETAIL_HEADER, ""))
    return ProviderAnswer(body=reply.body, http_status=int(reply.headers[HTTP_STATUS_HEADER]))


# --- the two ends ------------------------------------------------------------------------------


class BrokerDispatcher:
    """The requesting end: sends each request through the broker and waits for the reply."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker

    async def dispatch_sync(
        self, service: Service, envelope: Envelope, *, timeout: float
    ) -> ProviderAnswer:
        request = request_message(service, envelope)
        try:
            reply = await self._broker.request(
                system_queue(service.provider), request, timeout=timeout
            )
        except RequestTimeout as exc:
            raise GatewayError(
                errors.PROVIDER_TIMEOUT, f"{service.provider} gave no answer in {timeout:g} s"
            ) from exc
        except (BrokerUnavailable, Unroutable) as exc:
            raise GatewayError(errors.PROVIDER_UNREACHABLE, f"broker: {exc}") from exc
        return read_reply(reply)

    async def close(self) -> None:
        await self._broker.close()

    @property
    def description(self) -> str:
        return f"RPC over the {self._broker.description}"


async def answer_sync_request(
    delivery: Delivery,
    system_id: str,
    services: Mapping[str, Service],
    provider: Dispatcher,
    *,
    timeout: float,
) -> None:
    """The answering end, in ``system_id``'s connector: relay the request, reply with the outcome.

    ``provider`` reaches the system itself (HTTP); a request for a service that ``system_id``
    does not provide is answered with a fault, not relayed.
    """
    request = delivery.message
    service = services.get(request.headers.get("serviceId", ""))
    try:
        if service is None or service.provider != system_id:
            raise GatewayError(errors.PROVIDER_UNREACHABLE, f"not provided by {system_id}")
        answer = await provider.dispatch_sync(service, requested_envelope(request), timeout=timeout)
    except GatewayError as error:
        await delivery.reply(fault_reply(request, error))
        return
    await delivery.reply(answer_reply(request, answer))
