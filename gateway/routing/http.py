"""Dispatch straight over HTTP to the provider's SOAP endpoint (the one-hop default)."""

from __future__ import annotations

import httpx2

from connectors import KEEPALIVE_EXPIRY_SECONDS, SOAP_HEADERS, GatewayError, errors
from connectors.tracing import trace_headers
from gateway.registry import Service
from gateway.routing.dispatcher import Envelope, ProviderAnswer

# Per system: the connections one system may hold, and how many stay open between calls. A
# gateway worker's connector takes at most 32 deliveries of a system at once (its prefetch), so
# 32 kept-alive connections serve it without reconnecting; direct dispatch (no broker) may open
# more under a burst.
SYSTEM_CONNECTIONS = 100
SYSTEM_KEEPALIVE = 32


def _pool(connections: int, keepalive: int) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        limits=httpx2.Limits(
            max_connections=connections,
            max_keepalive_connections=keepalive,
            keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
        )
    )


class HttpDispatcher:
    """Posts envelopes to systems' endpoints, on a connection pool of each system's own.

    One pool per system is a bulkhead: a system that answers slowly holds only its own
    connections, never those another system's calls need. (It was also cheaper under httpx
    0.28, whose pool walked all its connections for every request; httpx2's does not.) A
    ``client`` given (tests: a mock transport) serves every system.
    """

    def __init__(self, client: httpx2.AsyncClient | None = None) -> None:
        self._given = client
        self._shared = client or _pool(SYSTEM_CONNECTIONS, SYSTEM_KEEPALIVE)
        self._pools: dict[str, httpx2.AsyncClient] = {}

    def _client_of(self, system_id: str) -> httpx2.AsyncClient:
        if self._given is not None:
            return self._given
        pool = self._pools.get(system_id)
        if pool is None:
            pool = self._pools[system_id] = _pool(SYSTEM_CONNECTIONS, SYSTEM_KEEPALIVE)
        return pool

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
            response = await self._client_of(system_id).post(
                url, content=body, headers=headers, timeout=timeout
            )
        except httpx2.TimeoutException as exc:
            raise GatewayError(
                errors.PROVIDER_TIMEOUT, f"{system_id} gave no answer in {timeout:g} s"
            ) from exc
        except httpx2.TransportError as exc:
            raise GatewayError(
                errors.PROVIDER_UNREACHABLE, f"{system_id} at {url}: {exc!r}"
            ) from exc
        return ProviderAnswer(body=response.content, http_status=response.status_code)

    @property
    def client(self) -> httpx2.AsyncClient:
        """A pooled client for other calls to the same systems (the console's ops calls)."""
        return self._shared

    async def close(self) -> None:
        for pool in (self._shared, *self._pools.values()):
            await pool.aclose()
        self._pools.clear()

    @property
    def description(self) -> str:
        return "HTTP straight to each provider's endpoint"
