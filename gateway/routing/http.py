"""Dispatch straight over HTTP to the provider's SOAP endpoint (the one-hop default)."""

from __future__ import annotations

import httpx

from connectors import KEEPALIVE_EXPIRY_SECONDS, SOAP_HEADERS, GatewayError, errors
from connectors.tracing import trace_headers
from gateway.registry import Service
from gateway.routing.dispatcher import Envelope, ProviderAnswer


class HttpDispatcher:
    """Posts the envelope to ``service.endpoint`` with a shared connection pool."""

    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        self._client = client or httpx.AsyncClient(
            limits=httpx.Limits(
                max_connections=200,
                max_keepalive_connections=50,
                keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
            )
        )

    async def dispatch_sync(
        self, service: Service, envelope: Envelope, *, timeout: float
    ) -> ProviderAnswer:
        if service.endpoint is None:
            raise GatewayError(errors.PROVIDER_UNREACHABLE, f"{service.provider} has no endpoint")
        return await self.post(service.provider, service.endpoint, envelope.body, timeout=timeout)

    async def post(
        self, system_id: str, url: str, body: bytes, *, timeout: float
    ) -> ProviderAnswer:
        """POST a SOAP envelope to one system; no answer at all is a GatewayError."""
        headers = {**SOAP_HEADERS, **trace_headers()}
        try:
            response = await self._client.post(url, content=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException as exc:
            raise GatewayError(
                errors.PROVIDER_TIMEOUT, f"{system_id} gave no answer in {timeout:g} s"
            ) from exc
        except httpx.TransportError as exc:
            raise GatewayError(
                errors.PROVIDER_UNREACHABLE, f"{system_id} at {url}: {exc!r}"
            ) from exc
        return ProviderAnswer(body=response.content, http_status=response.status_code)

    @property
    def client(self) -> httpx.AsyncClient:
        """The pooled client, for other calls to the same systems (the console's ops calls)."""
        return self._client

    async def close(self) -> None:
        await self._client.aclose()

    @property
    def description(self) -> str:
        return "HTTP straight to each provider's endpoint"
