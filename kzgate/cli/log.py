"""``kzgate log``: read the message log (``show``) and check its chains and checkpoints
(``verify``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from connectors import TrustStore
from connectors.config import Settings
from connectors.db import create_engine
from gateway.messagelog import MessageLog, StoredRecord, VerifyReport
from gateway.messagelog.chain import format_time
from gateway.storage import create_schema

T = TypeVar("T")


def register(subparsers: Any) -> None:
    """Add ``log show`` and ``log verify`` to the ``kzgate`` parser."""
    log = subparsers.add_parser("log", help="inspect and verify the message log")
    log_sub = log.add_subparsers(dest="log_command", required=True)

    show = log_sub.add_parser("show", help="print the hops of one exchange")
    show.add_argument("--correlation-id", help="every hop of this correlationId")
    show.add_argument("--message-id", help="every hop carrying this messageId")
    show.add_argument("--bodies", action="store_true", help="also print each hop's exact bytes")
    _add_database_option(show)
    show.set_defaults(func=run_show)

    verify = log_sub.add_parser(
        "verify", help="check every hash chain and signed checkpoint; exit 1 if tampered"
    )
    _add_database_option(verify)
    verify.add_argument(
        "--pki-dir", type=Path, help="where ca.pem is (default: KZGATE_PKI_DIR or var/pki)"
    )
    verify.set_defaults(func=run_verify)

    from kzgate.cli import evidence, flows  # the console's twins on the command line

    evidence.register(log_sub)
    flows.register(log_sub)


def _add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url", help="SQLAlchemy URL (default: KZGATE_DATABASE_URL or var/kzgate.db)"
    )


def run_show(args: argparse.Namespace) -> int:
    if args.correlation_id is None and args.message_id is None:
        print("kzgate log show: give --correlation-id and/or --message-id", file=sys.stderr)
        return 2

    async def find(log: MessageLog) -> list[StoredRecord]:
        return await log.find(correlation_id=args.correlation_id, message_id=args.message_id)

    found = _run_with_log(args, find)
    if not found:
        print("no records found", file=sys.stderr)
        return 1
    for stored in found:
        print(format_record(stored))
        if args.bodies:
            _print_body(stored.body)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    pki_dir = args.pki_dir or Settings().pki_dir
    if not (pki_dir / "ca.pem").exists():
        print(f"kzgate log verify: no ca.pem in {pki_dir} to check checkpoints", file=sys.stderr)
        return 2
    trust = TrustStore.from_dir(pki_dir)

    async def verify(log: MessageLog) -> VerifyReport:
        return await log.verify(trust)

    report = _run_with_log(args, verify)
    print(format_report(report))
    return 0 if report.ok else 1


def format_record(stored: StoredRecord) -> str:
    """One hop as a readable block."""
    outcome = stored.outcome.value + (f" ({stored.fault_code})" if stored.fault_code else "")
    lines = [
        f"#{stored.seq}  {format_time(stored.recorded_at)}  {stored.direction.value}",
        f"  chain          {stored.chain_id} #{stored.chain_seq}",
        f"  route          {stored.sender_id} → {stored.receiver_id or '-'}",
        f"  serviceId      {stored.service_id}",
        f"  messageId      {stored.message_id}",
        f"  correlationId  {stored.correlation_id or '-'}",
        f"  outcome        {outcome}",
        f"  policy         {stored.security_policy}",
    ]
    if stored.elapsed_ms is not None:
        lines.append(f"  elapsed        {stored.elapsed_ms} ms")
    lines.append(f"  body           {stored.body_size} bytes, sha256 {stored.body_sha256}")
    lines.append(f"  record hash    {stored.record_hash}")
    return "\n".join(lines)


def format_report(report: VerifyReport) -> str:
    """The verdict first, then every place that is wrong, then what to anchor outside."""
    counts = (
        f"{report.records_checked} records in {report.chains_checked} chain(s), "
        f"{report.checkpoints_checked} checkpoint(s)"
    )
    if not report.signatures_checked:
        counts += " (checkpoint signatures NOT checked: no trust store)"
    anchor = f"chain heads' Merkle root {report.head_hash}"
    if report.ok:
        return f"message log intact: {counts} checked; {anchor}"
    lines = [f"message log TAMPERED: {len(report.failures)} problem(s)"]
    lines += [f"  {failure}" for failure in report.failures]
    lines.append(f"verified: {counts}; {anchor}")
    return "\n".join(lines)


def _print_body(body: bytes) -> None:
    # The exact bytes, not a decoded and re-encoded copy: what was signed is what is shown.
    sys.stdout.flush()
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.write(b"\n")
    sys.stdout.buffer.flush()


def _run_with_log(args: argparse.Namespace, work: Callable[[MessageLog], Awaitable[T]]) -> T:
    url = args.database_url or Settings().database_url

    async def run() -> T:
        engine = create_engine(url)
        try:
            await create_schema(engine)
            return await work(MessageLog(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())
