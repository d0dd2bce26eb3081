"""What a connector needs at hand: the narrow context of delivery, built once per process.

Delivery starts where intake ends (a message accepted and queued), so it does not take the
intake's ``GatewayContext``: no message log, admission rules or dispatcher — only the broker it
consumes, the look-ups and trust it checks answers against, the tracker and notifier it settles
async messages with, the clock, the metrics, and the few settings it reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from connectors import TrustStore, XmlLimits
from connectors.config import Settings
from gateway.broker import Broker
from gateway.observability.metrics import GatewayMetrics
from gateway.registry import Registry
from gateway.tracking import MessageTracker
from gateway.tracking.notify import StatusNotifier


@dataclass(frozen=True)
class DeliverySettings:
    """The settings delivery reads: how long a provider may take, how often to try, and how much
    of a provider's answer to read."""

    provider_timeout_seconds: float
    max_delivery_attempts: int
    max_message_bytes: int
    max_xml_depth: int
    xml_limits: XmlLimits

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliverySettings:
        return cls(
            provider_timeout_seconds=settings.provider_timeout_seconds,
            max_delivery_attempts=settings.max_delivery_attempts,
            max_message_bytes=settings.max_message_bytes,
            max_xml_depth=settings.max_xml_depth,
            xml_limits=settings.xml_limits,
        )


@dataclass(frozen=True)
class DeliveryContext:
    """The collaborators of every connector in one process (none optional: connectors run only
    where there is a broker)."""

    settings: DeliverySettings
    registry: Registry
    trust: TrustStore
    broker: Broker
    tracker: MessageTracker
    notifier: StatusNotifier
    clock: Callable[[], datetime]
    metrics: GatewayMetrics
