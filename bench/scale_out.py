"""Scale-out: two gateway instances against one PostgreSQL and one RabbitMQ, beside one instance.

Both runs use the same machine, the same RabbitMQ and a throwaway PostgreSQL schema each, the
GBDUL simulator as provider and ``--workers`` worker processes per instance. The two instances
listen on ports of their own and share the database, the broker namespace and the PKI, as two
hosts would; the clients are spread evenly over both. Reported per level: round trips/s, p50/p99,
the gateways' CPU per trip (every instance and worker summed), and two instances' rate over one's
(the issue's target is ≥ 1.6× when the provider is not the limit — on a 2-core machine that also
runs the provider and the load generator, the cores are the limit long before).

``busy`` is how much of the machine (every core, ``/proc/stat``) the one-instance level kept busy;
``ceiling ÷ 1`` its inverse: what any number of instances could add on these cores if every trip
cost the machine what it did with one instance. An estimate, not a bound: a trip costs a little
less as load grows (more hops share a commit), so two instances can land slightly above it.

    .venv/bin/python bench/scale_out.py [--levels 8,32,64] [--requests 300] [--workers 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import add_json_option, print_figures, tables_unless_json  # noqa: E402
from bench.sync_throughput import (  # noqa: E402
    CORES,
    Requests,
    gateway_levels,
    parse_workers,
    running,
)
from connectors import init_pki  # noqa: E402

SETUP = "rabbitmq+postgres"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="round trips per level")
    parser.add_argument("--levels", default="8,32,64")
    parser.add_argument(
        "--workers", default="1", help="worker processes per instance (N or 0: one per core)"
    )
    add_json_option(parser)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    workers = parse_workers(args.workers)[0]
    figures: dict[str, Any] = {"workersPerInstance": workers}
    with tempfile.TemporaryDirectory() as tmp, tables_unless_json(args.json):
        var = Path(tmp)
        init_pki(var / "pki")
        requests = Requests(var / "pki")
        for instances in (1, 2):
            with running(var, SETUP, workers, instances=instances) as system:
                figures[str(instances)] = gateway_levels(system, requests, levels, args.requests)
        print_table(figures, levels, workers)
    if args.json:
        print_figures(figures)


def print_table(figures: dict[str, Any], levels: list[int], workers: int) -> None:
    print(f"{SETUP}, {workers} worker(s) per instance; clients spread over the instances")
    print(
        f"{'clients':>7} {'1 inst trips/s':>15} {'p50 ms':>7} {'p99 ms':>7} {'gw CPU ms':>10} "
        f"{'2 inst trips/s':>15} {'p50 ms':>7} {'p99 ms':>7} {'gw CPU ms':>10} {'2 ÷ 1':>6} "
        f"{'busy':>5} {'ceiling ÷ 1':>11}"
    )
    for index, clients in enumerate(levels):
        one, two = figures["1"][index], figures["2"][index]
        two["vsOneInstance"] = two["roundTripsPerSecond"] / one["roundTripsPerSecond"]
        # The share of the machine one instance's level kept busy, and what is left to add.
        busy = one["roundTripsPerSecond"] * one["machineCpuMsPerTrip"] / (CORES * 1000)
        one["machineBusy"], one["ceilingOverOne"] = busy, 1 / busy
        print(
            f"{clients:>7} {_columns(one)} {_columns(two)} {two['vsOneInstance']:>5.2f}× "
            f"{busy:>5.0%} {1 / busy:>10.2f}×"
        )


def _columns(level: dict[str, Any]) -> str:
    return (
        f"{level['roundTripsPerSecond']:>15,.0f} {level['p50Ms']:>7.1f} {level['p99Ms']:>7.1f} "
        f"{level['gatewayCpuMsPerTrip']:>10.2f}"
    )


if __name__ == "__main__":
    main()
