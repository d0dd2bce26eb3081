"""SyncChannel throughput and latency, beside two floors measured in the same run.

Starts the gateway and the GBDUL simulator as separate processes on free ports (embedded
defaults: SQLite message log; the broker per ``--broker``, and the output's ``broker:`` line says
which one the gateway picked), then sends signed SendMessage round trips at 1, 8 and 32
concurrent clients. Requests are signed before the clock starts, so the figures are the system's,
not the load generator's signing.

Two floors, both measured before the gateway starts:

- crypto floor: sign + verify of the same envelope with no gateway at all, in this process; one
  gateway round trip costs at least four of those pairs (caller → gateway → provider → gateway →
  caller), which the ``vs crypto/4`` column accounts for.
- aio-pika floor (bench/floors.py): persistent, publisher-confirmed messages of the request's size
  through a throwaway RabbitMQ quorum queue, consumed and acked, at the same concurrency. A round
  trip crosses the broker twice (the request to the provider's queue, the reply back), which the
  ``vs amqp/2`` column accounts for; ``p50 ×amqp`` is the round trip's p50 over one bare message's.
  On the embedded broker the floor is still RabbitMQ's. Without RabbitMQ the columns show "-".

A ratio of 1.0 means as fast as the floor alone; the gap is everything else the gateway does.

    .venv/bin/python bench/sync_throughput.py [--requests 400] [--levels 1,8,32] [--broker auto]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.floors import FloorLevel, floor_or_reason  # noqa: E402
from bench.harness import (  # noqa: E402
    BROKER_CHOICES,
    System,
    add_json_option,
    cpu_ms_per_message,
    cpu_snapshot,
    level_progress,
    percentile,
    print_figures,
    start_system,
    stop_system,
    tables_unless_json,
)
from connectors import (  # noqa: E402
    ShepClient,
    TransportKey,
    TrustStore,
    build_request_envelope,
    init_pki,
    sign_envelope,
    verify_envelope,
)
from simulators.legal_entities.payload import build_request  # noqa: E402

SERVICE = "GbdulInfoByBin_v1"
BIN = "170640582744"
HOPS_WITH_CRYPTO = 4  # each a sign + verify pair
BROKER_CROSSINGS = 2  # the request to the provider's queue, the reply back


def crypto_floor(client: ShepClient, trust: TrustStore, seconds: float = 3.0) -> list[float]:
    """Latencies of sign + verify of one request envelope, with no gateway and no network."""
    template = build_request_envelope(client.request(SERVICE, build_request(BIN)))
    latencies: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        envelope = etree.fromstring(etree.tostring(template))
        started = time.perf_counter()
        sign_envelope(envelope, client.key)
        verify_envelope(envelope, trust, now=datetime.now(UTC))
        latencies.append(time.perf_counter() - started)
    return latencies


async def run_level(url: str, bodies: list[bytes], concurrency: int) -> tuple[float, list[float]]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            response = await http.post(f"{url}/sync", content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"refused: {response.text[:500]}")

    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(bodies) / elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="round trips per level")
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--database-url", help="message log URL (default: SQLite in a temp dir)")
    parser.add_argument("--broker", default="auto", choices=BROKER_CHOICES)
    parser.add_argument("--floor-messages", type=int, default=1000, help="per aio-pika level")
    parser.add_argument(
        "--workers", type=int, default=1, help="gateway worker processes (KZGATE_WORKERS; 0: cores)"
    )
    add_json_option(parser)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        init_pki(var / "pki")
        pki = var / "pki"
        client = ShepClient(
            gateway_url="",
            sender_id="EGOV_PORTAL",
            password="dev-EGOV_PORTAL",
            key=TransportKey.from_files(pki / "EGOV_PORTAL.pem", pki / "EGOV_PORTAL.key"),
            trust=TrustStore.from_dir(pki),
        )
        floor = crypto_floor(client, client.trust)
        size = len(client.signed_envelope(client.request(SERVICE, build_request(BIN))))
        amqp = floor_or_reason(size, levels, args.floor_messages)
        system = start_system(
            var,
            ["GBDUL"],
            broker=args.broker,
            database_url=args.database_url,
            extra_env={"KZGATE_WORKERS": str(args.workers)},
        )
        try:
            with tables_unless_json(args.json):
                figures = report(system, client, floor, amqp, levels, args)
        finally:
            stop_system(system)
    if args.json:
        print_figures(figures)


def report(
    system: System,
    client: ShepClient,
    floor: list[float],
    amqp: dict[int, FloorLevel] | None,
    levels: list[int],
    args: argparse.Namespace,
) -> list[dict[str, float]]:
    """Run and print every level; the figures of each level."""
    floor_rate = 1 / statistics.mean(floor)
    print(system.broker_line(args.broker))
    health = system.health()
    print(f"dispatch: {health['dispatch']}; gateway workers: {health['worker']['of']}")
    print(
        f"crypto floor: sign+verify of one envelope, no gateway: {floor_rate:,.0f}/s "
        f"(p50 {percentile(floor, 0.5):.2f} ms) — a round trip needs {HOPS_WITH_CRYPTO} such pairs"
    )
    print(
        f"{'clients':>7} {'round trips/s':>14} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'vs crypto':>9} {'vs crypto/4':>11} {'vs amqp':>8} {'vs amqp/2':>9} "
        f"{'p50 ×amqp':>9} {'gw CPU ms':>10} {'GBDUL CPU ms':>13}"
    )
    warm = [client.signed_envelope(client.request(SERVICE, build_request(BIN))) for _ in range(20)]
    asyncio.run(run_level(system.url, warm, 4))
    figures = []
    for level in levels:
        bodies = [
            client.signed_envelope(client.request(SERVICE, build_request(BIN)))
            for _ in range(args.requests)
        ]
        cpu_before = cpu_snapshot(system)
        with level_progress(f"{level} clients, {len(bodies)} round trips"):
            rate, latencies = asyncio.run(run_level(system.url, bodies, level))
        cpu = cpu_ms_per_message(cpu_before, cpu_snapshot(system), len(bodies))
        figures.append(
            {
                "clients": level,
                "roundTripsPerSecond": rate,
                "p50Ms": percentile(latencies, 0.5),
                "p99Ms": percentile(latencies, 0.99),
                "vsCryptoFloor": rate / floor_rate,
                "gatewayCpuMsPerRoundTrip": cpu[0],
                "gbdulCpuMsPerRoundTrip": cpu[1],
            }
        )
        print(
            f"{level:>7} {rate:>14,.0f} {percentile(latencies, 0.5):>8.2f} "
            f"{percentile(latencies, 0.99):>8.2f} {rate / floor_rate:>9.3f} "
            f"{rate * HOPS_WITH_CRYPTO / floor_rate:>11.3f} "
            f"{amqp_ratios(rate, latencies, (amqp or {}).get(level))} "
            f"{cpu[0]:>10.2f} {cpu[1]:>13.2f}"
        )
    return figures


def amqp_ratios(rate: float, latencies: list[float], bare: FloorLevel | None) -> str:
    """The three aio-pika columns: rate vs one bare message, vs two, and the p50 multiple."""
    if bare is None:
        return f"{'-':>8} {'-':>9} {'-':>9}"
    times = percentile(latencies, 0.5) / percentile(bare.delivery_latencies, 0.5)
    return (
        f"{rate / bare.delivered_per_s:>8.3f} "
        f"{rate * BROKER_CROSSINGS / bare.delivered_per_s:>9.3f} {times:>8.1f}×"
    )


if __name__ == "__main__":
    main()
