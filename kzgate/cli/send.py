"""``kzgate send``: call a service through the gateway as one of the simulated systems.

Signs with that system's transport key from the PKI directory, sends, verifies that the answer is
signed by the gateway, and prints the answer's data (or the whole envelope with ``--raw``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from lxml import etree

from connectors import (
    AnswerNotTrusted,
    GatewayFault,
    ShepClient,
    TransportKey,
    TrustStore,
    parse_document,
)
from connectors.config import Settings

EXIT_FAULT, EXIT_UNTRUSTED = 2, 3


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("send", help="send a signed SyncChannel request through the gateway")
    parser.add_argument("--as", dest="sender", required=True, help="senderId, e.g. EGOV_PORTAL")
    parser.add_argument("--service", required=True, help="serviceId, e.g. GbdulInfoByBin_v1")
    parser.add_argument(
        "--data", required=True, help="XML file with the content of <data> (- = stdin)"
    )
    parser.add_argument("--raw", action="store_true", help="print the whole answer envelope")
    parser.add_argument(
        "--password", help="sender password (default: the dev password dev-<SENDER>)"
    )
    parser.add_argument("--gateway", help="gateway URL (default: KZGATE_HOST/KZGATE_PORT)")
    parser.add_argument(
        "--correlation-id",
        help="correlationId to send (optional): ties the request to earlier ones in `kzgate log`",
    )
    parser.set_defaults(func=_send)


def read_payload(source: str) -> etree._Element:
    raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    payload = parse_document(raw, max_bytes=10 * 1024 * 1024, max_depth=64)
    return payload[0] if etree.QName(payload).localname == "data" and len(payload) else payload


def printable(element: etree._Element) -> str:
    """The element indented, without the envelope's namespace declarations it does not use."""
    standalone = etree.fromstring(etree.tostring(element, encoding="UTF-8"))
    etree.cleanup_namespaces(standalone)
    etree.indent(standalone)
    return etree.tostring(standalone, encoding="unicode")


def client_for(
    settings: Settings, sender: str, password: str | None, gateway: str | None
) -> ShepClient:
    pki = settings.pki_dir
    return ShepClient(
        gateway_url=gateway or settings.gateway_url,
        sender_id=sender,
        password=password or f"dev-{sender}",
        key=TransportKey.from_files(pki / f"{sender}.pem", pki / f"{sender}.key"),
        trust=TrustStore.from_dir(pki),
    )


def _send(args: argparse.Namespace) -> int:
    client = client_for(Settings(), args.sender, args.password, args.gateway)
    payload = read_payload(args.data)

    async def send_once():
        try:
            return await client.send(args.service, payload, correlation_id=args.correlation_id)
        finally:
            await client.aclose()

    try:
        result = asyncio.run(send_once())
    except GatewayFault as fault:
        info = fault.info
        print(f"fault {info.error_code}: {info.error_message}", file=sys.stderr)
        if info.error_data:
            print(f"hint: {info.error_data}", file=sys.stderr)
        if info.sub_error is not None:
            print(
                f"provider: {info.sub_error.error_code}: {info.sub_error.error_message}",
                file=sys.stderr,
            )
        return EXIT_FAULT
    except AnswerNotTrusted as exc:
        print(f"answer not trusted: {exc}", file=sys.stderr)
        return EXIT_UNTRUSTED
    if args.raw:
        sys.stdout.write(result.envelope.decode("utf-8"))
        return 0
    response = result.response
    print(f"# status {response.status_code}: {response.status_message}", file=sys.stderr)
    for child in response.data if response.data is not None else []:
        print(printable(child))
    return 0
