"""The provider connector: takes what waits in one system's queue to that system's SOAP endpoint.

For a SyncChannel request it relays the gateway-signed envelope byte for byte (re-serialising it
would break the signature), then sends the provider's answer — or why it could not be reached —
back to the waiting gateway as the RPC reply. The delivery is settled only after that reply is
out, so a connector that dies mid-request leaves it to be redelivered.
"""

from __future__ import annotations

import logging

from gateway import errors
from gateway.broker import Broker, Delivery, Message, Subscription, system_queue
from gateway.errors import GatewayError
from gateway.registry import Registry
from gateway.routing import Envelope, HttpDispatcher
from gateway.routing.broker import FAULT_CODE_HEADER, FAULT_DETAIL_HEADER, HTTP_STATUS_HEADER

log = logging.getLogger(__name__)

SYNC_REQUEST = "sync-request"


class ProviderConnector:
    """Consumes ``system_id``'s queue and calls that system's endpoints over HTTP."""

    def __init__(
        self,
        system_id: str,
        broker: Broker,
        registry: Registry,
        *,
        http: HttpDispatcher,
        timeout: float = 30.0,
        prefetch: int = 32,
    ) -> None:
        self.system_id = system_id
        self._broker = broker
        self._registry = registry
        self._http = http
        self._timeout = timeout
        self._prefetch = prefetch
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        self._subscription = await self._broker.consume(
            system_queue(self.system_id), self._handle, prefetch=self._prefetch
        )

    async def close(self) -> None:
        """Stop consuming; the HTTP client belongs to whoever passed it in."""
        if self._subscription is not None:
            await self._subscription.cancel()

    async def _handle(self, delivery: Delivery) -> None:
        kind = delivery.message.headers.get("type")
        if kind == SYNC_REQUEST:
            await self._relay_sync(delivery)
        else:
            await delivery.dead_letter(f"{self.system_id}'s connector cannot handle type {kind!r}")

    async def _relay_sync(self, delivery: Delivery) -> None:
        request = delivery.message
        service = self._registry.services.get(request.headers.get("serviceId", ""))
        if service is None or service.provider != self.system_id:
            unknown = GatewayError(errors.PROVIDER_UNREACHABLE, f"not provided by {self.system_id}")
            await self._reply(delivery, b"", _fault_headers(unknown))
            return
        envelope = Envelope(
            request.body,
            request.message_id,
            request.correlation_id,
            request.headers.get("sender", ""),
        )
        try:
            answer = await self._http.dispatch_sync(service, envelope, timeout=self._timeout)
        except GatewayError as error:
            await self._reply(delivery, b"", _fault_headers(error))
            return
        await self._reply(delivery, answer.body, {HTTP_STATUS_HEADER: str(answer.http_status)})

    async def _reply(self, delivery: Delivery, body: bytes, headers: dict[str, str]) -> None:
        request = delivery.message
        await delivery.reply(
            Message(
                body=body,
                message_id=request.message_id,
                correlation_id=request.correlation_id,
                headers=headers,
            )
        )


def _fault_headers(error: GatewayError) -> dict[str, str]:
    return {FAULT_CODE_HEADER: error.fault.code, FAULT_DETAIL_HEADER: error.detail}
