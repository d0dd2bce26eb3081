"""What a hostile message costs the gateway, beside honest ones of the same size.

Starts the gateway in-process with the GBDUL simulator behind it (tests/gateway/harness.py, the
embedded broker) and times, median of ``--repeat`` each: an honest round trip, a small refusal,
the two bombs of issue 8 (100,000 attributes / namespace declarations on one element, no key
needed), and honest round trips padded to the same sizes.

Then what made-up names cost the process's memory (RSS, this process: the gateway runs in it):
``--names-messages`` refused messages of 5,000 element names each, first the same names every
time (the baseline), then new names every time, with how many of the channels' XML threads were
replaced for their name dictionary's size (``gateway/channels/threads.py``) and the most names
one of them holds afterwards. RSS grows in both (the refused messages are logged); the difference
is what the names cost.
Run: ``python bench/hostile_cost.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.channels.threads import XmlThreads, names_known  # noqa: E402
from tests.gateway.harness import (  # noqa: E402
    SERVICE,
    Harness,
    lookup,
    make_pki,
    running_gateway,
)

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
TYPES = "http://bip.bee.kz/SyncChannel/v10/Types"


def bomb(attributes: str) -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body><ns2:SendMessage xmlns:ns2="{TYPES}">'
        f"<request {attributes}><requestInfo/></request></ns2:SendMessage></soap:Body>"
        "</soap:Envelope>"
    ).encode()


async def median_ms(call: Callable[[], Awaitable[object]], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def main(repeat: int, names_messages: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="kzgate-hostile-cost-"))
    async with running_gateway(make_pki(work / "pki"), work) as gateway:
        client = gateway.client("ELICENSE")
        await client.send(SERVICE, lookup())  # compile the schemas first

        async def honest(padding: int = 0) -> None:
            props = [("PAD", "x" * padding)] if padding else None
            result = await client.send(SERVICE, lookup(), properties=props)
            assert result.response.status_code == "SCSS001"

        async def refused(body: bytes) -> None:
            assert (await gateway.post(body)).status_code == 500

        attrs = bomb(" ".join(f'a{i}="x"' for i in range(100_000)))
        spaces = bomb(" ".join(f'xmlns:p{i}="urn:x:{i}"' for i in range(100_000)))
        rows = [
            ("honest round trip (GBDUL answers)", 2_000, lambda: honest()),
            ("small refusal (schema)", 230, lambda: refused(bomb('a="x"'))),
            ("100k attributes, refused", len(attrs), lambda: refused(attrs)),
            ("honest, padded to the same size", len(attrs), lambda: honest(len(attrs))),
            ("100k namespace declarations, refused", len(spaces), lambda: refused(spaces)),
            ("honest, padded to the same size", len(spaces), lambda: honest(len(spaces))),
        ]
        print(f"{'message':<40} {'bytes':>9} {'median ms':>10}")
        for name, size, call in rows:
            print(f"{name:<40} {size:>9} {await median_ms(call, repeat):>10.1f}", flush=True)
        await made_up_names(gateway, names_messages)


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 1e6


def named(names: list[str]) -> bytes:
    elements = "".join(f"<{name}/>" for name in names)
    return (
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body><ns2:SendMessage xmlns:ns2="{TYPES}">'
        f"<request><requestInfo/>{elements}</request></ns2:SendMessage></soap:Body>"
        "</soap:Envelope>"
    ).encode()


async def made_up_names(gateway: Harness, messages: int, per_message: int = 5_000) -> None:
    threads = gateway.context.xml_threads
    same = [f"n{i:032x}" for i in range(per_message)]
    print(
        f"\n{messages} refused messages of {per_message:,} element names each "
        f"({len(named(same)):,} bytes)"
    )
    print(
        f"{'names':<22} {'RSS before MB':>14} {'RSS after MB':>13} {'threads replaced':>17} "
        f"{'most names in a thread':>23}"
    )
    for label, fresh in (("the same every time", False), ("new every time", True)):
        before, replaced = rss_mb(), threads.retired
        for _ in range(messages):
            names = [f"n{uuid.uuid4().hex}" for _ in range(per_message)] if fresh else same
            assert (await gateway.post(named(names))).status_code == 500
        print(
            f"{label:<22} {before:>14.1f} {rss_mb():>13.1f} {threads.retired - replaced:>17} "
            f"{await most_names_held(threads):>23,}",
            flush=True,
        )


async def most_names_held(threads: XmlThreads) -> int:
    """The largest dictionary of its own among the XML threads (probed a few times each)."""
    loop = asyncio.get_running_loop()
    held = await asyncio.gather(
        *(loop.run_in_executor(threads, names_known) for _ in range(4 * threads.threads))
    )
    return max(held) - names_known()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--names-messages", type=int, default=200)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.repeat, arguments.names_messages))
