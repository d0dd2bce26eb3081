"""AsyncChannel throughput and latency, beside the raw aio-pika floor measured in the same run.

Starts the gateway and the MONITORING and EGOV_PORTAL simulators as processes on free ports, then
at 1, 8 and 32 concurrent senders posts signed sendMessage requests as EGOV_PORTAL to
``MonitoringStage_v1`` (a StageEvent each). Requests are signed before the clock starts, so the
figures are the system's, not the load generator's signing. Per level:

- acks/s, ack p50/p99: sendMessage answered = admitted, recorded and the durable publish to
  MONITORING's queue confirmed by the broker. acks/s is N / time until the last ack.
- delivered/s, e2e p50/p99: the message is in MONITORING's durable inbox (pushed by the gateway's
  connector, verified and stored by the simulator). Per message the latency is the inbox's
  ``received_at`` minus the wall-clock time the sender started its POST, so it includes the ack;
  delivered/s is N / (the last ``received_at`` − the level's start). The inbox is polled (GET
  /ops/inbox) only after the last ack, and its timestamps, not the poll, end the clock.
- before the next level the DELIVERED notifications to EGOV_PORTAL must have arrived too, and
  ``getMessageStatus`` for a sample of the level's messages must say DELIVERED ("status").
- CPU ms per message of each process, from the level's start until the notifications are in.

Ratios against the floor (bench/floors.py, same concurrency, same message size): acks/s ÷ floor
confirms/s and delivered/s ÷ floor delivered/s say what fraction of the broker's bare capacity the
gateway achieves (1.0 = as fast as RabbitMQ alone); latency ratios (×) say how many times the bare
broker's latency the gateway takes. On the embedded broker the floor is still RabbitMQ's: it then
shows the distance to what RabbitMQ alone could do. Every process shares this machine's CPUs.

    .venv/bin/python bench/async_throughput.py [--messages 150] [--levels 1,8,32] [--broker auto]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.floors import FloorLevel, floor_or_reason  # noqa: E402
from bench.harness import (  # noqa: E402
    BROKER_CHOICES,
    System,
    add_json_option,
    cpu_ms_per_message,
    cpu_snapshot,
    level_figures,
    level_progress,
    percentile,
    print_figures,
    start_system,
    stop_system,
    tables_unless_json,
)
from connectors import (  # noqa: E402
    MessageState,
    ShepClient,
    TransportKey,
    TrustStore,
    build_send_message_envelope,
    init_pki,
)
from simulators.monitoring.payload import Stage, build_stage_event  # noqa: E402

SENDER = "EGOV_PORTAL"
RECEIVER = "MONITORING"
SERVICE = "MonitoringStage_v1"
SIMULATORS = [RECEIVER, SENDER]
STATUS_SAMPLE = 5
POLL_SECONDS = 0.5
SETTLE_TIMEOUT = 120.0
CPU_LABELS = {"gateway": "gw CPU", RECEIVER: "MON CPU", SENDER: "EGOV CPU"}
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


@dataclass(frozen=True)
class Level:
    """One level's measurements; latencies in seconds."""

    senders: int
    acks_per_s: float
    ack_latencies: list[float]
    delivered_per_s: float
    delivery_latencies: list[float]
    status_delivered: int
    cpu_ms: list[float]


def signed_messages(client: ShepClient, n: int) -> dict[str, bytes]:
    """``n`` signed sendMessage envelopes by messageId, each carrying its own StageEvent."""
    messages = {}
    for i in range(n):
        message_id = f"bench-{time.time_ns()}-{i}"
        event = build_stage_event(f"APP-{i:06d}", Stage.REGISTERED, SENDER, datetime.now(UTC))
        request = client.async_request(SERVICE, event, message_id=message_id)
        messages[message_id] = client.sign(build_send_message_envelope(request))
    return messages


async def send_all(
    url: str, messages: dict[str, bytes], concurrency: int
) -> tuple[float, float, dict[str, float], list[float]]:
    """(wall start, seconds to the last ack, wall send time by messageId, ack latencies)."""
    pending = iter(messages.items())
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def sender(http: httpx2.AsyncClient) -> None:
        for message_id, body in pending:  # shared: each sender takes the next message
            sent_at[message_id] = time.time()
            started = time.perf_counter()
            response = await http.post(f"{url}/async", content=body, headers=HEADERS)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200 or b"Fault>" in response.content:
                raise RuntimeError(f"refused: {response.text[:500]}")

    async with httpx2.AsyncClient(limits=limits, timeout=60) as http:
        wall_start, started = time.time(), time.perf_counter()
        await asyncio.gather(*(sender(http) for _ in range(concurrency)))
        return wall_start, time.perf_counter() - started, sent_at, latencies


def wait_for_inbox(monitoring_url: str, ids: set[str]) -> dict[str, float]:
    """The inbox's ``received_at`` (epoch seconds) of each of ``ids``, once all are there."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        inbox = httpx2.get(f"{monitoring_url}/ops/inbox", timeout=30).json()
        received = {
            m["messageId"]: datetime.fromisoformat(m["received_at"]).timestamp()
            for m in inbox
            if m["messageId"] in ids
        }
        if len(received) == len(ids):
            return received
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(received)} of {len(ids)} delivered in time")
        time.sleep(POLL_SECONDS)


def wait_for_notifications(portal_url: str, ids: set[str]) -> None:
    """Until the sender has been told DELIVERED for each of ``ids``."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        notices = httpx2.get(f"{portal_url}/ops/notifications", timeout=30).json()
        told = {n["messageId"] for n in notices if n["state"] == MessageState.DELIVERED.value}
        if ids <= told:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(ids & told)} of {len(ids)} notified in time")
        time.sleep(POLL_SECONDS)


async def delivered_in_status(client: ShepClient, ids: list[str]) -> int:
    """How many of ``ids`` getMessageStatus reports as DELIVERED."""
    async with httpx2.AsyncClient(timeout=30) as http:
        asking = dataclasses.replace(client, http=http)
        answers = [await asking.message_status(message_id) for message_id in ids]
    return sum(answer.state is MessageState.DELIVERED for answer in answers)


def run_level(
    system: System, client: ShepClient, messages: dict[str, bytes], senders: int
) -> Level:
    ids = set(messages)
    cpu_before = cpu_snapshot(system)
    wall_start, ack_seconds, sent_at, ack_latencies = asyncio.run(
        send_all(system.url, messages, senders)
    )
    received = wait_for_inbox(system.simulator_urls[RECEIVER], ids)
    wait_for_notifications(system.simulator_urls[SENDER], ids)
    cpu = cpu_ms_per_message(cpu_before, cpu_snapshot(system), len(ids))
    sample = random.sample(sorted(ids), min(STATUS_SAMPLE, len(ids)))
    return Level(
        senders=senders,
        acks_per_s=len(ids) / ack_seconds,
        ack_latencies=ack_latencies,
        delivered_per_s=len(ids) / (max(received.values()) - wall_start),
        delivery_latencies=[max(0.0, received[m] - sent_at[m]) for m in ids],
        status_delivered=asyncio.run(delivered_in_status(client, sample)),
        cpu_ms=cpu,
    )


def print_level(level: Level) -> None:
    print(
        f"{level.senders:>7} {level.acks_per_s:>7,.0f} "
        f"{percentile(level.ack_latencies, 0.5):>7.1f} "
        f"{percentile(level.ack_latencies, 0.99):>7.1f} {level.delivered_per_s:>11,.0f} "
        f"{percentile(level.delivery_latencies, 0.5):>7.1f} "
        f"{percentile(level.delivery_latencies, 0.99):>7.1f} "
        f"{level.status_delivered:>4}/{STATUS_SAMPLE} "
        + " ".join(f"{ms:>8.2f}" for ms in level.cpu_ms)
    )


def print_ratios(levels: list[Level], floor: dict[int, FloorLevel]) -> None:
    print("ratios vs the aio-pika floor at the same concurrency (rates: fraction; latencies: ×)")
    print(
        f"{'senders':>7} {'acks/confirms':>13} {'ack p50':>8} {'ack p99':>8} "
        f"{'delivered':>9} {'e2e p50':>8} {'e2e p99':>8}"
    )
    for level in levels:
        bare = floor.get(level.senders)
        if bare is None:
            continue
        print(
            f"{level.senders:>7} {level.acks_per_s / bare.confirms_per_s:>13.3f} "
            f"{_times(level.ack_latencies, bare.confirm_latencies, 0.5):>8} "
            f"{_times(level.ack_latencies, bare.confirm_latencies, 0.99):>8} "
            f"{level.delivered_per_s / bare.delivered_per_s:>9.3f} "
            f"{_times(level.delivery_latencies, bare.delivery_latencies, 0.5):>8} "
            f"{_times(level.delivery_latencies, bare.delivery_latencies, 0.99):>8}"
        )


def _times(gateway: list[float], bare: list[float], q: float) -> str:
    return f"{percentile(gateway, q) / percentile(bare, q):,.1f}×"


def make_client(pki: Path) -> ShepClient:
    return ShepClient(
        gateway_url="",
        sender_id=SENDER,
        password=f"dev-{SENDER}",
        key=TransportKey.from_files(pki / f"{SENDER}.pem", pki / f"{SENDER}.key"),
        trust=TrustStore.from_dir(pki),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=150, help="sendMessages per level")
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--database-url", help="message log URL (default: SQLite in a temp dir)")
    parser.add_argument("--broker", default="auto", choices=BROKER_CHOICES)
    parser.add_argument("--floor-messages", type=int, default=1000, help="per floor level")
    add_json_option(parser)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        init_pki(var / "pki")
        client = make_client(var / "pki")
        size = len(next(iter(signed_messages(client, 1).values())))
        print(f"message: signed sendMessage {SENDER} → {SERVICE}, {size:,} bytes")
        floor = floor_or_reason(size, levels, args.floor_messages)
        system = start_system(var, SIMULATORS, broker=args.broker, database_url=args.database_url)
        try:
            client = dataclasses.replace(client, gateway_url=system.url)
            with tables_unless_json(args.json):
                measured = report(system, client, levels, args, floor)
            processes = list(system.processes)
        finally:
            stop_system(system)
    if args.json:
        print_figures([level_figures(level, processes) for level in measured])


def report(
    system: System,
    client: ShepClient,
    levels: list[int],
    args: argparse.Namespace,
    floor: dict[int, FloorLevel] | None,
) -> list[Level]:
    print(system.broker_line(args.broker))
    print(f"dispatch: {system.health()['dispatch']}")
    print(f"gateway: {args.messages} sendMessages per level, wall time from the first send")
    print(
        f"{'senders':>7} {'acks/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'delivered/s':>11} "
        f"{'e2e p50':>7} {'e2e p99':>7} {'status':>6} "
        + " ".join(f"{CPU_LABELS.get(name, name)[:8]:>8}" for name in system.processes)
    )
    run_level(system, client, signed_messages(client, 20), 4)  # warm-up, not reported
    measured = []
    for senders in levels:
        with level_progress(f"{senders} senders, {args.messages} messages"):
            messages = signed_messages(client, args.messages)
            measured.append(run_level(system, client, messages, senders))
        print_level(measured[-1])
    print("CPU columns: CPU ms per message of each process; status: getMessageStatus sample")
    if floor is not None:
        print_ratios(measured, floor)
    return measured


if __name__ == "__main__":
    main()
