"""``kzgate status``: is everything up, what time is it in business terms, and how ELICENSE's
applications stand against their deadlines — a table for people, ``--json`` for machines."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import httpx2

from connectors.config import Settings
from kzgate.cli import catalogue
from kzgate.cli.catalogue import systems_view
from kzgate.cli.output import add_json_option, print_json, print_table

EXIT_UNREACHABLE = 3


def register(sub: Any) -> None:
    parser = sub.add_parser("status", help="health of every process and ELICENSE's SLA")
    add_json_option(parser)
    parser.set_defaults(func=run)


async def gather(settings: Settings) -> dict[str, Any]:
    async with catalogue.ops_client() as http:
        view = systems_view(settings, http)
        try:
            reply = await http.get(f"{settings.gateway_url}/health", timeout=5)
            gateway: dict[str, Any] = reply.json()
        except (httpx2.HTTPError, ValueError) as exc:
            gateway = {"status": "down", "error": exc.__class__.__name__}
        systems = []
        for system in view.simulated_systems():
            clock = await view.call(system, "GET", "/ops/clock")
            systems.append({"systemId": system, "up": "error" not in clock, **clock})
        sla = await view.sla()
        simulated = {s["systemId"] for s in systems}
        mrp = await view.call("KGD", "GET", "/ops/mrp") if "KGD" in simulated else {}
    return {"gateway": gateway, "systems": systems, "sla": sla, "warnings": warnings(sla, mrp)}


def warnings(sla: dict[str, Any], mrp: dict[str, Any]) -> list[str]:
    """Business dates the configuration does not cover: the flows stop there (a fee that cannot
    be judged, a pilot not in force), so status says what to set before a tester meets it."""
    found = []
    pilot = sla.get("exportPilot") or {}
    if pilot.get("inForce") is False:
        found.append(
            f"export-permit pilot: {pilot['today']} is outside its window {pilot['start']}.."
            f"{pilot['end']} (order p.11), applications are refused (OutsidePilot): set "
            "KZGATE_EXPORT_PILOT_START/END or run on a virtual clock inside the window"
        )
    if "year" in mrp and mrp.get("amount") is None:
        known = ", ".join(map(str, mrp.get("years", []))) or "none"
        found.append(
            f"KGD has no MRP of {mrp['year']} (it has {known}): licence fees paid this year "
            "cannot be judged: set KZGATE_KGD_MRP_FILE and restart KGD"
        )
    return found


def run(args: argparse.Namespace) -> int:
    status = asyncio.run(gather(Settings()))
    if args.json:
        print_json(status)
    else:
        _print(status)
    if status["gateway"].get("status") != "ok" or "error" in status["sla"]:
        print("some processes are not reachable: start them with ./run", file=sys.stderr)
        return EXIT_UNREACHABLE
    return 0


def _print(status: dict[str, Any]) -> None:
    gateway = status["gateway"]
    rows = [["GATEWAY", gateway.get("status"), gateway.get("dispatch", gateway.get("error")), ""]]
    rows += [
        ["  " + s["systemId"], "ok" if s["up"] else "down", "", s.get("now", s.get("error"))]
        for s in status["systems"]
    ]
    print_table("processes", ["process", "status", "dispatch", "business time"], rows)
    if status["warnings"]:
        print_table("WARNINGS (settings to change)", ["warning"], [[w] for w in status["warnings"]])
    sla = status["sla"]
    if "error" in sla:
        print(f"ELICENSE SLA: {sla['error']}")
        return
    latency = sla.get("latencySeconds") or {}
    print_table(
        "ELICENSE applications",
        ["total", "in progress", "issued", "refused", "missed", "p50 s", "p99 s"],
        [[sla["total"], sla["inProgress"], sla["issued"], sla["refused"], sla["missed"],
          latency.get("p50"), latency.get("p99")]],
    )  # fmt: skip
    apps = sla.get("applications", [])
    if apps:
        print_table(
            None,
            ["application", "kind", "applicant", "stage", "outcome", "document", "deadline", ""],
            [[a["registrationNumber"], a["kind"], a["applicantId"], a["state"], a["outcome"],
              a["documentNumber"], a["deadline"], "MISSED" if a["missed"] else "on time"]
             for a in apps],
        )  # fmt: skip
    alarms = sla.get("alarms", [])
    if alarms:
        print_table(
            "ALARMS (an operator must act; the application waits, its deadline runs)",
            ["application", "alarm"],
            [[a["registrationNumber"], a["alarm"]] for a in alarms],
        )
    notices = (sla.get("supportDesk") or {}).get("notices", [])
    if notices:
        print_table(
            "notices to the operator's support desk (LR p.8)",
            ["notice", "application", "applicant", "error at", "error", "resolved"],
            [[n["noticeId"], n["applicationNumber"], n["applicantId"], n["errorAt"], n["error"],
              n["resolvedAt"] or "open"] for n in notices],
        )  # fmt: skip
