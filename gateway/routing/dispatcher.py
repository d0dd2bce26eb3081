"""The dispatch seam between the gateway core and the transport that reaches providers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gateway.registry import Service


@dataclass(frozen=True)
class Envelope:
    """A signed request on its way to a provider, with the identity the transport may need."""

    body: bytes
    message_id: str
    correlation_id: str | None
    sender_id: str


@dataclass(frozen=True)
class ProviderAnswer:
    """The provider's reply exactly as received: a SOAP response or a SOAP fault, as bytes."""

    body: bytes
    http_status: int


class Dispatcher(Protocol):
    """Delivers a signed request envelope to a service's provider and returns its answer.

    Raises ``GatewayError`` with ``PROVIDER_UNREACHABLE`` or ``PROVIDER_TIMEOUT`` when no answer
    comes; any answer that does come (a fault included) is returned for the core to judge.
    """

    async def dispatch_sync(
        self, service: Service, envelope: Envelope, *, timeout: float
    ) -> ProviderAnswer: ...

    async def close(self) -> None: ...

    @property
    def description(self) -> str:
        """How messages travel, for /health and start-up banners."""
        ...
