"""``kzgate attack``: a tester's tool — send a system under test the catalogue of signed attacks,
in the gateway's own name, and report which ones its endpoint accepted.

The system's endpoint trusts the gateway's signature, so an attacker who could make it accept a
wrapped Body, a foreign or lapsed certificate, a weak algorithm or a comment-split value would
speak for the gateway. Every attack is signed with the gateway's transport key from
``KZGATE_PKI_DIR`` (that is what makes them realistic: only the verifier stands in the way), so
the tool is refused under ``KZGATE_ENV=production``: it belongs on test benches.

Exit status: 0 nothing accepted, 1 some attack accepted, 3 the honest control message was
refused (nothing can be judged), 2 refused to run.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from pathlib import Path

import httpx2
from lxml import etree

from connectors import GATEWAY_ID
from connectors.attacks.catalogue import BY_NAME, AttackKit, attacks_for
from connectors.attacks.kits import (
    Payload,
    async_requests,
    expired_key,
    foreign_key,
    key_of,
    revoked_key,
    sync_requests,
)
from connectors.attacks.runner import Outcome, control, report, run_attacks
from connectors.config import Settings
from gateway.paths import PROJECT_ROOT
from gateway.registry import Registry, load_registry
from kzgate.cli.send import read_payload


class AttackRefused(Exception):
    """The tool will not run here (production, or nothing to attack with)."""


def gateway_kit(
    pki_dir: Path,
    registry: Registry,
    *,
    system_id: str,
    service_id: str,
    payload: Payload,
    channel: str = "sync",
) -> AttackKit:
    """The gateway's own name against ``system_id``'s endpoint (``kzgate attack``): requests as
    the gateway relays them (a caller allowed to use the service, no password)."""
    service = registry.service(service_id)
    caller = sorted(service.allowed_senders)[0] if service.allowed_senders else GATEWAY_ID
    factory = sync_requests if channel == "sync" else async_requests
    others = sorted(s for s in registry.senders if s not in (GATEWAY_ID, system_id))
    other = next((s for s in others if (pki_dir / f"{s}.key").exists()), None)
    return AttackKit(
        fresh=factory(sender_id=caller, password=None, service_id=service_id, payload=payload),
        key=key_of(pki_dir, GATEWAY_ID),
        other_key=key_of(pki_dir, other) if other else None,
        foreign_key=foreign_key(GATEWAY_ID),
        expired_key=expired_key(pki_dir, GATEWAY_ID),
        revoked_key=revoked_key(pki_dir, GATEWAY_ID),
    )


DESCRIPTION = """\
Send a system under test the catalogue of signed attacks, in the gateway's own name, and report
which ones its endpoint accepted.

The system's endpoint trusts the gateway's signature, so an attacker who could make it accept a
wrapped Body, a foreign or lapsed certificate, a weak algorithm or a comment-split value would
speak for the gateway. Every attack is signed with the gateway's transport key from
KZGATE_PKI_DIR (that is what makes them realistic: only the verifier stands in the way), so the
tool is refused under KZGATE_ENV=production: it belongs on test benches.

Exit status: 0 nothing accepted, 1 some attack accepted, 3 the honest control message was
refused (nothing can be judged), 2 refused to run."""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "attack",
        help="send a system under test signed attacks in the gateway's name (test benches only)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--target", required=True, help="the system's SOAP endpoint URL")
    parser.add_argument(
        "--as", dest="system", required=True, help="the registered system the target plays"
    )
    parser.add_argument("--service", help="serviceId to address (default: the system's first)")
    parser.add_argument("--data", help="content of <data> for the honest message (file or -)")
    parser.add_argument(
        "--channel",
        choices=("sync", "async"),
        default="sync",
        help="the target's channel: SyncChannel or AsyncChannel (default: sync)",
    )
    parser.add_argument("--only", nargs="+", metavar="ATTACK", help="run only these attacks")
    parser.set_defaults(func=_run)


async def attack_system(
    target: str,
    system_id: str,
    *,
    settings: Settings,
    http: httpx2.AsyncClient | None = None,
    service_id: str | None = None,
    payload: etree._Element | None = None,
    channel: str = "sync",
    only: Sequence[str] | None = None,
) -> tuple[str | None, list[Outcome]]:
    """(why nothing could be judged, or None; the outcome of every attack)."""
    if settings.env == "production":
        raise AttackRefused(
            "kzgate attack is a test-bench tool: refused under KZGATE_ENV=production"
        )
    registry = load_registry(settings.pki_dir, catalogue=settings.catalogue_path)
    if system_id not in registry.senders:
        raise AttackRefused(f"{system_id} is not a registered system")
    service = service_id or _first_service(registry, system_id, channel)
    if payload is None:
        payload = _sample_payload(system_id)
    kit = gateway_kit(
        settings.pki_dir,
        registry,
        system_id=system_id,
        service_id=service,
        payload=lambda: payload,
        channel=channel,
    )
    attacks = attacks_for("provider", channel)
    if only:
        unknown = sorted(set(only) - set(BY_NAME))
        if unknown:
            raise AttackRefused(f"no such attack: {', '.join(unknown)}")
        attacks = [a for a in attacks if a.name in only]
    own = http is None
    client = http or httpx2.AsyncClient(timeout=60.0)
    try:
        problem = await control(client, target, kit)
        if problem is not None:
            return problem, []
        return None, await run_attacks(client, target, kit, attacks)
    finally:
        if own:
            await client.aclose()


def _first_service(registry: Registry, system_id: str, channel: str) -> str:
    offered = sorted(
        s.service_id
        for s in registry.services.values()
        if s.provider == system_id and s.mode == channel
    )
    if not offered:
        raise AttackRefused(f"{system_id} offers no {channel} service; name one with --service")
    return offered[0]


def _sample_payload(system_id: str) -> etree._Element | None:
    sample = PROJECT_ROOT / "examples" / f"{system_id.lower()}-request.xml"
    return read_payload(str(sample)) if sample.is_file() else None


def _run(args: argparse.Namespace) -> int:
    payload = read_payload(args.data) if args.data else None
    try:
        problem, outcomes = asyncio.run(
            attack_system(
                args.target,
                args.system,
                settings=Settings(),
                service_id=args.service,
                payload=payload,
                channel=args.channel,
                only=args.only,
            )
        )
    except AttackRefused as refused:
        print(f"kzgate attack: {refused}")
        return 2
    if problem is not None:
        print(f"kzgate attack: cannot judge {args.target}: {problem}")
        return 3
    print(report(outcomes))
    return 1 if any(o.fell for o in outcomes) else 0
