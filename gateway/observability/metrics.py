"""The gateway's metric families, fed from the hops the channels record.

Labels are bounded: a serviceId, sender or receiver the catalogue does not know is counted as
``unknown`` (a caller can put anything in a refused request), fault codes come from the closed
set in ``connectors.errors``, and no label ever carries a messageId.

Each ``GatewayMetrics`` has its own ``CollectorRegistry`` so that two gateways in one process (as
in tests) count separately. In multi-worker deployments set ``PROMETHEUS_MULTIPROC_DIR`` before
the workers start: prometheus_client then writes every counter and histogram to files there and
``scrape`` sums them across workers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram

from gateway.messagelog import Direction, HopRecord

if TYPE_CHECKING:
    from gateway.registry import Registry

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNKNOWN = "unknown"
# Seconds: a SOAP hop on one machine takes milliseconds; a provider may take the full timeout.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_ENDS = (Direction.RESPONSE_OUT, Direction.FAULT_OUT)


class GatewayMetrics:
    """Counters and histograms of one gateway process."""

    def __init__(self, registry: Registry | None = None) -> None:
        self.catalogue = registry
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.exchanges = Counter(
            "kzgate_exchanges",
            "Exchanges answered by the gateway, by where they went and how they ended",
            ["service_id", "sender", "receiver", "channel", "outcome"],
            registry=r,
        )
        self.faults = Counter(
            "kzgate_faults",
            "SOAP faults the gateway sent to callers, by fault code",
            ["code"],
            registry=r,
        )
        self.hop_seconds = Histogram(
            "kzgate_hop_duration_seconds",
            "Time spent in each leg of an exchange: admission (request-in → request-out), "
            "provider (request-out → response-in), response (response-in → response-out)",
            ["channel", "hop"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.exchange_seconds = Histogram(
            "kzgate_exchange_duration_seconds",
            "End to end: request received → response or fault sent",
            ["channel", "service_id", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.retries = Counter(
            "kzgate_delivery_retries",
            "Deliveries to a system retried later",
            ["system"],
            registry=r,
        )
        self.dead_letters = Counter(
            "kzgate_dead_letters",
            "Messages parked in the dead-letter queue",
            ["system"],
            registry=r,
        )
        self.replays = Counter(
            "kzgate_dead_letter_replays", "Dead letters sent back to their queue", registry=r
        )

    # --- bounding labels ------------------------------------------------------------------

    def service_label(self, service_id: str | None) -> str:
        known = self.catalogue is None or service_id in self.catalogue.services
        return service_id if service_id and known else UNKNOWN

    def system_label(self, system_id: str | None) -> str:
        if not system_id:
            return UNKNOWN
        if system_id == "GATEWAY" or self.catalogue is None:
            return system_id
        return system_id if system_id in self.catalogue.senders else UNKNOWN

    # --- what the channels report -----------------------------------------------------------

    def hops_recorded(
        self,
        *,
        channel: str,
        operation: str,
        accepted: bool,
        started: float,
        marks: dict[str, float],
        hops: Iterable[HopRecord],
        caller: str | None,
        receiver: str | None,
    ) -> None:
        """Called once the hops are in the log; ``marks`` keeps when each leg ended."""
        now = time.perf_counter()
        for hop in hops:
            # A leg may have ended before its hop was logged (the SyncChannel logs the provider's
            # answer with its own reply): then its mark was set when it ended.
            ended = marks.setdefault(hop.direction.value, now)
            if hop.direction is Direction.REQUEST_OUT:
                self.hop_seconds.labels(channel, "admission").observe(ended - started)
            elif hop.direction is Direction.RESPONSE_IN:
                sent = marks.get(Direction.REQUEST_OUT.value, started)
                self.hop_seconds.labels(channel, "provider").observe(ended - sent)
            elif hop.direction is Direction.RESPONSE_OUT:
                answered = marks.get(Direction.RESPONSE_IN.value)
                if answered is not None:
                    self.hop_seconds.labels(channel, "response").observe(ended - answered)
            if hop.direction not in _ENDS:
                continue
            outcome = _outcome(hop.direction, channel, operation, accepted)
            service = self.service_label(hop.service_id)
            self.exchanges.labels(
                service, self.system_label(caller), self.system_label(receiver), channel, outcome
            ).inc()
            self.exchange_seconds.labels(channel, service, outcome).observe(now - started)
            if hop.fault_code:
                self.faults.labels(hop.fault_code).inc()


def share_between_workers(var_dir: Path) -> Path:
    """Make this process's future workers count into files they share (prometheus_client's
    multiprocess mode), unless ``PROMETHEUS_MULTIPROC_DIR`` already says where. Called by the
    supervisor before it starts the workers; the directory starts empty so that a previous run's
    counts are not added to this one's."""
    configured = os.environ.get(MULTIPROC_ENV)
    directory = Path(configured) if configured else var_dir / "prometheus"
    directory.mkdir(parents=True, exist_ok=True)
    if not configured:
        for stale in directory.glob("*.db"):
            stale.unlink()
        os.environ[MULTIPROC_ENV] = str(directory)
    return directory


def _outcome(direction: Direction, channel: str, operation: str, accepted: bool) -> str:
    """How an exchange ended, in words an operator filters by."""
    if direction is Direction.FAULT_OUT:
        return "failed" if accepted else "rejected"
    if channel == "sync":
        return "delivered"
    return "accepted" if operation == "sendMessage" else "answered"
