"""What a hostile message costs the gateway, beside honest ones of the same size.

Starts the gateway in-process with the GBDUL simulator behind it (tests/gateway/harness.py, the
embedded broker) and times, median of ``--repeat`` each: an honest round trip, a small refusal,
the two bombs of issue 8 (100,000 attributes / namespace declarations on one element, no key
needed), and honest round trips padded to the same sizes. Run: ``python bench/hostile_cost.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gateway.harness import SERVICE, lookup, make_pki, running_gateway  # noqa: E402

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


async def main(repeat: int) -> None:
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    asyncio.run(main(parser.parse_args().repeat))
