"""How a simulated system's cases stand against their terms, in one shape for every service:
applications (ELICENSE's licences and permits, the export pilot's permits) and declarations
(KEDEN) alike.

Each service turns its rows into ``Case`` values; ``case_families`` makes the Prometheus
families of ``/metrics`` from them — cases in progress, decided (by outcome), refused (by
ground), missed deadlines and the time from start to decision — and ``percentile`` serves the
SLA reports. The families are read from the database at each scrape, so every worker and every
restart reports the same numbers; cases are never deleted, so the totals only grow (counters).

Labels are bounded: the system, the case's kind and outcome come from closed enumerations, and a
refusal ground is one of the service's known codes or ``other`` (``bounded``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

__all__ = ["DECISION_BUCKETS", "OTHER", "Case", "bounded", "case_families", "percentile"]

# Business seconds from start to decision: terms run from hours (customs) to days (licences).
DECISION_BUCKETS = (60.0, 600.0, 3600.0, 4 * 3600.0, 9 * 3600.0, 24 * 3600.0, 72 * 3600.0)
OTHER = "other"


@dataclass(frozen=True)
class Case:
    """One application or declaration as the metrics see it."""

    kind: str
    started_at: datetime  # when its term started (registration, submission)
    decided_at: datetime | None = None  # None while in progress
    outcome: str | None = None  # ISSUED, REFUSED, RELEASE_PERMITTED … once decided
    missed: bool = False  # decided after, or still open past, its deadline
    grounds: tuple[str, ...] = ()  # of a refusal, already ``bounded``

    @property
    def seconds_to_decision(self) -> float | None:
        if self.decided_at is None:
            return None
        return max(0.0, (self.decided_at - self.started_at).total_seconds())


def bounded(code: str, known: Collection[str]) -> str:
    """``code`` as a label: one of ``known``, or ``other`` (a label never takes free text)."""
    return code if code in known else OTHER


def case_families(system: str, cases: Sequence[Case]) -> list[Metric]:
    labels = ["system", "kind"]
    progress = GaugeMetricFamily(
        "kzgate_applications_in_progress",
        "Applications (declarations) started, not yet decided",
        labels=labels,
    )
    decided = CounterMetricFamily(
        "kzgate_applications_decided",
        "Applications decided, by outcome",
        labels=[*labels, "outcome"],
    )
    refused = CounterMetricFamily(
        "kzgate_applications_refusal_grounds",
        "Grounds of refusals (a refusal on two grounds counts once under each)",
        labels=[*labels, "ground"],
    )
    missed = CounterMetricFamily(
        "kzgate_applications_missed_deadline",
        "Applications decided after, or still open past, their deadline",
        labels=labels,
    )
    open_by_kind = Counter(c.kind for c in cases if c.decided_at is None)
    done = Counter((c.kind, c.outcome) for c in cases if c.decided_at and c.outcome)
    grounds = Counter((c.kind, g) for c in cases if c.decided_at for g in c.grounds)
    late = Counter(c.kind for c in cases if c.missed)
    kinds = sorted({c.kind for c in cases})
    for kind in kinds:
        progress.add_metric([system, kind], open_by_kind[kind])
        missed.add_metric([system, kind], late[kind])
    for (kind, outcome), count in sorted(done.items()):
        decided.add_metric([system, kind, outcome], count)
    for (kind, ground), count in sorted(grounds.items()):
        refused.add_metric([system, kind, ground], count)
    return [progress, decided, refused, missed, _decision_histogram(system, cases, kinds)]


def _decision_histogram(system: str, cases: Sequence[Case], kinds: list[str]) -> Metric:
    histogram = HistogramMetricFamily(
        "kzgate_application_decision_seconds",
        "Start of the term to decision, in business-clock seconds",
        labels=["system", "kind"],
    )
    for kind in kinds:
        seconds = [s for c in cases if c.kind == kind and (s := c.seconds_to_decision) is not None]
        buckets = [
            (repr(bound), float(sum(1 for s in seconds if s <= bound)))
            for bound in DECISION_BUCKETS
        ]
        buckets.append(("+Inf", float(len(seconds))))
        histogram.add_metric([system, kind], buckets, sum_value=sum(seconds))
    return histogram


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of sorted ``values`` (None when there are none)."""
    if not values:
        return None
    rank = max(1, math.ceil(p / 100 * len(values)))
    return values[rank - 1]
