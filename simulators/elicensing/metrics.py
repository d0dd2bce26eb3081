"""ELICENSE's business metrics, read from its register at scrape time.

Applications in progress, decided (issued, refused), missed deadlines and the time from
registration to decision, per kind. Read from the database on each scrape, so every worker and
every restart reports the same numbers; the totals only grow because applications are never
deleted, hence counters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from simulators.elicensing.sla import is_missed
from simulators.elicensing.store import Application
from simulators.kit.clock import Clock

# Business seconds from registration to decision; the SLA is one working day.
DECISION_BUCKETS = (60.0, 600.0, 3600.0, 4 * 3600.0, 9 * 3600.0, 24 * 3600.0, 72 * 3600.0)
SYSTEM = "ELICENSE"


def application_families(apps: Sequence[Application], clock: Clock) -> list[Metric]:
    now = clock.now()
    labels = ["system", "kind"]
    progress = GaugeMetricFamily(
        "kzgate_applications_in_progress",
        "Applications registered, not yet completed",
        labels=labels,
    )
    decided = CounterMetricFamily(
        "kzgate_applications_decided",
        "Applications completed, by outcome",
        labels=[*labels, "outcome"],
    )
    missed = CounterMetricFamily(
        "kzgate_applications_missed_deadline",
        "Applications completed after, or still open past, their deadline",
        labels=labels,
    )
    open_by_kind = Counter(a.kind.value for a in apps if a.completed_at is None)
    done = Counter(
        (a.kind.value, a.outcome.value) for a in apps if a.completed_at and a.outcome is not None
    )
    late = Counter(a.kind.value for a in apps if is_missed(a, now))
    kinds = sorted({a.kind.value for a in apps})
    for kind in kinds:
        progress.add_metric([SYSTEM, kind], open_by_kind[kind])
        missed.add_metric([SYSTEM, kind], late[kind])
    for (kind, outcome), count in sorted(done.items()):
        decided.add_metric([SYSTEM, kind, outcome], count)
    return [progress, decided, missed, *_decision_histograms(apps, kinds)]


def _decision_histograms(apps: Sequence[Application], kinds: list[str]) -> list[Metric]:
    histogram = HistogramMetricFamily(
        "kzgate_application_decision_seconds",
        "Registration to completion, in business-clock seconds",
        labels=["system", "kind"],
    )
    for kind in kinds:
        seconds = [
            max(0.0, (a.completed_at - a.registered_at).total_seconds())
            for a in apps
            if a.kind.value == kind and a.completed_at is not None
        ]
        buckets = [(_le(b), float(sum(1 for s in seconds if s <= b))) for b in DECISION_BUCKETS]
        buckets.append(("+Inf", float(len(seconds))))
        histogram.add_metric([SYSTEM, kind], buckets, sum_value=sum(seconds))
    return [histogram]


def _le(bound: float) -> str:
    return repr(float(bound))
