"""``kzgate sim clock`` and ``kzgate sim faults``: the console's testers' page on the command line
(each simulated system's ``/ops/clock`` and ``/ops/faults``)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from connectors.config import Settings
from kzgate.cli import catalogue
from kzgate.cli.catalogue import systems_view
from kzgate.cli.output import add_json_option, print_json, print_table


def register(sub: Any) -> None:
    sim = sub.add_parser("sim", help="the simulated systems' virtual clock and fault injection")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True)

    clock = sim_sub.add_parser("clock", help="read, set or advance the business clock")
    clock.add_argument("--system", default="ALL", help="one system (default: every one)")
    moves = clock.add_mutually_exclusive_group()
    moves.add_argument("--set", help="an ISO moment with offset, e.g. 2026-11-24T18:01:00+05:00")
    moves.add_argument("--advance-hours", type=float, help="move business time forward")
    add_json_option(clock)
    clock.set_defaults(func=run_clock)

    faults = sim_sub.add_parser("faults", help="read or set a system's fault injection")
    faults.add_argument("--system", help="the system to change (reading shows every one)")
    faults.add_argument("--plan", help="JSON, e.g. '{\"error_rate\": 0.2}' or '{\"clear\": true}'")
    add_json_option(faults)
    faults.set_defaults(func=run_faults)


def run_clock(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {}
    if args.set:
        body["set"] = args.set
    if args.advance_hours:
        body["advance_seconds"] = args.advance_hours * 3600

    async def work() -> list[dict[str, Any]]:
        async with catalogue.ops_client() as http:
            view = systems_view(Settings(), http)
            systems = view.simulated_systems() if args.system == "ALL" else [args.system]
            if body:
                first = await view.set_clock(systems[0], body)
                # Later systems are set to the first one's new moment: one shared clock moves once.
                rest = {"set": first["now"]} if "now" in first else body
                for system in systems[1:]:
                    await view.set_clock(system, rest)
            return [{"systemId": s, **await view.call(s, "GET", "/ops/clock")} for s in systems]

    clocks = asyncio.run(work())
    if args.json:
        print_json(clocks)
    else:
        print_table(
            "business clocks",
            ["system", "now", "virtual", "speed"],
            [[c["systemId"], c.get("now") or c.get("error"), c.get("virtual"), c.get("speed")]
             for c in clocks],
        )  # fmt: skip
    return 1 if any("error" in c for c in clocks) else 0


def run_faults(args: argparse.Namespace) -> int:
    async def work() -> list[dict[str, Any]]:
        async with catalogue.ops_client() as http:
            view = systems_view(Settings(), http)
            if args.plan:
                if not args.system:
                    raise SystemExit("kzgate sim faults: --plan needs --system")
                await view.set_faults(args.system, json.loads(args.plan))
            systems = [args.system] if args.system else view.simulated_systems()
            return [{"systemId": s, **await view.call(s, "GET", "/ops/faults")} for s in systems]

    plans = asyncio.run(work())
    if args.json:
        print_json(plans)
    else:
        print_table(
            "fault injection",
            ["system", "plan"],
            [[p.pop("systemId"), json.dumps(p, ensure_ascii=False)] for p in plans],
        )
    return 1 if any("error" in p for p in plans) else 0
