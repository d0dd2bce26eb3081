"""Calling a simulated SyncChannel provider in-process, as the gateway would: signed as GATEWAY."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx2
from lxml import etree
from starlette.applications import Starlette

from connectors import (
    SyncRequest,
    TransportKey,
    build_request_envelope,
    parse_document,
    parse_fault,
    parse_sync_response,
    sign_envelope,
    split_envelope,
)
from connectors.client import wrap_in_data

PATH = "/shep/sync"


def sync_envelope(
    service_id: str, payload: etree._Element, key: TransportKey, *, message_id: str | None = None
) -> bytes:
    """A SendMessage from the gateway to a provider, transport-signed with ``key`` (a new
    messageId unless one is given)."""
    request = SyncRequest(
        message_id=message_id or str(uuid.uuid4()),
        service_id=service_id,
        message_date=datetime.now(UTC),
        sender_id="ELICENSE",
        data=wrap_in_data(payload),
    )
    envelope = build_request_envelope(request)
    sign_envelope(envelope, key)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


async def call(
    http: httpx2.AsyncClient, service_id: str, payload: etree._Element, key: TransportKey
) -> etree._Element:
    """The payload element of the provider's answer; AssertionError on a fault."""
    response = await http.post(
        PATH, content=sync_envelope(service_id, payload, key), headers={"Content-Type": "text/xml"}
    )
    root = parse_document(response.content, max_bytes=10_000_000, max_depth=64)
    assert response.status_code == 200, parse_fault(root)
    data = parse_sync_response(split_envelope(root).operation).data
    assert data is not None and len(data) == 1
    return data[0]


async def fault_of(
    http: httpx2.AsyncClient, service_id: str, payload: etree._Element, key: TransportKey
) -> str:
    """The error code of the fault the provider answers with (HTTP 500)."""
    response = await http.post(
        PATH, content=sync_envelope(service_id, payload, key), headers={"Content-Type": "text/xml"}
    )
    assert response.status_code == 500
    info = parse_fault(parse_document(response.content, max_bytes=10_000_000, max_depth=64))
    assert info is not None
    return info.error_code


def client_app(app: Starlette) -> httpx2.AsyncClient:
    """An HTTP client on ``app`` (no lifespan: the caller closes what the app opened)."""
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://sim.test")
