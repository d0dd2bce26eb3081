"""The exposition of a process's ``GET /metrics``: its own registry plus families computed for
one scrape, in the Prometheus text format.

Counters and histograms come from the process's registry, or, with ``PROMETHEUS_MULTIPROC_DIR``
set, from every worker's files summed. Gauges of shared state are computed by the caller at scrape
time and passed in, so every worker reports the same truth. The gateway and each simulated system
answer their scrapes with ``render``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.responses import Response

__all__ = ["render"]


class _Fixed(Collector):
    """Families computed just now for this one scrape."""

    def __init__(self, families: Sequence[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def render(registry: CollectorRegistry, families: Sequence[Metric] = ()) -> Response:
    """Exposition text: ``registry`` (every worker's, in multiprocess mode) and ``families``."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    scrape = CollectorRegistry(auto_describe=True)
    scrape.register(_Fixed(families))
    body = generate_latest(registry) + generate_latest(scrape)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
