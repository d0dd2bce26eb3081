"""``GET /metrics``: the process's counters plus gauges read from shared state at scrape time.

Gauges of shared state (the chains' lengths, the last checkpoint's age, queue depths) are read
from the database or broker on each scrape rather than kept in memory, so every worker reports
the same truth and a restart loses nothing. Counters and histograms come from the process's
registry, or, with ``PROMETHEUS_MULTIPROC_DIR`` set, from every worker's files summed (the
kit's ``connectors.scrape.render``, which the simulated systems use too).
"""

from __future__ import annotations

import logging
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from connectors.scrape import render
from gateway.messagelog.checkpoint import latest_checkpoint
from gateway.messagelog.schema import chains

log = logging.getLogger(__name__)


async def gateway_metrics(request: Request) -> Response:
    """The gateway's ``/metrics``."""
    context = request.app.state.context
    families: list[Metric] = []
    engine = request.app.state.engine
    families += await message_log_families(engine, context.clock())
    if context.broker is not None:
        families += await broker_families(context.broker)
    return render(context.metrics.registry, families)


async def message_log_families(engine: object, now: datetime) -> list[Metric]:
    query = select(func.coalesce(func.sum(chains.c.length), 0), func.count())
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        total, count = (await conn.execute(query)).one()
    length = GaugeMetricFamily(
        "kzgate_messagelog_records", "Records in the message log's hash chains (all chains)"
    )
    length.add_metric([], int(total))
    chain_count = GaugeMetricFamily(
        "kzgate_messagelog_chains", "Hash chains in the message log (one per writer process)"
    )
    chain_count.add_metric([], int(count))
    families: list[Metric] = [length, chain_count]
    checkpoint = await latest_checkpoint(engine)  # type: ignore[arg-type]
    if checkpoint is not None:
        age = GaugeMetricFamily(
            "kzgate_messagelog_checkpoint_age_seconds", "Seconds since the last signed checkpoint"
        )
        age.add_metric([], max(0.0, (now - checkpoint.made_at).total_seconds()))
        covered = GaugeMetricFamily(
            "kzgate_messagelog_checkpoint_seq", "Records the last checkpoint signs (all chains)"
        )
        covered.add_metric([], checkpoint.records)
        families += [age, covered]
    return families


async def broker_families(broker: object) -> list[Metric]:
    depth = GaugeMetricFamily(
        "kzgate_broker_queue_depth", "Messages waiting in each durable queue", labels=["queue"]
    )
    try:
        depths = await broker.queue_depths()  # type: ignore[attr-defined]
    except Exception:  # a broker that is down now must not take /metrics down with it
        log.warning("broker queue depths unavailable", exc_info=True)
        return []
    for queue, count in sorted(depths.items()):
        depth.add_metric([queue], count)
    return [depth]
