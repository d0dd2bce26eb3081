"""SyncChannel throughput and latency, beside three baselines measured in the same run.

For each setup (``--setups``: ``embedded`` — the default SQLite log and embedded broker — and
``rabbitmq+postgres`` — RabbitMQ and a throwaway schema of the machine's PostgreSQL) and each
gateway worker count (``--workers``, e.g. ``1,N`` where N is the number of cores), the gateway and
the GBDUL simulator start as separate processes on free ports; signed SendMessage round trips go
out at each level of concurrent clients (``--levels``, default 1,8,32,64). Requests are signed
before the clock starts, so the figures are the system's, not the load generator's signing.

Baselines, from the same run:

- **crypto floor**: one core's sign + verify pairs per CPU second (this process, no gateway). A trip
  costs three such pairs — two in the gateway (the caller's request in, the relayed copy out; the
  provider's answer in, the gateway's answer out) and one in the provider — so with every core
  (``os.cpu_count()``) doing nothing but crypto, the machine could serve ``cores × pairs/s ÷ 3``
  trips per second. ``× floor`` is the measured rate over that.
- **gateway CPU ÷ its crypto**: the gateway's CPU per trip (every worker) over the time of the two
  pairs it must do: 1.0 would be a gateway that does nothing but its cryptography.
- **direct**: the same kind of signed requests (signed by the gateway's key, as the provider
  demands) sent straight to the GBDUL simulator, no gateway, at the same concurrency.
  ``× direct`` is the gateway's rate over it: what putting the gateway in between costs.
- **AMQP floor** (bench/floors.py): persistent, confirmed messages of the request's size through
  a throwaway RabbitMQ quorum queue; a round trip crosses the broker twice.

``--offered 5,10,20`` adds open-loop runs at those fixed rates (a request starts every 1/rate s,
however slow the answers): the latency callers see at a given load rather than at saturation.

``--soak DURATION`` (default 10m when given without a value) instead keeps ``--soak-clients``
clients busy for that long on the first setup and worker count, and prints the RSS of every
process (each gateway worker, the simulator) at the start and the end, with the growth.

    .venv/bin/python bench/sync_throughput.py [--setups embedded,rabbitmq+postgres]
        [--workers 1,N] [--levels 1,8,32,64] [--requests 200] [--no-direct] [--offered 5,10]
        [--soak 30s]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.floors import FloorLevel, floor_or_reason  # noqa: E402
from bench.harness import (  # noqa: E402
    System,
    add_json_option,
    cpu_ms_per_message,
    cpu_snapshot,
    level_progress,
    machine_busy_seconds,
    percentile,
    print_figures,
    rss_snapshot,
    start_system,
    stop_system,
    tables_unless_json,
    throwaway_postgres,
)
from connectors import (  # noqa: E402
    GATEWAY_ID,
    ShepClient,
    TransportKey,
    TrustStore,
    build_request_envelope,
    init_pki,
    parse_fault,
    sign_envelope,
    verify_envelope,
)
from gateway.registry import load_registry  # noqa: E402
from simulators.legal_entities.payload import build_request  # noqa: E402

SERVICE = "GbdulInfoByBin_v1"
BIN = "170640582744"
PAIRS_PER_TRIP = 3  # sign + verify pairs: two in the gateway, one in the provider
GATEWAY_PAIRS = 2
BROKER_CROSSINGS = 2  # the request to the provider's queue, the reply back
SETUPS = {"embedded": ("embedded", False), "rabbitmq+postgres": ("rabbitmq", True)}
CORES = os.cpu_count() or 1


@dataclass(frozen=True)
class Crypto:
    """One core's sign + verify of a request envelope, in this process."""

    pair_seconds: float  # mean time of one pair

    @property
    def pairs_per_s(self) -> float:
        return 1 / self.pair_seconds

    @property
    def floor_trips_per_s(self) -> float:
        """Trips/s of a machine whose every core does only a trip's crypto."""
        return CORES * self.pairs_per_s / PAIRS_PER_TRIP

    @property
    def gateway_ms_per_trip(self) -> float:
        return GATEWAY_PAIRS * self.pair_seconds * 1000


def crypto_floor(client: ShepClient, trust: TrustStore, seconds: float = 3.0) -> Crypto:
    """Sign + verify one request envelope repeatedly, with no gateway and no network.

    Timed in this thread's CPU time, as the processes' CPU per trip is: on a shared machine the
    wall clock would count the other tenants' work as ours."""
    template = build_request_envelope(client.request(SERVICE, build_request(BIN)))
    costs: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        envelope = etree.fromstring(etree.tostring(template))
        started = time.thread_time()
        sign_envelope(envelope, client.key)
        verify_envelope(envelope, trust, now=datetime.now(UTC))
        costs.append(time.thread_time() - started)
    return Crypto(statistics.mean(costs))


async def run_level(
    urls: list[str], bodies: list[bytes], concurrency: int
) -> tuple[float, list[float]]:
    """Post every body with ``concurrency`` clients spread over ``urls``: (rate, latencies)."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(http: httpx2.AsyncClient, url: str) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            response = await http.post(url, content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"refused: {_fault_of(response)}")

    async with httpx2.AsyncClient(limits=limits, timeout=60) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http, urls[i % len(urls)]) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(bodies) / elapsed, latencies


async def run_offered(
    urls: list[str], bodies: list[bytes], rate: float
) -> tuple[float, list[float]]:
    """Open loop: start one request every ``1/rate`` s whatever the answers; (achieved, latencies).

    Unlike the closed-loop levels, a slow answer does not slow the senders down: this is the
    latency a caller sees at a given load, not at saturation."""
    latencies: list[float] = []
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    limits = httpx2.Limits(max_connections=256, max_keepalive_connections=256)

    async def one(http: httpx2.AsyncClient, url: str, body: bytes) -> None:
        started = time.perf_counter()
        response = await http.post(url, content=body, headers=headers)
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"refused: {response.text[:500]}")

    async with httpx2.AsyncClient(limits=limits, timeout=60) as http:
        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks = []
        for index, body in enumerate(bodies):
            await asyncio.sleep(max(start + index / rate - loop.time(), 0))
            tasks.append(asyncio.create_task(one(http, urls[index % len(urls)], body)))
        await asyncio.gather(*tasks)
        elapsed = loop.time() - start
    return len(bodies) / elapsed, latencies


class Requests:
    """Fresh signed requests: the caller's, for the gateway; the gateway's, for the provider."""

    def __init__(self, pki: Path) -> None:
        self.client = ShepClient(
            gateway_url="",
            sender_id="EGOV_PORTAL",
            password="dev-EGOV_PORTAL",
            key=TransportKey.from_files(pki / "EGOV_PORTAL.pem", pki / "EGOV_PORTAL.key"),
            trust=TrustStore.from_dir(pki),
        )
        self.gateway_key = TransportKey.from_files(
            pki / f"{GATEWAY_ID}.pem", pki / f"{GATEWAY_ID}.key"
        )
        self.provider_path = urlsplit(load_registry(pki).services[SERVICE].endpoint or "").path

    def to_gateway(self, n: int) -> list[bytes]:
        client = self.client
        return [
            client.signed_envelope(client.request(SERVICE, build_request(BIN))) for _ in range(n)
        ]

    def to_provider(self, n: int) -> list[bytes]:
        """What the gateway relays: the request signed with the gateway's own key."""
        bodies = []
        for _ in range(n):
            envelope = build_request_envelope(self.client.request(SERVICE, build_request(BIN)))
            sign_envelope(envelope, self.gateway_key)
            bodies.append(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))
        return bodies


def parse_workers(text: str) -> list[int]:
    """``1,N`` → [1, cores]; ``0`` also means one per core."""
    counts = []
    for item in text.split(","):
        item = item.strip()
        count = CORES if item.upper() == "N" or item == "0" else int(item)
        if count not in counts:
            counts.append(count)
    return counts


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``10m``, ``1h`` → seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    if text and text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)


@contextlib.contextmanager
def running(
    var: Path, setup: str, workers: int, *, instances: int = 1, fresh: bool = True
) -> Iterator[System]:
    """The gateway (``instances`` of it) and GBDUL for one setup; a throwaway schema if needed."""
    broker, on_postgres = SETUPS[setup]
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(throwaway_postgres()) if on_postgres else None
        if not on_postgres and fresh:
            for old in var.glob("kzgate.db*"):  # each embedded run starts on an empty log
                old.unlink()
        system = start_system(
            var,
            ["GBDUL"],
            broker=broker,
            database_url=database_url,
            extra_env={"KZGATE_WORKERS": str(workers)},
            instances=instances,
        )
        try:
            yield system
        finally:
            stop_system(system)


def measure(
    system: System,
    urls: list[str],
    bodies: list[bytes],
    clients: int,
    processes: list[str],
) -> dict[str, Any]:
    """One level: the rate, latencies and CPU ms per trip of each named process."""
    before = {name: value for name, value in cpu_snapshot(system).items() if name in processes}
    machine, client = machine_busy_seconds(), time.process_time()
    with level_progress(f"{clients} clients, {len(bodies)} round trips"):
        rate, latencies = asyncio.run(run_level(urls, bodies, clients))
    client, machine = time.process_time() - client, machine_busy_seconds() - machine
    after = {name: value for name, value in cpu_snapshot(system).items() if name in processes}
    cpu = dict(zip(before, cpu_ms_per_message(before, after, len(bodies)), strict=True))
    return {
        "clients": clients,
        "roundTripsPerSecond": rate,
        "p50Ms": percentile(latencies, 0.5),
        "p99Ms": percentile(latencies, 0.99),
        "cpuMsPerTrip": cpu,
        # What the load generator (this process) and the whole machine spent per trip: the rest
        # (machine − named processes − load generator) is RabbitMQ, PostgreSQL and the kernel.
        "loadGeneratorCpuMsPerTrip": client * 1000 / len(bodies),
        "machineCpuMsPerTrip": machine * 1000 / len(bodies),
    }


def offered_levels(
    system: System, requests: Requests, rates: list[float], per_level: int
) -> list[dict[str, Any]]:
    """The gateway at fixed offered loads (trips/s): achieved rate, p50/p99, CPU per trip."""
    urls = [f"{url}/sync" for url in system.gateway_urls]
    gateways = system.gateway_names()
    figures = []
    for rate in rates:
        bodies = requests.to_gateway(per_level)
        before = cpu_snapshot(system)
        with level_progress(f"{rate:g} trips/s offered, {len(bodies)} round trips"):
            achieved, latencies = asyncio.run(run_offered(urls, bodies, rate))
        cpu = dict(
            zip(before, cpu_ms_per_message(before, cpu_snapshot(system), len(bodies)), strict=True)
        )
        figures.append(
            {
                "offeredPerSecond": rate,
                "roundTripsPerSecond": achieved,
                "p50Ms": percentile(latencies, 0.5),
                "p99Ms": percentile(latencies, 0.99),
                "gatewayCpuMsPerTrip": sum(cpu[name] for name in gateways),
            }
        )
    return figures


def print_offered(figures: list[dict[str, Any]]) -> None:
    print(f"{'offered/s':>9} {'achieved/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'gw CPU ms':>10}")
    for level in figures:
        print(
            f"{level['offeredPerSecond']:>9g} {level['roundTripsPerSecond']:>10,.1f} "
            f"{level['p50Ms']:>8.1f} {level['p99Ms']:>8.1f} {level['gatewayCpuMsPerTrip']:>10.2f}"
        )


def direct_baseline(
    system: System, requests: Requests, levels: list[int], per_level: int
) -> dict[int, dict[str, Any]]:
    """The provider alone: gateway-signed requests straight to GBDUL's endpoint."""
    url = system.simulator_urls["GBDUL"] + requests.provider_path
    asyncio.run(run_level([url], requests.to_provider(20), 4))
    return {
        level: measure(system, [url], requests.to_provider(per_level), level, ["GBDUL"])
        for level in levels
    }


def gateway_levels(
    system: System, requests: Requests, levels: list[int], per_level: int
) -> list[dict[str, Any]]:
    urls = [f"{url}/sync" for url in system.gateway_urls]
    asyncio.run(run_level(urls, requests.to_gateway(20 * len(urls)), 4 * len(urls)))
    gateways = system.gateway_names()
    figures = []
    for level in levels:
        level_figures = measure(
            system, urls, requests.to_gateway(per_level), level, [*gateways, "GBDUL"]
        )
        cpu = level_figures["cpuMsPerTrip"]
        level_figures["gatewayCpuMsPerTrip"] = sum(cpu[name] for name in gateways)
        level_figures["gbdulCpuMsPerTrip"] = cpu["GBDUL"]
        level_figures["restCpuMsPerTrip"] = (
            level_figures["machineCpuMsPerTrip"]
            - level_figures["gatewayCpuMsPerTrip"]
            - cpu["GBDUL"]
            - level_figures["loadGeneratorCpuMsPerTrip"]
        )
        figures.append(level_figures)
    return figures


def print_header(crypto: Crypto) -> None:
    print(
        f"crypto floor: one core signs + verifies {crypto.pairs_per_s:,.0f} envelopes/s "
        f"({crypto.pair_seconds * 1000:.2f} ms a pair); a trip costs {PAIRS_PER_TRIP} pairs "
        f"({GATEWAY_PAIRS} in the gateway = {crypto.gateway_ms_per_trip:.2f} ms), so {CORES} cores "
        f"doing only crypto would serve {crypto.floor_trips_per_s:,.0f} trips/s"
    )


def print_direct(direct: dict[int, dict[str, Any]]) -> None:
    print("direct baseline: gateway-signed requests straight to GBDUL, no gateway")
    print(f"{'clients':>7} {'trips/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'GBDUL CPU ms':>13}")
    for level, figures in direct.items():
        print(
            f"{level:>7} {figures['roundTripsPerSecond']:>8,.0f} {figures['p50Ms']:>8.1f} "
            f"{figures['p99Ms']:>8.1f} {figures['cpuMsPerTrip']['GBDUL']:>13.2f}"
        )


def print_levels(
    title: str,
    figures: list[dict[str, Any]],
    crypto: Crypto,
    direct: dict[int, dict[str, Any]],
    amqp: dict[int, FloorLevel] | None,
) -> None:
    print(title)
    print(
        f"{'clients':>7} {'trips/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'× floor':>8} "
        f"{'× direct':>9} {'× amqp/2':>9} {'gw CPU ms':>10} {'÷ its crypto':>13} "
        f"{'GBDUL CPU ms':>13} {'client ms':>10} {'rest ms':>8} {'no-gw ceiling/s':>16}"
    )
    for level in figures:
        clients, rate = level["clients"], level["roundTripsPerSecond"]
        level["vsCryptoFloor"] = rate / crypto.floor_trips_per_s
        level["gatewayCpuOverItsCrypto"] = level["gatewayCpuMsPerTrip"] / crypto.gateway_ms_per_trip
        bare = direct.get(clients)
        level["vsDirect"] = rate / bare["roundTripsPerSecond"] if bare else None
        floor = (amqp or {}).get(clients)
        level["vsAmqpHalf"] = rate * BROKER_CROSSINGS / floor.delivered_per_s if floor else None
        # The most trips/s the machine's cores could serve if the gateway cost nothing and
        # everything else (provider, load generator, broker, database, kernel) cost what it did.
        others = level["machineCpuMsPerTrip"] - level["gatewayCpuMsPerTrip"]
        level["noGatewayCeilingPerSecond"] = CORES * 1000 / others if others > 0 else float("inf")
        print(
            f"{clients:>7} {rate:>8,.0f} {level['p50Ms']:>8.1f} {level['p99Ms']:>8.1f} "
            f"{level['vsCryptoFloor']:>8.3f} {_ratio(level['vsDirect'], 9)} "
            f"{_ratio(level['vsAmqpHalf'], 9)} {level['gatewayCpuMsPerTrip']:>10.2f} "
            f"{level['gatewayCpuOverItsCrypto']:>12.1f}× {level['gbdulCpuMsPerTrip']:>13.2f} "
            f"{level['loadGeneratorCpuMsPerTrip']:>10.2f} {level['restCpuMsPerTrip']:>8.2f} "
            f"{level['noGatewayCeilingPerSecond']:>16,.0f}"
        )


def _fault_of(response: httpx2.Response) -> str:
    """The fault's code and message (a signed fault's header alone fills the first 500 bytes)."""
    try:
        fault = parse_fault(etree.fromstring(response.content))
    except etree.XMLSyntaxError:
        fault = None
    if fault is None:
        return f"HTTP {response.status_code}: {response.text[:300]}"
    return f"HTTP {response.status_code} {fault.error_code}: {fault.error_message}"


def _ratio(value: float | None, width: int) -> str:
    return f"{value:>{width}.3f}" if value is not None else f"{'-':>{width}}"


def soak(system: System, requests: Requests, clients: int, seconds: float) -> dict[str, Any]:
    """Keep ``clients`` busy for ``seconds``; RSS of every process before and after.

    The start is taken after a warm-up, so that caches filled and modules imported by the first
    requests do not count as growth."""
    urls = [f"{url}/sync" for url in system.gateway_urls]
    asyncio.run(run_level(urls, requests.to_gateway(max(clients * 20, 200)), clients))
    start = rss_snapshot(system)
    started = time.monotonic()
    trips = 0
    batch = max(clients * 20, 100)
    with level_progress(f"soak: {clients} clients for {seconds:g} s"):
        while time.monotonic() - started < seconds:
            asyncio.run(run_level(urls, requests.to_gateway(batch), clients))
            trips += batch
    end = rss_snapshot(system)
    elapsed = time.monotonic() - started
    rate = trips / elapsed
    print(f"soak: {trips} round trips in {elapsed:.0f} s ({rate:,.0f}/s), {clients} clients")
    print(f"{'process':>22} {'RSS start MB':>13} {'RSS end MB':>11} {'growth':>8}")
    rows = {}
    for name in sorted(set(start) | set(end)):
        before, after = start.get(name), end.get(name)
        growth = (after - before) / before * 100 if before and after else None
        rows[name] = {"startBytes": before, "endBytes": after, "growthPercent": growth}
        print(
            f"{name:>22} {_mb(before):>13} {_mb(after):>11} "
            f"{(f'{growth:+.1f}%' if growth is not None else '-'):>8}"
        )
    ended, started_anew = sorted(set(start) - set(end)), sorted(set(end) - set(start))
    if ended or started_anew:
        # A worker replaced mid-soak: its RSS says nothing about growth, and why it went matters.
        gone, new = ", ".join(ended) or "-", ", ".join(started_anew) or "-"
        print(f"ended during the soak: {gone}; started: {new}")
    return {
        "seconds": elapsed,
        "roundTrips": trips,
        "clients": clients,
        "rss": rows,
        "ended": ended,
        "started": started_anew,
    }


def _mb(size: int | None) -> str:
    return f"{size / 2**20:.1f}" if size is not None else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="round trips per level")
    parser.add_argument("--levels", default="1,8,32,64")
    parser.add_argument(
        "--setups", default="embedded,rabbitmq+postgres", help=f"any of {', '.join(SETUPS)}"
    )
    parser.add_argument(
        "--workers", default="1,N", help="gateway worker counts to run (N or 0: one per core)"
    )
    parser.add_argument("--floor-messages", type=int, default=500, help="per aio-pika level")
    parser.add_argument("--no-amqp-floor", action="store_true", help="skip the aio-pika floor")
    parser.add_argument("--no-direct", action="store_true", help="skip the direct baseline")
    parser.add_argument(
        "--soak", nargs="?", const="10m", metavar="DURATION", help="soak instead (default 10m)"
    )
    parser.add_argument("--soak-clients", type=int, default=8)
    parser.add_argument(
        "--offered",
        metavar="RATES",
        help="also run open-loop at these offered trips/s (e.g. 5,10,20): latency at a given load",
    )
    add_json_option(parser)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    setups = [s.strip() for s in args.setups.split(",")]
    unknown = [s for s in setups if s not in SETUPS]
    if unknown:
        parser.error(f"unknown setup(s) {unknown}; choose from {list(SETUPS)}")
    workers = parse_workers(args.workers)
    with tempfile.TemporaryDirectory() as tmp, tables_unless_json(args.json):
        var = Path(tmp)
        init_pki(var / "pki")
        requests = Requests(var / "pki")
        if args.soak:
            with running(var, setups[0], workers[0]) as system:
                print(f"setup: {setups[0]}, gateway workers: {workers[0]}")
                figures: Any = soak(system, requests, args.soak_clients, parse_duration(args.soak))
        else:
            figures = run_all(var, requests, setups, workers, levels, args)
    if args.json:
        print_figures(figures)


def run_all(
    var: Path,
    requests: Requests,
    setups: list[str],
    workers: list[int],
    levels: list[int],
    args: argparse.Namespace,
) -> dict[str, Any]:
    crypto = crypto_floor(requests.client, requests.client.trust)
    print_header(crypto)
    size = len(requests.to_gateway(1)[0])
    amqp = None if args.no_amqp_floor else floor_or_reason(size, levels, args.floor_messages)
    figures: dict[str, Any] = {
        "cores": CORES,
        "cryptoPairsPerSecondOneCore": crypto.pairs_per_s,
        "cryptoFloorTripsPerSecond": crypto.floor_trips_per_s,
        "runs": [],
    }
    direct: dict[int, dict[str, Any]] = {}
    for setup in setups:
        for count in workers:
            with running(var, setup, count) as system:
                if not direct and not args.no_direct:
                    direct = direct_baseline(system, requests, levels, args.requests)
                    print_direct(direct)
                    figures["direct"] = list(direct.values())
                health = system.health()
                levels_figures = gateway_levels(system, requests, levels, args.requests)
                print_levels(
                    f"{setup}, --workers {count}: {health['dispatch']}",
                    levels_figures,
                    crypto,
                    direct,
                    amqp if setup != "embedded" else None,
                )
                run = {"setup": setup, "workers": count, "levels": levels_figures}
                if args.offered:
                    rates = [float(x) for x in args.offered.split(",")]
                    run["offered"] = offered_levels(system, requests, rates, args.requests)
                    print_offered(run["offered"])
                figures["runs"].append(run)
    return figures


if __name__ == "__main__":
    main()
