"""Several workers, one ``/metrics``: with PROMETHEUS_MULTIPROC_DIR each worker process writes its
counters to files there, and any worker's scrape sums them all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.observability.metrics import share_between_workers

WORKER = """
from gateway.observability.metrics import GatewayMetrics
metrics = GatewayMetrics()
for _ in range({n}):
    metrics.exchanges.labels("GbdulInfoByBin_v1", "EGOV_PORTAL", "GBDUL", "sync", "delivered").inc()
metrics.faults.labels("Client.Auth.WrongPassword").inc()
"""
SCRAPE = """
from gateway.observability.metrics import GatewayMetrics
from connectors.scrape import render
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


def test_the_supervisor_gives_its_workers_an_empty_shared_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Recorded first, so that the value share_between_workers sets is undone after the test: a
    # bare delenv of an absent variable records nothing, and the directory leaked into every
    # later scrape in this process (simulators' /metrics then read only that empty directory).
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "unset by this test")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    stale = tmp_path / "prometheus" / "counter_123.db"
    stale.parent.mkdir()
    stale.write_bytes(b"last run's counts")
    directory = share_between_workers(tmp_path)
    assert directory == tmp_path / "prometheus" and not stale.exists()
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(directory)
    # One the operator chose is used as it is, never emptied.
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    (chosen / "counter_1.db").write_bytes(b"x")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(chosen))
    assert share_between_workers(tmp_path) == chosen and (chosen / "counter_1.db").exists()
