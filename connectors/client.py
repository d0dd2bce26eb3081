"""The client SDK: what a state system needs to call the gateway's SyncChannel and AsyncChannel."""

from __future__ import annotations

import asyncio
import copy
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx2
from cryptography.x509.oid import NameOID
from lxml import etree

from connectors.errors import GatewayError
from connectors.soap.async_ import (
    AsyncDeliveryNotificationRequest,
    AsyncGetMessagesRequest,
    AsyncGetMessageStatusRequest,
    AsyncGetMessageStatusResponse,
    AsyncMessageInfo,
    AsyncSendMessageRequest,
    AsyncSendMessageResponse,
    MessageType,
    ReceiveStatus,
    ResendMessage,
    build_delivery_notification_envelope,
    build_get_message_status_envelope,
    build_get_messages_envelope,
    build_send_message_envelope,
    parse_get_message_status_response,
    parse_get_messages_response,
    parse_send_message_response,
)
from connectors.soap.envelope import split_envelope
from connectors.soap.faults import ErrorInfo, parse_fault
from connectors.soap.parser import parse_document
from connectors.soap.sync import (
    SyncRequest,
    SyncResponse,
    build_request_envelope,
    parse_sync_response,
)
from connectors.tracing import trace_headers
from connectors.wire import GATEWAY_ID, KEEPALIVE_EXPIRY_SECONDS, SOAP_HEADERS
from connectors.wsse.transport import (
    TransportKey,
    VerifiedSignature,
    sign_envelope,
    verify_envelope,
)
from connectors.wsse.trust import TrustStore

MAX_ANSWER_BYTES = 50 * 1024 * 1024


class GatewayFault(Exception):
    """The gateway (or, in ``sub_error``, a provider) refused the request."""

    def __init__(self, info: ErrorInfo, envelope: bytes) -> None:
        super().__init__(f"{info.error_code}: {info.error_message}")
        self.info = info
        self.envelope = envelope


class AnswerNotTrusted(Exception):
    """The answer's transport signature is missing, invalid, or not the gateway's."""


@dataclass(frozen=True)
class SyncResult:
    response: SyncResponse
    envelope: bytes
    request_envelope: bytes = field(repr=False, default=b"")


def wrap_in_data(payload: etree._Element | None) -> etree._Element:
    """The SHEP ``data`` element holding a copy of ``payload``."""
    data = etree.Element("data")
    if payload is not None:
        data.append(copy.deepcopy(payload))
    return data


@dataclass
class ShepClient:
    """Calls the gateway's channels as ``sender_id``, signing with that system's transport key.

    The answer must carry the gateway's signature with a certificate the trust store accepts and
    whose subject is the gateway's (CN=GATEWAY); anything else raises ``AnswerNotTrusted``.

    Calls go through ``http`` when given; otherwise through one client of its own, which keeps
    its connections alive between calls (``aclose`` ends them). A client made per call cost
    ~7 ms of CPU for its TLS context alone, plus a TCP connection: 58 % of ELICENSE's CPU per
    licence before it was kept (issue 12).
    """

    gateway_url: str
    sender_id: str
    password: str
    key: TransportKey
    trust: TrustStore
    http: httpx2.AsyncClient | None = None
    timeout: float = 60.0
    # The client of its own, with the event loop its connections belong to.
    _own: tuple[asyncio.AbstractEventLoop, httpx2.AsyncClient] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def request(
        self,
        service_id: str,
        payload: etree._Element | None,
        *,
        correlation_id: str | None = None,
        properties: list[tuple[str, str]] | None = None,
    ) -> SyncRequest:
        return SyncRequest(
            message_id=str(uuid.uuid4()),
            correlation_id=correlation_id,
            service_id=service_id,
            message_date=datetime.now(UTC),
            route_id=None,
            sender_id=self.sender_id,
            password=self.password,
            properties=properties or [],
            session_id=None,
            data=wrap_in_data(payload),
        )

    def signed_envelope(self, request: SyncRequest) -> bytes:
        return self.sign(build_request_envelope(request))

    async def send(self, service_id: str, payload: etree._Element | None, **kwargs) -> SyncResult:
        """Send ``payload`` (the content of ``data``) to ``service_id``; raise on any refusal."""
        body = self.signed_envelope(self.request(service_id, payload, **kwargs))
        return await self.post(body)

    async def post(self, body: bytes) -> SyncResult:
        root, answer = await self.call("/sync", body)
        response = parse_sync_response(split_envelope(root).operation)
        return SyncResult(response=response, envelope=answer, request_envelope=body)

    async def call(self, path: str, body: bytes) -> tuple[etree._Element, bytes]:
        """POST a signed envelope to ``path``; the gateway-signed answer, or GatewayFault."""
        answer = await self._post(path, body)
        root = parse_document(answer, max_bytes=MAX_ANSWER_BYTES, max_depth=256)
        fault = parse_fault(root)
        if fault is not None:
            raise GatewayFault(fault, answer)
        self._check_signature(root)
        return root, answer

    def sign(self, envelope: etree._Element) -> bytes:
        sign_envelope(envelope, self.key)
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")

    # --- AsyncChannel ---------------------------------------------------------------------------

    def async_request(
        self,
        service_id: str,
        payload: etree._Element | None,
        *,
        message_type: MessageType = MessageType.REQUEST,
        correlation_id: str | None = None,
        message_id: str | None = None,
    ) -> AsyncSendMessageRequest:
        info = AsyncMessageInfo(
            message_id=message_id,
            correlation_id=correlation_id,
            service_id=service_id,
            message_type=message_type,
            message_date=datetime.now(UTC),
            sender_id=self.sender_id,
            password=self.password,
        )
        return AsyncSendMessageRequest(info=info, data=wrap_in_data(payload))

    async def send_async(self, request: AsyncSendMessageRequest) -> AsyncSendMessageResponse:
        """sendMessage: the gateway's ack carries the messageId and correlationId it holds."""
        root, _ = await self.call("/async", self.sign(build_send_message_envelope(request)))
        return parse_send_message_response(split_envelope(root).operation)

    async def message_status(self, message_id: str) -> AsyncGetMessageStatusResponse:
        request = AsyncGetMessageStatusRequest(
            message_id=message_id,
            request_date=datetime.now(UTC),
            sender_id=self.sender_id,
            password=self.password,
        )
        root, _ = await self.call("/async", self.sign(build_get_message_status_envelope(request)))
        return parse_get_message_status_response(split_envelope(root).operation)

    async def get_messages(
        self, service_id: str, *, amount: int | None = None
    ) -> list[AsyncSendMessageRequest]:
        request = AsyncGetMessagesRequest(
            service_id=service_id,
            request_date=datetime.now(UTC),
            sender_id=self.sender_id,
            password=self.password,
            amount=amount,
        )
        root, _ = await self.call("/async", self.sign(build_get_messages_envelope(request)))
        return parse_get_messages_response(split_envelope(root).operation).messages

    async def acknowledge(
        self,
        message_id: str,
        service_id: str,
        *,
        accepted: bool = True,
        resend: bool = False,
    ) -> None:
        """sendDeliveryNotification: the receiver took the message (or could not)."""
        now = datetime.now(UTC)
        request = AsyncDeliveryNotificationRequest(
            message_id=message_id,
            service_id=service_id,
            notification_date=now,
            receive_status=ReceiveStatus.MESSAGE_ACCEPTED
            if accepted
            else ReceiveStatus.MESSAGE_NOT_ACCTEPTED,
            status_date=now,
            resend_message=ResendMessage.RESEND if resend else ResendMessage.NOT_RESEND,
            request_date=now,
            sender_id=self.sender_id,
            password=self.password,
        )
        await self.call("/async", self.sign(build_delivery_notification_envelope(request)))

    async def _post(self, path: str, body: bytes) -> bytes:
        url = self.gateway_url.rstrip("/") + path
        # The caller's trace goes along, so the gateway's hops join it (W3C traceparent).
        headers = {**SOAP_HEADERS, **trace_headers()}
        reply = await self._http().post(url, content=body, headers=headers, timeout=self.timeout)
        return reply.content

    def _http(self) -> httpx2.AsyncClient:
        if self.http is not None:
            return self.http
        loop = asyncio.get_running_loop()
        if self._own is None or self._own[0] is not loop:
            # Kept-alive connections belong to the loop that opened them: a client used from a
            # new loop (one asyncio.run per command) opens a client there.
            limits = httpx2.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS)
            self._own = (loop, httpx2.AsyncClient(limits=limits))
        return self._own[1]

    async def aclose(self) -> None:
        """Close the connections of the client of its own (a given ``http`` is the giver's)."""
        own, self._own = self._own, None
        if own is not None and own[0] is asyncio.get_running_loop():
            await own[1].aclose()

    def _check_signature(self, root: etree._Element) -> None:
        check_gateway_signature(root, self.trust)


def check_gateway_signature(root: etree._Element, trust: TrustStore) -> VerifiedSignature:
    """The answer's transport signature is valid, trusted and the gateway's; else AnswerNotTrusted.

    The verifier finds what is signed by position (the one Body of the envelope), so a signature
    moved over a wrapped copy of the body is refused rather than believed.
    """
    try:
        verified = verify_envelope(root, trust, now=datetime.now(UTC))
    except GatewayError as error:
        raise AnswerNotTrusted(f"{error.fault.code}: {error.message}") from error
    names = verified.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names or names[0].value != GATEWAY_ID:
        raise AnswerNotTrusted(
            f"signed by {verified.certificate.subject.rfc4514_string()}, not by the gateway"
        )
    return verified
