"""``kzgate pki``: the test PKI — a simulated national CA, one transport key per system, a CRL."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta, timezone
from pathlib import Path

from connectors import init_pki
from connectors.config import Settings
from connectors.wsse.pki import SYSTEMS, Validity, revoke

_ASTANA = timezone(timedelta(hours=5))


def register(sub: argparse._SubParsersAction) -> None:
    pki = sub.add_parser("pki", help="create or change the test PKI (var/pki by default)")
    pki_sub = pki.add_subparsers(dest="pki_command", required=True)
    init = pki_sub.add_parser(
        "init", help="create the CA, every system's key and certificate, the CRL"
    )
    init.add_argument("--dir", type=Path, help="PKI directory (default: KZGATE_PKI_DIR or var/pki)")
    init.add_argument(
        "--valid-at",
        type=_moment,
        action="append",
        default=[],
        metavar="DATETIME",
        help="make the certificates valid at this business time too (ISO 8601, e.g. "
        "2026-07-03T19:00+05:00; repeatable): for rehearsals on a virtual clock in the past",
    )
    init.set_defaults(func=_init)
    rev = pki_sub.add_parser("revoke", help="put a system's certificate on the CRL")
    rev.add_argument("system", choices=SYSTEMS, help="the system whose certificate is revoked")
    rev.add_argument("--dir", type=Path, help="PKI directory (default: KZGATE_PKI_DIR or var/pki)")
    rev.set_defaults(func=_revoke)


def _directory(args: argparse.Namespace) -> Path:
    return args.dir or Settings().pki_dir


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {text!r}") from exc
    # A bare date or time is read in Astana time, the business time of every simulated system.
    return moment if moment.tzinfo else moment.replace(tzinfo=_ASTANA)


def _init(args: argparse.Namespace) -> int:
    directory = _directory(args)
    created = init_pki(directory, validity=Validity.covering(*args.valid_at))
    if created:
        print(f"created in {directory}: {', '.join(created)}")
    else:
        print(f"{directory} already holds the test PKI; nothing created")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    serial = revoke(_directory(args), args.system)
    print(
        f"revoked {args.system} (serial {serial}); "
        "the CRL is rewritten and running services read it"
    )
    return 0
