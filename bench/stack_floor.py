"""The stack floor: what a sync round trip's unavoidable machinery costs on the chosen libraries.

The issue's first target asks the gateway to spend at most 2× its own crypto per sync trip. Before
the gateway does anything of its own, a trip through it needs, on the libraries this project is
built on (uvicorn + Starlette, httpx2, SQLAlchemy async on asyncpg, aio-pika):

- **HTTP in**: one request of a signed envelope's size received and answered by uvicorn (uvloop,
  httptools) and Starlette — the server's CPU, read from ``/proc`` of a server process that does
  nothing else (it echoes the body);
- **HTTP out**: one POST of that size on a kept-alive httpx2 connection (the call to the provider)
  — the CPU of this process, which is the client of that echo server;
- **two durable writes**: the request must be in the message log before it is relayed, and the
  answer before it is returned — two PostgreSQL transactions, each inserting two rows of that
  size (the hop and the gateway's copy) and committing; the client's CPU only;
- **one broker hop**: the request through RabbitMQ to the provider's connector — one persistent
  publish waiting for its confirm, consumed and acked (the reply comes back in memory); the
  client's CPU only;
- **the crypto**: two sign + verify pairs (the caller's request in and its relayed copy out; the
  provider's answer in and the gateway's answer out).

Each part runs with 8 concurrent tasks, as the gateway serves 8 clients, and is timed in CPU
time, not wall time (a shared machine's other tenants would count as ours). Their sum is a floor
for the gateway's CPU per trip with nothing of the gateway's own — no parsing, no schema, no
admission, no tracing, no events — and ``÷ crypto`` shows how far the 2× target sits below it.
Compare with ``gw CPU ms`` of ``bench/sync_throughput.py`` on ``rabbitmq+postgres``.

    .venv/bin/python bench/stack_floor.py [--trips 2000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aio_pika  # noqa: E402
import httpx2  # noqa: E402
from sqlalchemy import Column, LargeBinary, MetaData, String, Table, insert  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from bench.floors import AMQP_URL, PREFETCH  # noqa: E402
from bench.harness import (  # noqa: E402
    add_json_option,
    cpu_seconds,
    print_figures,
    tables_unless_json,
    throwaway_postgres,
)
from bench.sync_throughput import GATEWAY_PAIRS, Requests, crypto_floor  # noqa: E402
from connectors import init_pki  # noqa: E402
from connectors.db import create_engine, write_transaction  # noqa: E402
from kzgate.cli.serve import die_with_parent  # noqa: E402
from tests.ports import free_port_block  # noqa: E402

CONCURRENCY = 8
WRITES_PER_TRIP = 2  # the request before it is relayed, the answer before it is returned
ROWS_PER_WRITE = 2  # the hop received and the gateway's signed copy


async def _echo(request: Request) -> Response:
    return Response(await request.body(), media_type="text/xml; charset=utf-8")


# What the echo server runs: ``uvicorn bench.stack_floor:echo_app``.
echo_app = Starlette(routes=[Route("/sync", _echo, methods=["POST"])])


@dataclass(frozen=True)
class Part:
    name: str
    cpu_ms: float  # per trip
    note: str


async def _spread(count: int, one: Any) -> None:
    """Run ``one()`` ``count`` times over CONCURRENCY tasks."""
    left = iter(range(count))

    async def task() -> None:
        for _ in left:
            await one()

    await asyncio.gather(*(task() for _ in range(CONCURRENCY)))


def http_parts(body: bytes, trips: int) -> list[Part]:
    """HTTP in (the echo server's CPU) and HTTP out (this process's, as its httpx2 client)."""
    port = free_port_block(1)
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.stack_floor:echo_app", "--port", str(port),
         "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"],
        cwd=ROOT,
        preexec_fn=die_with_parent(os.getpid()),
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/sync"

        async def run() -> tuple[float, float]:
            async with httpx2.AsyncClient(timeout=10) as client:
                for _ in range(100):  # up, and every pooled connection opened
                    try:
                        await client.get(f"http://127.0.0.1:{port}/")
                        break
                    except httpx2.TransportError:
                        await asyncio.sleep(0.1)

                async def post() -> None:
                    (await client.post(url, content=body)).raise_for_status()

                await _spread(200, post)
                mine, theirs = time.process_time(), cpu_seconds(server.pid)
                await _spread(trips, post)
                return time.process_time() - mine, cpu_seconds(server.pid) - theirs

        client_s, server_s = asyncio.run(run())
    finally:
        server.terminate()
        server.wait(timeout=10)
    return [
        Part("HTTP in", server_s * 1000 / trips, "uvicorn + Starlette, server CPU"),
        Part("HTTP out", client_s * 1000 / trips, "httpx2, kept-alive connection"),
    ]


def log_writes(body: bytes, trips: int) -> Part:
    metadata = MetaData()
    hops = Table(
        "floor_hops",
        metadata,
        Column("id", String, primary_key=True),
        Column("body", LargeBinary, nullable=False),
    )

    async def run(url: str) -> float:
        engine = create_engine(url)  # the gateway's own engine: its pool, its settings
        try:
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all)

            async def write() -> None:
                rows = [{"id": uuid.uuid4().hex, "body": body} for _ in range(ROWS_PER_WRITE)]
                async with write_transaction(engine) as conn:
                    await conn.execute(insert(hops), rows)

            await _spread(200, write)
            started = time.process_time()
            await _spread(trips * WRITES_PER_TRIP, write)
            return time.process_time() - started
        finally:
            await engine.dispose()

    with throwaway_postgres() as url:
        seconds = asyncio.run(run(url))
    return Part(
        "2 durable writes",
        seconds * 1000 / trips,
        f"SQLAlchemy + asyncpg: {WRITES_PER_TRIP} transactions of {ROWS_PER_WRITE} rows",
    )


def broker_hop(body: bytes, trips: int) -> Part:
    async def run() -> float:
        connection = await aio_pika.connect(AMQP_URL, timeout=5)
        async with connection:
            publishing = await connection.channel(publisher_confirms=True)
            consuming = await connection.channel()
            await consuming.set_qos(prefetch_count=PREFETCH)
            queue = await consuming.declare_queue(
                f"bench.stack-floor.{uuid.uuid4()}",
                durable=True,
                arguments={"x-queue-type": "quorum"},
            )
            try:
                return await _through(publishing, queue)
            finally:
                await queue.delete(if_unused=False, if_empty=False)

    async def _through(channel: aio_pika.abc.AbstractChannel, queue: Any) -> float:
        consumed = asyncio.Queue[None]()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()
            consumed.put_nowait(None)

        tag = await queue.consume(on_message)

        async def publish() -> None:
            message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
            await channel.default_exchange.publish(message, queue.name, mandatory=True)

        async def level(count: int) -> None:
            await _spread(count, publish)
            for _ in range(count):
                await asyncio.wait_for(consumed.get(), 60)

        await level(200)
        started = time.process_time()
        await level(trips)
        spent = time.process_time() - started
        await queue.cancel(tag)
        return spent

    seconds = asyncio.run(run())
    return Part("1 broker hop", seconds * 1000 / trips, "aio-pika: confirmed publish, consume, ack")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trips", type=int, default=2000, help="repetitions of each part")
    add_json_option(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, tables_unless_json(args.json):
        init_pki(Path(tmp) / "pki")
        requests = Requests(Path(tmp) / "pki")
        body = requests.to_gateway(1)[0]
        crypto = crypto_floor(requests.client, requests.client.trust)
        parts = [
            *http_parts(body, args.trips),
            log_writes(body, args.trips),
            broker_hop(body, args.trips),
            Part("crypto", crypto.gateway_ms_per_trip, f"{GATEWAY_PAIRS} sign + verify pairs"),
        ]
        total = sum(part.cpu_ms for part in parts)
        over = total / crypto.gateway_ms_per_trip
        print(f"a sync trip's machinery on the chosen stack ({len(body):,}-byte envelope, "
              f"{CONCURRENCY} concurrent, {args.trips} each), CPU ms per trip:")  # fmt: skip
        for part in parts:
            print(f"  {part.name:<17} {part.cpu_ms:>6.2f}  {part.note}")
        print(
            f"  {'floor':<17} {total:>6.2f}  = {total / crypto.gateway_ms_per_trip:.1f}× the crypto"
        )
    if args.json:
        print_figures(
            {
                "envelopeBytes": len(body),
                "cpuMsPerTrip": {part.name: part.cpu_ms for part in parts},
                "floorCpuMsPerTrip": total,
                "floorOverCrypto": over,
            }
        )


if __name__ == "__main__":
    main()
