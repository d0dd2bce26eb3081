"""A connector killed with SIGKILL in the middle of a push: RabbitMQ redelivers the message to the
next connector, and the receiver applies it once. Real processes, real broker, real ports."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest

from connectors import MessageState, ShepClient, TransportKey, TrustStore
from gateway.paths import PROJECT_ROOT
from simulators.monitoring.payload import build_stage_event
from tests.pki import make_test_pki
from tests.ports import free_port_block
from tests.services import delete_broker_namespace, require_rabbitmq

STAGES = "MonitoringStage_v1"
MONITORING_OFFSET = 8


class System:
    """The gateway (connectors external) and MONITORING, each a process of its own."""

    def __init__(self, tmp_path: Path, amqp_url: str) -> None:
        self.base = free_port_block(12)
        self.pki = tmp_path / "pki"
        make_test_pki(self.pki)
        self.namespace = f"test-{uuid.uuid4().hex[:12]}."
        self.env = {
            **os.environ,
            "KZGATE_VAR_DIR": str(tmp_path),
            "KZGATE_PORT": str(self.base),
            "KZGATE_SIMULATOR_BASE_PORT": str(self.base),
            "KZGATE_BROKER": "rabbitmq",
            "KZGATE_AMQP_URL": amqp_url,
            "KZGATE_BROKER_NAMESPACE": self.namespace,
            "KZGATE_CONNECTORS": "external",
        }
        self.env.pop("KZGATE_DATABASE_URL", None)
        self.processes: list[subprocess.Popen] = []
        self.gateway_url = f"http://127.0.0.1:{self.base}"
        self.monitoring_url = f"http://127.0.0.1:{self.base + MONITORING_OFFSET}"

    def spawn(self, *args: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "kzgate.cli.main", "serve", *args],
            env=self.env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def wait_healthy(self, url: str) -> None:
        # Generous: beside three other xdist workers starting systems of their own, a gateway's
        # workers can take a minute to import and open their database and broker.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx2.get(f"{url}/health", timeout=1).status_code == 200:
                    return
            except httpx2.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"{url} did not come up")

    def connectors(self) -> subprocess.Popen:
        process = self.spawn("connectors", "MONITORING")
        line = process.stdout.readline().decode()
        assert line.startswith("connectors running"), line
        return process

    def client(self) -> ShepClient:
        return ShepClient(
            gateway_url=self.gateway_url,
            sender_id="EGOV_PORTAL",
            password="dev-EGOV_PORTAL",
            key=TransportKey.from_files(self.pki / "EGOV_PORTAL.pem", self.pki / "EGOV_PORTAL.key"),
            trust=TrustStore.from_dir(self.pki),
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            process.wait(timeout=20)
        asyncio.run(self._delete_namespace())

    async def _delete_namespace(self) -> None:
        await delete_broker_namespace(self.env["KZGATE_AMQP_URL"], self.namespace, self.pki)


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    running = System(tmp_path, require_rabbitmq())
    try:
        running.spawn("gateway")
        running.spawn("simulator", "MONITORING")
        running.wait_healthy(running.gateway_url)
        running.wait_healthy(running.monitoring_url)
        yield running
    finally:
        running.stop()


def test_a_connector_killed_mid_push_is_redelivered_and_applied_once(system: System) -> None:
    first = system.connectors()
    slow = {"kind": "slow", "count": 1, "seconds": 3}
    assert httpx2.post(f"{system.monitoring_url}/ops/faults", json=slow).status_code == 200
    client = system.client()
    event = build_stage_event("KZ-CRASH-1", "REGISTERED", "ELICENSE", datetime.now(UTC))
    ack = asyncio.run(client.send_async(client.async_request(STAGES, event)))

    time.sleep(1.0)  # the connector is now inside its push, waiting on the slow receiver
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    assert asyncio.run(client.message_status(ack.message_id)).state is MessageState.ON_DELIVERY

    system.connectors()  # a new connector: RabbitMQ hands it the unacknowledged message
    deadline = time.monotonic() + 30
    while asyncio.run(client.message_status(ack.message_id)).state is not MessageState.DELIVERED:
        assert time.monotonic() < deadline, "not redelivered"
        time.sleep(0.2)

    inbox = httpx2.get(f"{system.monitoring_url}/ops/inbox").json()
    assert [m["messageId"] for m in inbox].count(ack.message_id) == 1, "applied exactly once"
