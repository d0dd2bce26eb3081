"""The gateway as several worker processes on one port (``KZGATE_WORKERS``): any worker takes
any request, and a worker killed with SIGKILL under load loses nothing that was accepted and
applies nothing twice — its unacknowledged pushes go to another worker's connector, uvicorn
starts a replacement, and a caller that lost its answer resends the same envelope and gets the
same ack. Real processes, real RabbitMQ, real ports."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest

from connectors import GatewayFault, MessageState, build_send_message_envelope, split_envelope
from connectors.soap.async_ import parse_send_message_response
from simulators.monitoring.payload import build_stage_event
from tests.gateway.test_connector_crash import STAGES, System
from tests.services import require_rabbitmq

pytestmark = pytest.mark.slow  # a whole system: scheduled first (tests/conftest.py)

MESSAGES = 60


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[System]:
    running = System(tmp_path, require_rabbitmq())
    running.env["KZGATE_WORKERS"] = "2"
    running.env["KZGATE_CONNECTORS"] = "in-process"  # each worker pushes, as `./run` does
    try:
        running.spawn("gateway")
        running.spawn("simulator", "MONITORING")
        running.wait_healthy(running.gateway_url)
        running.wait_healthy(running.monitoring_url)
        yield running
    finally:
        running.stop()


def _worker_pids(url: str, want: int, seconds: float = 90) -> set[int]:
    """The pids of the workers answering /health, once ``want`` distinct ones have answered.
    The bound is generous: a worker still importing on a loaded CI machine answers late."""
    seen: set[int] = set()
    deadline = time.monotonic() + seconds
    while len(seen) < want:
        assert time.monotonic() < deadline, f"only workers {seen} answered"
        try:
            # A fresh connection each time: the kernel spreads new connections over the workers.
            health = httpx2.get(f"{url}/health", timeout=2).json()
        except httpx2.TransportError:
            continue
        assert health["worker"]["of"] == 2
        seen.add(health["worker"]["pid"])
    return seen


async def _send_until_acked(system: System, body: bytes) -> str:
    """POST one signed sendMessage until an ack comes; a lost answer is resent as it was."""
    client = system.client()
    deadline = time.monotonic() + 60
    while True:
        try:
            root, _ = await client.call("/async", body)
            return parse_send_message_response(split_envelope(root).operation).message_id
        except (httpx2.TransportError, GatewayFault) as exc:
            if isinstance(exc, GatewayFault) and not exc.info.error_code.startswith("Server."):
                raise  # a refusal of the message itself is a defect, not a lost answer
            assert time.monotonic() < deadline, f"never acked: {exc!r}"
            await asyncio.sleep(0.2)


def _timed_thread_waits_work() -> bool:
    """Whether a thread's timed wait returns on this machine (not under libfaketime)."""
    try:
        subprocess.run(
            [sys.executable, "-c", "import threading; threading.Event().wait(0.01)"],
            timeout=10,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return False
    return True


def test_a_worker_killed_under_load_loses_nothing_accepted(workers: System) -> None:
    first, second = sorted(_worker_pids(workers.gateway_url, 2))
    client = workers.client()
    bodies, ids = [], []
    for n in range(MESSAGES):
        event = build_stage_event(f"KZ-WORKERS-{n}", "REGISTERED", "ELICENSE", datetime.now(UTC))
        request = client.async_request(STAGES, event, message_id=f"workers-{n}-{os.getpid()}")
        bodies.append(client.sign(build_send_message_envelope(request)))
        ids.append(request.info.message_id)

    async def load() -> list[str]:
        gate, acked = asyncio.Semaphore(8), []

        async def send(body: bytes) -> None:
            async with gate:
                acked.append(await _send_until_acked(workers, body))
                if len(acked) == MESSAGES // 4:
                    os.kill(first, signal.SIGKILL)  # three quarters still to send, 8 in flight

        await asyncio.gather(*(send(body) for body in bodies))
        return acked

    acked = asyncio.run(load())
    assert sorted(acked) == sorted(ids), "every message acked under its own messageId"

    # Another worker kept serving; uvicorn replaced the dead one.
    if _timed_thread_waits_work():
        alive = _worker_pids(workers.gateway_url, 2)
        assert second in alive and first not in alive
    else:
        # Under `faketime -f '+365d' ./test`: libfaketime shifts the monotonic clock but not the
        # kernel's deadline of a timed thread wait (sem_clockwait), so uvicorn's supervisor, which
        # loops on Event.wait(0.5), sleeps for the whole shift and restarts nobody. The survivor
        # still serves, and every guarantee below is still checked.
        alive = _worker_pids(workers.gateway_url, 1)
        assert alive == {second}

    async def states() -> dict[str, MessageState]:
        return {m: (await client.message_status(m)).state for m in ids}

    deadline = time.monotonic() + 60
    while True:
        now = asyncio.run(states())
        if all(state is MessageState.DELIVERED for state in now.values()):
            break
        late = [m for m, state in now.items() if state is not MessageState.DELIVERED]
        assert time.monotonic() < deadline, f"not delivered: {late}"
        time.sleep(0.5)
    inbox = [m["messageId"] for m in httpx2.get(f"{workers.monitoring_url}/ops/inbox").json()]
    assert sorted(m for m in inbox if m in ids) == sorted(ids), "each applied exactly once"
