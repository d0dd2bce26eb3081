"""Fuzz targets for the gateway's front door: every function that reads untrusted bytes.

Each target takes arbitrary bytes and may only refuse them with a ``GatewayError`` (a fault with
a code); any other exception, a hang or a crash is a bug. Targets also check invariants a refusal
would hide: a document the parser accepts respects every limit it was given.

``prepare()`` builds what the targets need once per process (a throwaway PKI and trust store, a
settings object with small limits so the fuzzer reaches them) and returns freshly signed seeds,
so the verifier target also reaches the cryptography — the committed seeds under
``tests/fuzz/corpus/`` are signed by a CA that no longer exists.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from connectors import (
    GatewayError,
    SyncRequest,
    TransportKey,
    TrustStore,
    XmlLimits,
    build_request_envelope,
    init_pki,
    parse_document,
    parse_sync_request,
    sign_envelope,
    split_envelope,
    validate_operation,
    verify_envelope,
)
from connectors.config import Settings
from connectors.soap import async_
from gateway.channels.async_channel import AsyncChannel
from gateway.channels.exchange import split_request
from gateway.channels.sync import SyncChannel

LIMITS = XmlLimits(max_attributes=16, max_namespaces=32, max_elements=2_000, max_text_chars=4_096)
SETTINGS = Settings(
    max_message_bytes=64 * 1024,
    max_xml_depth=32,
    max_attributes_per_element=LIMITS.max_attributes,
    max_namespace_declarations=LIMITS.max_namespaces,
    max_elements=LIMITS.max_elements,
    max_text_chars=LIMITS.max_text_chars,
)
_ASYNC_READERS: dict[str, Callable[[etree._Element], object]] = {
    async_.SEND_MESSAGE: async_.parse_send_message,
    async_.SEND_MESSAGE_CLIENT: async_.parse_send_message,
    async_.GET_MESSAGE_STATUS: async_.parse_get_message_status,
    async_.GET_MESSAGES: async_.parse_get_messages,
    async_.SEND_DELIVERY_NOTIFICATION: async_.parse_delivery_notification,
}


@dataclass
class _State:
    trust: TrustStore | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


_STATE = _State()


def _parse(data: bytes) -> etree._Element:
    return parse_document(
        data, max_bytes=SETTINGS.max_message_bytes, max_depth=SETTINGS.max_xml_depth, limits=LIMITS
    )


def parser(data: bytes) -> None:
    root = _parse(data)
    elements = sum(1 for _ in root.iter())
    assert elements <= LIMITS.max_elements, "the element limit let more through"
    for element in root.iter(etree.Element):
        assert len(element.attrib) <= LIMITS.max_attributes, "the attribute limit let more through"
        for text in (element.text, element.tail):
            assert text is None or len(text) <= LIMITS.max_text_chars
    assert not root.xpath("//comment()"), "comments are dropped while parsing"


def envelope(data: bytes) -> None:
    split = split_envelope(_parse(data))
    assert split.operation.getparent() is split.body


def verifier(data: bytes) -> None:
    assert _STATE.trust is not None, "prepare() first"
    verified = verify_envelope(_parse(data), _STATE.trust, now=_STATE.now)
    assert verified.certificate is not None


def sync_reader(data: bytes) -> None:
    split = split_request(data, SETTINGS, SyncChannel.operations)
    validate_operation(split.operation, "sync")
    parse_sync_request(split.operation)


def async_reader(data: bytes) -> None:
    split = split_request(data, SETTINGS, AsyncChannel.operations)
    validate_operation(split.operation, "async")
    _ASYNC_READERS[split.operation.tag](split.operation)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "parser": parser,
    "envelope": envelope,
    "verifier": verifier,
    "sync_reader": sync_reader,
    "async_reader": async_reader,
}


def run_one(target: Callable[[bytes], None], data: bytes) -> None:
    """One input: a GatewayError is a refusal (fine); anything else propagates as a finding."""
    with contextlib.suppress(GatewayError):
        target(data)


def prepare() -> list[bytes]:
    """Build the trust store; return seeds signed by its CA (for the verifier's crypto path)."""
    directory = Path(tempfile.mkdtemp(prefix="kzgate-fuzz-pki-"))
    init_pki(directory, ("EGOV_PORTAL",))
    _STATE.trust = TrustStore.from_dir(directory)
    key = TransportKey.from_files(directory / "EGOV_PORTAL.pem", directory / "EGOV_PORTAL.key")
    seeds = []
    for with_timestamp in (False, True):
        request = SyncRequest(
            message_id="0f8fad5b-d9cb-469f-a165-70867728950e",
            service_id="GbdulInfoByBin_v1",
            message_date=_STATE.now,
            sender_id="EGOV_PORTAL",
            password="dev-EGOV_PORTAL",
            data=etree.fromstring("<data><bin>170640582744</bin></data>"),
        )
        signed = build_request_envelope(request)
        sign_envelope(signed, key, with_timestamp=with_timestamp, now=_STATE.now)
        seeds.append(etree.tostring(signed))
    return seeds
