"""Everything a channel needs at hand, assembled once per gateway process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from connectors import TransportKey, TrustStore
from connectors.config import Settings
from gateway.broker import Broker
from gateway.channels.admission import AdmissionRules
from gateway.channels.policy import SecurityPolicy
from gateway.channels.threads import XmlThreads
from gateway.messagelog import MessageLog
from gateway.observability.metrics import GatewayMetrics
from gateway.registry import Registry
from gateway.routing import Dispatcher
from gateway.tracking import MessageTracker
from gateway.tracking.notify import StatusNotifier


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class GatewayContext:
    """The gateway's collaborators: settings, registry, keys, log and the dispatch seam."""

    settings: Settings
    registry: Registry
    trust: TrustStore
    key: TransportKey
    message_log: MessageLog
    dispatcher: Dispatcher
    admission: AdmissionRules
    tracker: MessageTracker
    broker: Broker | None = None  # None when a test wires a dispatcher without a broker
    notifier: StatusNotifier | None = None
    clock: Callable[[], datetime] = utc_now
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)
    # Where the channels parse and check messages: threads with a bounded name dictionary.
    xml_threads: XmlThreads = field(default_factory=XmlThreads)

    @property
    def policy(self) -> SecurityPolicy:
        return self.admission.policy
