"""``kzgate log flow``, ``log traffic`` and ``log checkpoint``: the console's flow browser,
live traffic and "sign a checkpoint now", on the command line (reading the database directly)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import TrustStore
from connectors.config import Settings
from connectors.db import create_engine
from gateway.assembly import load_gateway_key
from gateway.channels.context import utc_now
from gateway.console.backend import flow_of, traffic_rows
from gateway.messagelog.chain import format_time
from gateway.messagelog.checkpoint import make_checkpoint
from gateway.messagelog.flows import BadSearch
from gateway.storage import create_schema
from kzgate.cli.output import add_json_option, print_json, print_table

T = TypeVar("T")


def register(log_sub: Any) -> None:
    flow = log_sub.add_parser("flow", help="every hop of a flow, found by any id or number")
    flow.add_argument("term", help="correlationId, messageId, trace id, BIN/IIN, document number")
    _common(flow)
    flow.set_defaults(func=run_flow)

    traffic = log_sub.add_parser("traffic", help="the latest exchanges, newest first")
    traffic.add_argument("--service", help="only this serviceId")
    traffic.add_argument("--sender", help="only exchanges of this caller")
    traffic.add_argument(
        "--outcome", choices=["ok", "fault"], help="only answered (ok) or refused (fault) ones"
    )
    traffic.add_argument("--fault", help="only this fault code")
    traffic.add_argument("--limit", type=int, default=50, help="at most this many (50)")
    _common(traffic)
    traffic.set_defaults(func=run_traffic)

    checkpoint = log_sub.add_parser("checkpoint", help="sign the chain's head now")
    _common(checkpoint)
    checkpoint.set_defaults(func=run_checkpoint)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: KZGATE_DATABASE_URL)")
    add_json_option(parser)


def _with_engine(args: argparse.Namespace, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    url = args.database_url or Settings().database_url

    async def run() -> T:
        engine = create_engine(url)
        try:
            await create_schema(engine)
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def run_flow(args: argparse.Namespace) -> int:
    trust = TrustStore.from_dir(Settings().pki_dir)
    try:
        flow = _with_engine(args, lambda engine: flow_of(engine, trust, args.term))
    except BadSearch as bad:
        print(f"kzgate log flow: {bad}", file=sys.stderr)
        return 2
    if not flow.rows:
        print(f"no hop matches {args.term!r}", file=sys.stderr)
        return 1
    if args.json:
        print_json(
            {
                "term": flow.term,
                "traceIds": flow.trace_ids,
                "hops": [{k: v for k, v in vars(r).items() if k not in ("x1", "x2", "y")}
                         for r in flow.rows],
            }
        )  # fmt: skip
        return 0
    print_table(
        f"flow of {args.term}: {len(flow.rows)} hops across "
        f"{', '.join(name for name, _ in flow.participants)}",
        ["#", "+ms", "direction", "from → to", "serviceId", "outcome", "fault", "signature", "seq"],
        [
            [
                r.number,
                r.offset_ms,
                r.direction,
                f"{r.sender} → {r.receiver}",
                r.service_id,
                r.outcome,
                r.fault_code,
                r.signature,
                r.seq,
            ]
            for r in flow.rows
        ],
        caption=f"trace {', '.join(flow.trace_ids) or '-'}; hop bytes: kzgate log show --bodies",
    )
    return 0


def run_traffic(args: argparse.Namespace) -> int:
    filters = {k: getattr(args, k) for k in ("service", "sender", "outcome", "fault", "limit")}
    rows = _with_engine(args, lambda engine: traffic_rows(engine, **filters))
    if args.json:
        print_json(rows)
        return 0
    print_table(
        "latest exchanges",
        ["time (UTC)", "serviceId", "caller", "outcome", "fault", "latency ms", "correlationId"],
        [
            [
                r["at"],
                r["serviceId"],
                r["sender"],
                r["outcome"],
                r["faultCode"],
                r["latencyMs"],
                r["correlationId"],
            ]
            for r in rows
        ],
    )
    return 0


def run_checkpoint(args: argparse.Namespace) -> int:
    key = load_gateway_key(Settings())
    made = _with_engine(args, lambda engine: make_checkpoint(engine, key, utc_now()))
    data = {
        "seq": made.records,
        "chains": len(made.heads),
        "headHash": made.root,
        "madeAt": format_time(made.made_at),
    }
    if args.json:
        print_json(data)
    else:
        print(
            f"checkpoint signed over {len(made.heads)} chain(s), {made.records} records "
            f"({data['madeAt']}): Merkle root {made.root}"
        )
    return 0
