"""Dispatch over the message broker: the SyncChannel request travels as an RPC to the provider's
queue, where the provider's connector takes it to the provider and sends the answer back."""

from __future__ import annotations

from connectors import GatewayError, errors
from gateway.broker import (
    Broker,
    BrokerUnavailable,
    Message,
    RequestTimeout,
    Unroutable,
    system_queue,
)
from gateway.registry import Service
from gateway.routing.dispatcher import Envelope, ProviderAnswer

# Headers a connector sets on its reply: how the provider answered, or why it gave no answer.
HTTP_STATUS_HEADER = "x-kzgate-http-status"
FAULT_CODE_HEADER = "x-kzgate-fault-code"
FAULT_DETAIL_HEADER = "x-kzgate-fault-detail"


class BrokerDispatcher:
    """Sends each request through the broker and waits for the connector's reply."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker

    async def dispatch_sync(
        self, service: Service, envelope: Envelope, *, timeout: float
    ) -> ProviderAnswer:
        request = Message(
            body=envelope.body,
            message_id=envelope.message_id,
            correlation_id=envelope.correlation_id,
            headers={
                "messageId": envelope.message_id,
                "correlationId": envelope.correlation_id or "",
                "serviceId": service.service_id,
                "sender": envelope.sender_id,
                "type": "sync-request",
            },
        )
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
        if FAULT_CODE_HEADER in reply.headers:
            fault = errors.by_code(reply.headers[FAULT_CODE_HEADER])
            raise GatewayError(fault, reply.headers.get(FAULT_DETAIL_HEADER, ""))
        return ProviderAnswer(body=reply.body, http_status=int(reply.headers[HTTP_STATUS_HEADER]))

    async def close(self) -> None:
        await self._broker.close()

    @property
    def description(self) -> str:
        return f"RPC over the {self._broker.description}"
