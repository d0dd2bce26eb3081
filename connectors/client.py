"""The SyncChannel client SDK: what a state system needs to call a service through the gateway."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from lxml import etree

from gateway.security.transport import TransportKey, sign_envelope, verify_envelope
from gateway.security.trust import TrustStore
from gateway.soap.envelope import split_envelope
from gateway.soap.faults import ErrorInfo, parse_fault
from gateway.soap.parser import parse_document
from gateway.soap.sync import (
    SyncRequest,
    SyncResponse,
    build_request_envelope,
    parse_sync_response,
)

SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
GATEWAY_ID = "GATEWAY"
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
    """Calls the gateway's SyncChannel as ``sender_id``, signing with that system's transport key.

    The answer must carry the gateway's signature with a certificate the trust store accepts and
    whose subject is the gateway's (CN=GATEWAY); anything else raises ``AnswerNotTrusted``.
    """

    gateway_url: str
    sender_id: str
    password: str
    key: TransportKey
    trust: TrustStore
    http: httpx.AsyncClient | None = None
    timeout: float = 60.0

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
        envelope = build_request_envelope(request)
        sign_envelope(envelope, self.key)
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")

    async def send(self, service_id: str, payload: etree._Element | None, **kwargs) -> SyncResult:
        """Send ``payload`` (the content of ``data``) to ``service_id``; raise on any refusal."""
        body = self.signed_envelope(self.request(service_id, payload, **kwargs))
        return await self.post(body)

    async def post(self, body: bytes) -> SyncResult:
        answer = await self._post(body)
        root = parse_document(answer, max_bytes=MAX_ANSWER_BYTES, max_depth=256)
        fault = parse_fault(root)
        if fault is not None:
            raise GatewayFault(fault, answer)
        self._check_signature(root)
        response = parse_sync_response(split_envelope(root).operation)
        return SyncResult(response=response, envelope=answer, request_envelope=body)

    async def _post(self, body: bytes) -> bytes:
        url = self.gateway_url.rstrip("/") + "/sync"
        if self.http is not None:
            reply = await self.http.post(
                url, content=body, headers=SOAP_HEADERS, timeout=self.timeout
            )
            return reply.content
        async with httpx.AsyncClient() as http:
            reply = await http.post(url, content=body, headers=SOAP_HEADERS, timeout=self.timeout)
            return reply.content

    def _check_signature(self, root: etree._Element) -> None:
        from gateway.errors import GatewayError

        try:
            verified = verify_envelope(root, self.trust, now=datetime.now(UTC))
        except GatewayError as error:
            raise AnswerNotTrusted(f"{error.fault.code}: {error.message}") from error
        names = verified.certificate.subject.get_attributes_for_oid(_CN)
        if not names or names[0].value != GATEWAY_ID:
            raise AnswerNotTrusted(
                f"signed by {verified.certificate.subject.rfc4514_string()}, not by the gateway"
            )


from cryptography.x509.oid import NameOID  # noqa: E402

_CN = NameOID.COMMON_NAME
