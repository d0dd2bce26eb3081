"""``kzgate log export`` and ``kzgate log verify-bundle``: evidence bundles of one exchange.

``export`` reads the message log (and signs a checkpoint with the gateway's key, so it runs where
the gateway's key is); ``verify-bundle`` needs nothing but the file.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from connectors.config import Settings
from connectors.db import create_engine
from gateway.assembly import load_gateway_key
from gateway.channels.context import utc_now
from gateway.messagelog import MessageLog
from gateway.messagelog.bundle import BundleReport, export_bundle, verify_bundle
from gateway.messagelog.flows import find_flow
from gateway.storage import create_schema


def register(log_sub: Any) -> None:
    """Add ``export`` and ``verify-bundle`` under ``kzgate log``."""
    export = log_sub.add_parser("export", help="write the evidence bundle of one exchange")
    export.add_argument("--correlation-id", help="every hop of this correlationId")
    export.add_argument("--message-id", help="every hop carrying this messageId")
    export.add_argument("--flow", help="the whole flow of any id or number (as `log flow`)")
    export.add_argument("-o", "--output", required=True, type=Path, help="the bundle file (.zip)")
    export.add_argument("--database-url", help="SQLAlchemy URL (default: KZGATE_DATABASE_URL)")
    export.set_defaults(func=run_export)

    check = log_sub.add_parser("verify-bundle", help="check an evidence bundle offline")
    check.add_argument("bundle", type=Path, help="the bundle file (.zip) from `kzgate log export`")
    check.add_argument("--json", action="store_true", help="the report as JSON")
    check.set_defaults(func=run_verify_bundle)


def run_export(args: argparse.Namespace) -> int:
    if args.correlation_id is None and args.message_id is None and args.flow is None:
        print("kzgate log export: give --correlation-id, --message-id or --flow", file=sys.stderr)
        return 2
    settings = Settings()
    url = args.database_url or settings.database_url
    key = load_gateway_key(settings)

    async def export() -> bytes | None:
        engine = create_engine(url)
        try:
            await create_schema(engine)
            if args.flow is not None:
                hops = (await find_flow(engine, args.flow)).hops
                query = {"flow": args.flow}
            else:
                hops = await MessageLog(engine).find(
                    correlation_id=args.correlation_id, message_id=args.message_id
                )
                query = {"correlationId": args.correlation_id, "messageId": args.message_id}
            if not hops:
                return None
            return await export_bundle(
                engine, key, settings.pki_dir, hops, now=utc_now(), query=query
            )
        finally:
            await engine.dispose()

    data = asyncio.run(export())
    if data is None:
        print("no records found", file=sys.stderr)
        return 1
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({len(data)} bytes)")
    return 0


def run_verify_bundle(args: argparse.Namespace) -> int:
    report = verify_bundle(args.bundle.read_bytes())
    if args.json:
        import json
        from dataclasses import asdict

        print(json.dumps(asdict(report), indent=2, ensure_ascii=False))
    else:
        print(format_bundle_report(report))
    return 0 if report.ok else 1


def format_bundle_report(report: BundleReport) -> str:
    """The verdict first, then one line per hop, then every problem found."""
    if report.ok:
        head = (
            f"bundle intact: {len(report.hops)} hops, chains proven to the checkpoint of "
            f"{report.checkpoint_records} records (Merkle root {report.checkpoint_root}) "
            f"signed by {report.checkpoint_signer}"
        )
    else:
        head = f"bundle NOT intact: {len(report.problems)} problem(s)"
    lines = [head]
    for hop in report.hops:
        mark = "ok " if hop.intact else "BAD"
        lines.append(
            f"  {mark} hop {hop.number:>2}  seq {hop.seq:<6} {hop.direction:<13} "
            f"{hop.route:<28} signature {hop.signature}"
        )
    lines += [f"  ! {problem}" for problem in report.problems]
    return "\n".join(lines)
