"""Pushing to simulated AsyncChannel participants in-process, as the gateway would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx2
from cryptography.x509.oid import NameOID
from lxml import etree
from starlette.applications import Starlette

from connectors import (
    AsyncMessageInfo,
    AsyncSendMessageRequest,
    ErrorInfo,
    MessageState,
    MessageType,
    TransportKey,
    TrustStore,
    build_change_status_notification,
    build_send_message_envelope,
    parse_document,
    parse_fault,
    sign_envelope,
    split_envelope,
    verify_envelope,
)
from connectors.soap.namespaces import ASYNC_TYPES

BASE_URL = "http://participant.test"
PATH = "/shep/async"


def key_of(pki_dir: Path, system: str) -> TransportKey:
    return TransportKey.from_files(pki_dir / f"{system}.pem", pki_dir / f"{system}.key")


def push_envelope(
    message_id: str | None = "msg-1",
    *,
    correlation_id: str | None = "chain-1",
    session_id: str | None = "session-1",
    service_id: str = "SomeAsyncService_v1",
    message_type: MessageType = MessageType.RESPONSE,
    sender_id: str = "ELICENSE",
    payload: etree._Element | None = None,
    namespace: str = ASYNC_TYPES,
) -> etree._Element:
    """The unsigned sendMessage envelope the gateway pushes to a participant."""
    data = etree.Element("data")
    data.append(payload if payload is not None else etree.fromstring("<result>ok</result>"))
    info = AsyncMessageInfo(
        message_id=message_id,
        correlation_id=correlation_id,
        service_id=service_id,
        message_type=message_type,
        message_date=datetime.now(UTC),
        sender_id=sender_id,
        session_id=session_id,
    )
    return build_send_message_envelope(
        AsyncSendMessageRequest(info=info, data=data), namespace=namespace
    )


def notification_envelope(
    notification_id: str = "note-1",
    *,
    message_id: str = "msg-9",
    state: MessageState = MessageState.DELIVERED,
    error: ErrorInfo | None = None,
    session_id: str | None = "session-7",
) -> etree._Element:
    now = datetime.now(UTC)
    return build_change_status_notification(
        notification_id=notification_id,
        message_id=message_id,
        notification_date=now,
        state=state,
        status_code="DELIVERED_OK",
        status_message="delivered to the receiver",
        status_date=now,
        error=error,
        request_date=now,
        session_id=session_id,
    )


def signed(envelope: etree._Element, key: TransportKey | None) -> bytes:
    """The envelope's bytes, transport-signed with ``key`` (None: sent unsigned)."""
    if key is not None:
        sign_envelope(envelope, key)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


@asynccontextmanager
async def client_of(app: Starlette) -> AsyncIterator[httpx2.AsyncClient]:
    """An HTTP client on ``app``, with its lifespan run so the app closes its database."""
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            yield http


async def post(http: httpx2.AsyncClient, body: bytes) -> tuple[int, etree._Element]:
    """POST a SOAP request; the HTTP status and the parsed answer envelope."""
    response = await http.post(PATH, content=body, headers={"Content-Type": "text/xml"})
    root = parse_document(response.content, max_bytes=10_000_000, max_depth=64)
    return response.status_code, root


def operation_of(root: etree._Element) -> etree._Element:
    return split_envelope(root).operation


def fault_code(root: etree._Element) -> str:
    info = parse_fault(root)
    assert info is not None, etree.tostring(root)
    return info.error_code


def signer_of(root: etree._Element, pki_dir: Path) -> str:
    """The common name of the certificate whose valid transport signature ``root`` carries."""
    signature = verify_envelope(root, TrustStore.from_dir(pki_dir), now=datetime.now(UTC))
    return signature.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
