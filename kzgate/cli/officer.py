"""``kzgate officer …``: a committee officer's (or head's) desk in the export pilot (seed 003).

Talks to the desk on ELICENSE's port (``/desk/*``, see simulators/elicensing/export_pilot):

    kzgate officer queue [--committee INDUSTRY|TELECOM|CIVIL_AVIATION]
    kzgate officer show TMD-2026-000001
    kzgate officer take TMD-2026-000001 --as ind-aigerim
    kzgate officer approve TMD-2026-000001 --as ind-aigerim
    kzgate officer refuse TMD-2026-000001 --as ind-aigerim --ground 4 --ground "1:invoice forged"
    kzgate officer sign TMD-2026-000001 --as head-industry
    kzgate officer terminate KZ-TMD-IND-2026-000001 --as head-industry --ground ж --reason "…"
    kzgate officer reports            # execution reports past due (Rules p.16)
    kzgate officer sla                # steps done late, per step

A refusal by the desk prints its code, message and hint and exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import httpx2

from connectors.config import Settings
from connectors.ops_access import operator_headers

EXIT_REFUSED = 2


def register(sub: argparse._SubParsersAction) -> None:
    officer = sub.add_parser("officer", help="a committee officer's desk (export pilot, seed 003)")
    actions = officer.add_subparsers(dest="action", required=True)
    queue = actions.add_parser("queue", help="open applications, findings, lateness")
    queue.add_argument(
        "--committee",
        choices=["INDUSTRY", "TELECOM", "CIVIL_AVIATION"],
        help="only this committee's applications",
    )
    actions.add_parser("reports", help="execution reports past due (Rules p.16)")
    actions.add_parser("sla", help="steps done late, per step (Rules p.9)")
    show = actions.add_parser("show", help="one application with its steps")
    show.add_argument("number", help="the application number")
    for name, text in (
        ("take", "register the application and take it for review (Rules p.9(1))"),
        ("approve", "approve after review (p.9(2)); refused while findings are open"),
        ("refuse", "refuse with grounds of Rules p.11"),
        ("sign", "the head signs the draft with the personal key (p.9(3))"),
    ):
        step = actions.add_parser(name, help=text)
        step.add_argument("number", help="the application number")
        step.add_argument("--as", dest="who", required=True, help="officer or head id")
        if name == "refuse":
            step.add_argument(
                "--ground",
                action="append",
                default=[],
                help="N or N:reason (repeatable); none: every ground the review found",
            )
    terminate = actions.add_parser("terminate", help="terminate a permit (Rules p.14 а-ж)")
    terminate.add_argument("permit", help="the permit number")
    terminate.add_argument("--as", dest="who", required=True, help="officer or head id")
    terminate.add_argument(
        "--ground", required=True, choices=list("абвгдеж"), help="the ground of Rules p.14"
    )
    terminate.add_argument(
        "--reason", required=True, help="the reason, as the permit holder reads it"
    )
    officer.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    settings = Settings()
    from kzgate.cli.demo import simulator_url

    async def run() -> int:
        async with httpx2.AsyncClient(
            base_url=simulator_url(settings, "ELICENSE"), headers=operator_headers()
        ) as http:
            return await officer_command(args, http)

    try:
        return asyncio.run(run())
    except httpx2.HTTPError as exc:
        print(f"ELICENSE is not reachable: {exc}", file=sys.stderr)
        return EXIT_REFUSED


async def officer_command(args: argparse.Namespace, http: httpx2.AsyncClient) -> int:
    """Run one desk action over ``http`` (ELICENSE's base URL); print the answer as JSON."""
    action = args.action
    if action == "queue":
        params = {"committee": args.committee} if args.committee else None
        reply = await http.get("/desk/queue", params=params)
    elif action == "reports":
        reply = await http.get("/desk/reports/overdue")
    elif action == "sla":
        reply = await http.get("/desk/sla")
    elif action == "show":
        reply = await http.get(f"/desk/applications/{args.number}")
    elif action == "terminate":
        body = {"by": args.who, "ground": args.ground, "reasoning": args.reason}
        reply = await http.post(f"/desk/permits/{args.permit}/terminate", json=body)
    else:
        key = "head" if action == "sign" else "officer"
        body: dict[str, Any] = {key: args.who}
        if action == "refuse" and args.ground:
            body["grounds"] = dict(_ground(g) for g in args.ground)
        reply = await http.post(f"/desk/applications/{args.number}/{action}", json=body)
    answer = reply.json()
    if reply.status_code >= 400:
        print(f"{answer.get('code')}: {answer.get('message')}", file=sys.stderr)
        if answer.get("detail"):
            print(f"  detail: {answer['detail']}", file=sys.stderr)
        if answer.get("hint"):
            print(f"  hint: {answer['hint']}", file=sys.stderr)
        return EXIT_REFUSED
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    return 0


def _ground(text: str) -> tuple[str, str]:
    code, _, reason = text.partition(":")
    return code.strip(), reason.strip()
