"""Several workers, one ``/metrics``: with PROMETHEUS_MULTIPROC_DIR each worker process writes its
counters to files there, and any worker's scrape sums them all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

WORKER = """
from gateway.observability.metrics import GatewayMetrics
metrics = GatewayMetrics()
for _ in range({n}):
    metrics.exchanges.labels("GbdulInfoByBin_v1", "EGOV_PORTAL", "GBDUL", "sync", "delivered").inc()
metrics.faults.labels("Client.Auth.WrongPassword").inc()
"""
SCRAPE = """
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.scrape import render
print(render(GatewayMetrics().registry).body.decode())
"""


def _python(code: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_counters_of_every_worker_are_summed(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    _python(WORKER.format(n=3), env)
    _python(WORKER.format(n=4), env)
    text = _python(SCRAPE, env)  # a third worker, which counted nothing itself
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    delivered = (
        ("channel", "sync"), ("outcome", "delivered"), ("receiver", "GBDUL"),
        ("sender", "EGOV_PORTAL"), ("service_id", "GbdulInfoByBin_v1"),
    )  # fmt: skip
    assert samples[("kzgate_exchanges_total", delivered)] == 7
    assert samples[("kzgate_faults_total", (("code", "Client.Auth.WrongPassword"),))] == 2
