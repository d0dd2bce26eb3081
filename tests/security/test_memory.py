"""Signing and checking messages leaves nothing behind in the process.

lxml keeps one name dictionary per thread for the thread's life. Each signed message carries
fresh wsu:Id values; if they went into that dictionary, every message would cost the process
memory it never gets back (issue 12's soak found ~70 bytes a message in every gateway worker).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from lxml import etree

from connectors import (
    SOAP_ENV,
    ShepSignature,
    SyncRequest,
    TransportKey,
    TrustStore,
    build_request_envelope,
    parse_document,
    sign_envelope,
    verify_envelope,
)
from connectors.soap.async_.messages import new_operation
from connectors.soap.namespaces import ASYNC_TYPES
from gateway.channels.threads import names_known

MESSAGES = 300


def _request(now: datetime) -> SyncRequest:
    return SyncRequest(
        message_id=str(uuid.uuid4()),
        service_id="TestService",
        message_date=now,
        sender_id="EGOV_PORTAL",
        correlation_id=str(uuid.uuid4()),
    )


def _sign_and_check(
    envelope: etree._Element, key: TransportKey, trust: TrustStore, now: datetime
) -> None:
    sign_envelope(envelope, key, with_timestamp=True, now=now)
    arrived = parse_document(etree.tostring(envelope), max_bytes=1_000_000, max_depth=64)
    verify_envelope(arrived, trust, now=now)


def test_signed_sync_messages_do_not_grow_the_name_dictionary(gateway_key, trust, now):
    _sign_and_check(build_request_envelope(_request(now)), gateway_key, trust, now)  # warm
    before = names_known()
    for _ in range(MESSAGES):
        _sign_and_check(build_request_envelope(_request(now)), gateway_key, trust, now)
    # Before the fix: one string a message (the Body's and the Timestamp's ids): +600.
    assert names_known() - before < 10


def test_signed_async_messages_do_not_grow_the_name_dictionary(gateway_key, trust, now):
    tag = f"{{{ASYNC_TYPES}}}sendMessage"
    _sign_and_check(new_operation(tag, "request", None)[0], gateway_key, trust, now)  # warm
    before = names_known()
    for _ in range(MESSAGES):
        envelope, _wrapper = new_operation(tag, "request", f"id-{uuid.uuid4()}")
        _sign_and_check(envelope, gateway_key, trust, now)
    assert names_known() - before < 10


def test_the_zeep_plugin_does_not_grow_the_name_dictionary(gateway_key, trust, now):
    """zeep builds its envelopes with etree.Element, as a state system's own client may."""
    plugin = ShepSignature(gateway_key, trust)

    def zeep_like() -> etree._Element:
        envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
        etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header")
        body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
        etree.SubElement(body, "ping").text = str(uuid.uuid4())
        return envelope

    plugin.apply(zeep_like(), {})  # warm
    before = names_known()
    for _ in range(MESSAGES):
        signed, _headers = plugin.apply(zeep_like(), {})
        verify_envelope(
            parse_document(etree.tostring(signed), max_bytes=1_000_000, max_depth=64),
            trust,
            now=now,
        )
    assert names_known() - before < 10
