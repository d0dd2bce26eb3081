"""SyncChannel throughput and latency, beside the crypto floor measured in the same run.

Starts the gateway and the GBDUL simulator as separate processes on free ports (embedded
defaults: SQLite message log), then sends signed SendMessage round trips at 1, 8 and 32
concurrent clients. Requests are signed before the clock starts, so the figures are the system's,
not the load generator's signing. The crypto floor is sign + verify of the same envelope with no
gateway at all, in this process; one gateway round trip costs at least four of those pairs (caller
→ gateway → provider → gateway → caller), which the last column accounts for.

    .venv/bin/python bench/sync_throughput.py [--requests 400] [--levels 1,8,32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors.client import ShepClient  # noqa: E402
from gateway.security.pki import init_pki  # noqa: E402
from gateway.security.transport import TransportKey, sign_envelope, verify_envelope  # noqa: E402
from gateway.security.trust import TrustStore  # noqa: E402
from gateway.soap.sync import build_request_envelope  # noqa: E402
from simulators.legal_entities.payload import build_request  # noqa: E402
from tests.ports import free_port_block  # noqa: E402

SERVICE = "GbdulInfoByBin_v1"
BIN = "170640582744"
HOPS_WITH_CRYPTO = 4  # each a sign + verify pair


def start_system(
    var: Path, base: int, database_url: str | None
) -> tuple[str, list[subprocess.Popen]]:
    env = {
        **os.environ,
        "KZGATE_VAR_DIR": str(var),
        "KZGATE_PORT": str(base),
        "KZGATE_SIMULATOR_BASE_PORT": str(base),
    }
    if database_url:
        env["KZGATE_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "gateway.cli.main", "serve"]
    processes = [
        subprocess.Popen([*command, "gateway"], env=env, cwd=ROOT),
        subprocess.Popen([*command, "simulator", "GBDUL"], env=env, cwd=ROOT),
    ]
    url = f"http://127.0.0.1:{base}"
    for health in (f"{url}/health", f"http://127.0.0.1:{base + 4}/health"):
        _wait(health)
    return url, processes


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="round trips per level")
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--database-url", help="message log URL (default: SQLite in a temp dir)")
    parser.add_argument("--broker", default="auto", choices=["auto", "embedded", "rabbitmq"])
    args = parser.parse_args()
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
        floor_rate = 1 / statistics.mean(floor)
        url, processes = start_system(var, free_port_block(12), args.database_url, args.broker)
        try:
            levels = [int(x) for x in args.levels.split(",")]
            report(url, client, floor, floor_rate, levels, args, processes)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)


def report(url, client, floor, floor_rate, levels, args, processes) -> None:
    print(f"dispatch: {httpx.get(f'{url}/health').json()['dispatch']}")
    print(
        f"crypto floor: sign+verify of one envelope, no gateway: {floor_rate:,.0f}/s "
        f"(p50 {percentile(floor, 0.5):.2f} ms) — a round trip needs {HOPS_WITH_CRYPTO} such pairs"
    )
    print(
        f"{'clients':>7} {'round trips/s':>14} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'vs floor':>9} {'vs floor/4':>11} {'gw CPU ms':>10} {'GBDUL CPU ms':>13}"
    )
    warm = [client.signed_envelope(client.request(SERVICE, build_request(BIN))) for _ in range(20)]
    asyncio.run(run_level(url, warm, 4))
    for level in levels:
        bodies = [
            client.signed_envelope(client.request(SERVICE, build_request(BIN)))
            for _ in range(args.requests)
        ]
        cpu_before = [cpu_seconds(p.pid) for p in processes]
        rate, latencies = asyncio.run(run_level(url, bodies, level))
        cpu = [
            (cpu_seconds(p.pid) - before) * 1000 / len(bodies)
            for p, before in zip(processes, cpu_before, strict=True)
        ]
        print(
            f"{level:>7} {rate:>14,.0f} {percentile(latencies, 0.5):>8.2f} "
            f"{percentile(latencies, 0.99):>8.2f} {rate / floor_rate:>9.3f} "
            f"{rate * HOPS_WITH_CRYPTO / floor_rate:>11.3f} {cpu[0]:>10.2f} {cpu[1]:>13.2f}"
        )


if __name__ == "__main__":
    main()
