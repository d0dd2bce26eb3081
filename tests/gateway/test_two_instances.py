"""Two gateway instances (separate processes, different instance ids) sharing one PostgreSQL and
one RabbitMQ: exchanges split across them are all logged, each instance in its own chain; the
chains and the signed checkpoints (periodic, and each instance's on clean shutdown) verify with
``kzgate log verify``; a replay sent to the other instance is refused, because replay claims
live in the database; and tampering afterwards makes ``kzgate log verify`` fail, naming the
chain and the record. Real processes, real ports, real services.

The bulk exchanges are AsyncChannel ``sendMessage``s with no MONITORING connector running (they
wait in their queue), so the test spends its time in the gateways rather than in a receiver. The
replay is a SyncChannel request answered by the GBDUL simulator through its connector process:
an async resend of the same envelope is, by design, answered with the same ack instead.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import delete, func, select, update

from connectors import GatewayFault, ShepClient, build_send_message_envelope, split_envelope
from connectors.db import create_engine
from connectors.roster import roster_entry
from connectors.soap.async_ import parse_send_message_response
from gateway.messagelog.schema import chains, checkpoints, records
from gateway.paths import PROJECT_ROOT
from simulators.monitoring.payload import build_stage_event
from tests.gateway.harness import SERVICE, lookup
from tests.gateway.test_connector_crash import STAGES, System
from tests.services import require_rabbitmq
from tests.storage.databases import database_url

pytestmark = pytest.mark.slow  # a whole system: scheduled first (tests/conftest.py)

EXCHANGES = 1000
IN_FLIGHT = 16
INSTANCES = ("gw-a", "gw-b")
TOTAL = 3 * EXCHANGES + 4 + 2


@dataclass
class Pair:
    system: System
    database_url: str
    urls: dict[str, str]  # instance id -> base URL
    processes: dict[str, subprocess.Popen]

    def client(self, instance: str) -> ShepClient:
        client = self.system.client()
        client.gateway_url = self.urls[instance]
        return client

    def stop_gateways(self) -> None:
        """SIGTERM, as an orchestrator stops an instance: each signs a checkpoint on the way out."""
        for process in self.processes.values():
            process.terminate()
        for name, process in self.processes.items():
            # uvicorn re-raises SIGTERM after its graceful shutdown; the checkpoint each instance
            # signs on the way out is what proves the shutdown ran (asserted by the test).
            code = process.wait(timeout=30)
            assert code in (0, -signal.SIGTERM), f"{name} exited with {code}"

    def kzgate(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kzgate.cli.main", *args],
            env={**self.system.env, "KZGATE_DATABASE_URL": self.database_url},
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    system = System(tmp_path, require_rabbitmq())
    with database_url("postgres", tmp_path) as url:
        system.env.update(
            {
                "KZGATE_DATABASE_URL": url,
                "KZGATE_WORKERS": "1",
                "KZGATE_CHECKPOINT_INTERVAL_SECONDS": "2",
            }
        )
        urls, processes = {}, {}
        try:
            for offset, instance in enumerate(INSTANCES):
                port = system.base + 10 + offset  # clear of the simulators' offsets
                system.env.update({"KZGATE_PORT": str(port), "KZGATE_INSTANCE_ID": instance})
                processes[instance] = system.spawn("gateway")
                urls[instance] = f"http://127.0.0.1:{port}"
            system.spawn("simulator", "GBDUL")
            connectors = system.spawn("connectors", "GBDUL")  # the sync provider's connector
            for url_of_instance in urls.values():
                system.wait_healthy(url_of_instance)
            system.wait_healthy(roster_entry("GBDUL").url("127.0.0.1", system.base))
            line = connectors.stdout.readline().decode()  # type: ignore[union-attr]
            assert line.startswith("connectors running"), line
            yield Pair(system, url, urls, processes)
        finally:
            system.stop()


def _signed_events(client: ShepClient, count: int, tag: str) -> list[tuple[str, bytes]]:
    out = []
    for n in range(count):
        event = build_stage_event(f"KZ-2I-{tag}-{n}", "REGISTERED", "ELICENSE", datetime.now(UTC))
        request = client.async_request(STAGES, event, message_id=f"2i-{tag}-{n}")
        out.append((request.info.message_id, client.sign(build_send_message_envelope(request))))
    return out


async def _send_all(pair: Pair, signed: list[tuple[str, bytes]]) -> list[str]:
    gate = asyncio.Semaphore(IN_FLIGHT)
    async with httpx2.AsyncClient(timeout=60) as http:  # kept-alive connections, as real callers
        clients = [pair.client(instance) for instance in INSTANCES]
        for client in clients:
            client.http = http

        async def send(n: int, body: bytes) -> str:
            async with gate:
                root, _ = await clients[n % len(clients)].call("/async", body)
                return parse_send_message_response(split_envelope(root).operation).message_id

        # No warm-up: the first requests reach each instance together, as after a deploy (the
        # schemas compiled concurrently once answered Server.Internal "does not compile").
        return list(await asyncio.gather(*(send(n, body) for n, (_, body) in enumerate(signed))))


async def _log_state(url: str) -> tuple[dict[str, int], list[str], int, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            lengths = {
                r.instance_id: int(r.length)
                for r in await conn.execute(select(chains.c.instance_id, chains.c.length))
            }
            accepted = list(
                (
                    await conn.execute(
                        select(records.c.message_id).where(
                            records.c.service_id == STAGES,
                            records.c.direction == "request-in",
                            records.c.outcome == "accepted",
                        )
                    )
                ).scalars()
            )
            count = (await conn.execute(select(func.count()).select_from(checkpoints))).scalar()
            covered = (
                await conn.execute(select(checkpoints.c.records).order_by(checkpoints.c.id.desc()))
            ).scalar()
    finally:
        await engine.dispose()
    return lengths, accepted, int(count or 0), int(covered or 0)


async def _tamper(url: str, instance: str, action: str) -> str:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            query = select(chains.c.chain_id).where(chains.c.instance_id == instance)
            chain_id = (await conn.execute(query)).scalar_one()
            if action == "edit":
                await conn.execute(
                    update(records)
                    .where(records.c.chain_id == chain_id, records.c.chain_seq == 17)
                    .values(sender_id="KEDEN")
                )
            else:
                await conn.execute(delete(records).where(records.c.chain_id == chain_id))
                await conn.execute(delete(chains).where(chains.c.chain_id == chain_id))
    finally:
        await engine.dispose()
    return chain_id


# 1,000 exchanges through two whole gateways plus two `kzgate log verify` runs: ~40 s alone, several
# times that beside three other xdist workers on a loaded two-core machine.
@pytest.mark.timeout(360)
def test_two_instances_share_one_log_of_two_chains_and_one_replay_guard(pair: Pair) -> None:
    t0 = time.monotonic()
    signed = _signed_events(pair.system.client(), EXCHANGES, str(os.getpid()))
    started = time.monotonic()
    acked = asyncio.run(_send_all(pair, signed))
    sent = time.monotonic() - started
    assert acked == [message_id for message_id, _ in signed], "each acked under its own id"

    # A signed sync request answered through gw-a, sent as is to gw-b: its claim is in the
    # database, so gw-b refuses it although it never saw it.
    client = pair.system.client()
    request = client.signed_envelope(client.request(SERVICE, lookup()))
    answered = asyncio.run(pair.client("gw-a").post(request))
    assert answered.response.data is not None  # GBDUL's answer came back through gw-a
    with pytest.raises(GatewayFault) as refused:
        asyncio.run(pair.client("gw-b").post(request))
    assert refused.value.info.error_code == "Client.Security.Replay"

    time.sleep(2.5)  # at least one periodic checkpoint while both instances run
    pair.stop_gateways()
    elapsed = time.monotonic() - started

    lengths, accepted, checkpoint_count, covered = asyncio.run(_log_state(pair.database_url))
    assert sorted(accepted) == sorted(message_id for message_id, _ in signed), "each logged once"
    assert set(lengths) == set(INSTANCES), lengths  # one chain per instance (one worker each)
    # Per async exchange request-in, request-out (the queued copy) and response-out; the sync
    # exchange adds four (request in/out, response in/out), the refused replay two (in, fault).
    assert sum(lengths.values()) == TOTAL
    assert all(length >= EXCHANGES for length in lengths.values()), lengths
    assert checkpoint_count >= 2
    assert covered == sum(lengths.values()), "the last checkpoint (at shutdown) covers everything"

    t1 = time.monotonic()
    verified = pair.kzgate("log", "verify")
    print(f"\nsigning {started - t0:.1f} s, verify {time.monotonic() - t1:.1f} s")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{TOTAL} records in 2 chain(s), {checkpoint_count} checkpoint(s)" in (verified.stdout)

    edited = asyncio.run(_tamper(pair.database_url, "gw-a", "edit"))
    removed = asyncio.run(_tamper(pair.database_url, "gw-b", "remove"))
    tampered = pair.kzgate("log", "verify")
    assert tampered.returncode == 1
    assert f"chain {edited}, seq 17: edited-record" in tampered.stdout, tampered.stdout
    assert f"chain {removed}: chain-removed" in tampered.stdout, tampered.stdout
    print(
        f"\n{EXCHANGES} exchanges over two instances in {sent:.1f} s ({elapsed:.1f} s to stopped)"
    )
