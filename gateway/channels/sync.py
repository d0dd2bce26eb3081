"""The SyncChannel exchange: admit the caller's request, relay it signed by the gateway, check the
provider's signed answer, and return it signed by the gateway — recording all four hops.

Every refusal becomes a SOAP fault with a stable code; the caller never sees a stack trace and
never gets HTTP 200 with an error inside.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime

from lxml import etree

from gateway import errors
from gateway.channels.admission import Admitted, admit, message_claim, replay_error
from gateway.channels.context import GatewayContext
from gateway.errors import GatewayError
from gateway.messagelog import AlreadyClaimed, Direction, HopRecord, MessageClaim, Outcome
from gateway.registry import Service
from gateway.routing import Envelope
from gateway.security.transport import find_transport_signature, sign_envelope, verify_envelope
from gateway.soap.envelope import split_envelope
from gateway.soap.faults import build_fault_envelope, parse_fault
from gateway.soap.parser import parse_document
from gateway.soap.schema import validate_operation
from gateway.soap.sync import (
    SyncRequest,
    build_request_envelope,
    build_response_envelope,
    forwarded_request,
    parse_sync_request,
    parse_sync_response,
)
from gateway.soap.values import new_session_id

log = logging.getLogger(__name__)

GATEWAY_ID = "GATEWAY"
GATEWAY_INFO_NS = "urn:kzgate:gateway:v1"


@dataclass(frozen=True)
class SoapReply:
    """What goes back over HTTP: 200 with a response, 500 with a fault."""

    status: int
    body: bytes
    security_policy: str


@dataclass
class _Exchange:
    """What is known about one exchange so far; the fields fill in as it progresses."""

    raw: bytes
    session_id: str
    received: datetime
    started: float
    request: SyncRequest | None = None
    admitted: Admitted | None = None
    accepted: bool = False  # the claim and the first records are committed

    @property
    def correlation_id(self) -> str | None:
        if self.request is None:
            return None
        return self.request.correlation_id or self.request.message_id


class SyncChannel:
    """Handles ``SendMessage`` posted to ``/sync``."""

    def __init__(self, context: GatewayContext) -> None:
        self.ctx = context

    async def handle(self, raw: bytes) -> SoapReply:
        exchange = _Exchange(
            raw=raw,
            session_id=new_session_id(),
            received=self.ctx.clock(),
            started=time.perf_counter(),
        )
        try:
            return await self._handle(exchange)
        except GatewayError as error:
            return await self._refuse(exchange, error)
        except Exception:  # the caller still gets a well-formed fault, never a stack trace
            log.exception("sync exchange %s failed", exchange.session_id)
            return await self._refuse(exchange, GatewayError(errors.INTERNAL))

    async def _handle(self, exchange: _Exchange) -> SoapReply:
        envelope = self._read_request(exchange)
        exchange.admitted = await admit(
            envelope,
            exchange.request,
            self.ctx.admission,
            channel="sync",
            now=exchange.received,
        )
        answer = await self._relay(exchange)
        return await self._answer(exchange, answer)

    def _read_request(self, exchange: _Exchange) -> etree._Element:
        settings = self.ctx.settings
        root = parse_document(
            exchange.raw,
            max_bytes=settings.max_message_bytes,
            max_depth=settings.max_xml_depth,
        )
        envelope = split_envelope(root)
        validate_operation(envelope.operation, "sync")
        exchange.request = parse_sync_request(envelope.operation)
        return root

    async def _relay(self, exchange: _Exchange) -> etree._Element:
        """Forward the request signed by the gateway; return the provider's verified answer."""
        request, admitted = exchange.request, exchange.admitted
        assert request is not None and admitted is not None
        outbound = self._sign(build_request_envelope(self._forwarded(exchange)))
        claim = message_claim(request, self.ctx.admission, exchange.received)
        try:
            await self._record(
                exchange,
                Direction.REQUEST_IN,
                Outcome.ACCEPTED,
                exchange.raw,
                also=(Direction.REQUEST_OUT, outbound),
                claim=claim,
            )
        except AlreadyClaimed:
            raise replay_error(request) from None
        exchange.accepted = True
        answer = await self.ctx.dispatcher.dispatch_sync(
            admitted.service,
            Envelope(outbound, request.message_id, exchange.correlation_id, request.sender_id),
            timeout=self.ctx.settings.provider_timeout_seconds,
        )
        try:
            root = self._read_answer(answer.body, admitted.service)
        except GatewayError as error:
            await self._record(
                exchange,
                Direction.RESPONSE_IN,
                Outcome.FAILED,
                answer.body,
                fault_code=error.fault.code,
                sender=admitted.service.provider,
            )
            raise
        await self._record(
            exchange,
            Direction.RESPONSE_IN,
            Outcome.ACCEPTED,
            answer.body,
            sender=admitted.service.provider,
        )
        return root

    def _forwarded(self, exchange: _Exchange) -> SyncRequest:
        admitted = exchange.admitted
        assert exchange.request is not None and admitted is not None
        return forwarded_request(
            exchange.request,
            session_id=exchange.session_id,
            extra_properties=[
                ("KZGATE_SECURITY_POLICY", self.ctx.policy.value),
                ("KZGATE_SENDER_SIGNATURE", admitted.signature_status),
            ],
        )

    def _read_answer(self, body: bytes, service: Service) -> etree._Element:
        """Parse and judge the provider's answer; any defect is the provider's, not the caller's."""
        try:
            root = parse_document(
                body,
                max_bytes=self.ctx.settings.max_message_bytes,
                max_depth=self.ctx.settings.max_xml_depth,
            )
            envelope = split_envelope(root)
        except GatewayError as error:
            raise GatewayError(errors.PROVIDER_BAD_ANSWER, error.message) from error
        provider_fault = parse_fault(root)
        if provider_fault is not None:
            raise GatewayError(
                errors.PROVIDER_FAULT,
                f"{service.provider}: {provider_fault.error_code}",
                sub_error=provider_fault,
            )
        try:
            validate_operation(envelope.operation, "sync")
        except GatewayError as error:
            raise GatewayError(errors.PROVIDER_BAD_ANSWER, error.message) from error
        self._verify_provider(root, service)
        return root

    def _verify_provider(self, root: etree._Element, service: Service) -> None:
        if find_transport_signature(root) is None and self.ctx.policy.value == "emulator":
            return
        try:
            signature = verify_envelope(root, self.ctx.trust, now=self.ctx.clock())
            self.ctx.registry.check_certificate_of(service.provider, signature.certificate)
        except GatewayError as error:
            raise GatewayError(
                errors.PROVIDER_BAD_SIGNATURE, f"{service.provider}: {error.message}"
            ) from error

    async def _answer(self, exchange: _Exchange, provider_root: etree._Element) -> SoapReply:
        envelope = split_envelope(provider_root)
        response = parse_sync_response(envelope.operation)
        outbound = build_response_envelope(replace(response, session_id=exchange.session_id))
        body = self._sign(outbound, info=exchange)
        await self._record(exchange, Direction.RESPONSE_OUT, Outcome.DELIVERED, body)
        return SoapReply(200, body, self.ctx.policy.value)

    async def _refuse(self, exchange: _Exchange, error: GatewayError) -> SoapReply:
        fault = build_fault_envelope(
            error, channel="sync", session_id=exchange.session_id, now=self.ctx.clock()
        )
        body = self._sign(etree.fromstring(fault), info=exchange)
        if not exchange.accepted:
            first = (Direction.REQUEST_IN, Outcome.REJECTED, self._loggable(exchange.raw))
            await self._record(
                exchange,
                first[0],
                first[1],
                first[2],
                fault_code=error.fault.code,
                also=(Direction.FAULT_OUT, body),
            )
        else:
            await self._record(
                exchange, Direction.FAULT_OUT, Outcome.FAILED, body, fault_code=error.fault.code
            )
        log.info(
            "refused %s: %s (%s) policy=%s",
            exchange.session_id,
            error.fault.code,
            error.detail,
            self.ctx.policy.value,
        )
        return SoapReply(500, body, self.ctx.policy.value)

    def _loggable(self, raw: bytes) -> bytes:
        # An oversized body is refused unread; keeping it would let anyone fill the log's disk.
        return raw if len(raw) <= self.ctx.settings.max_message_bytes else b""

    def _sign(self, envelope: etree._Element, info: _Exchange | None = None) -> bytes:
        if info is not None:
            _add_gateway_info(envelope, self.ctx.policy.value, info.admitted)
        sign_envelope(envelope, self.ctx.key)
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")

    async def _record(
        self,
        exchange: _Exchange,
        direction: Direction,
        outcome: Outcome,
        body: bytes,
        *,
        fault_code: str | None = None,
        sender: str | None = None,
        also: tuple[Direction, bytes] | None = None,
        claim: MessageClaim | None = None,
    ) -> None:
        records = [self._hop(exchange, direction, outcome, body, fault_code, sender)]
        if also is not None:
            follow_outcome = Outcome.DELIVERED if also[0] is Direction.REQUEST_OUT else outcome
            records.append(self._hop(exchange, also[0], follow_outcome, also[1], fault_code, None))
        await self.ctx.message_log.append_many(records, claim=claim)

    def _hop(
        self,
        exchange: _Exchange,
        direction: Direction,
        outcome: Outcome,
        body: bytes,
        fault_code: str | None,
        sender: str | None,
    ) -> HopRecord:
        request, admitted = exchange.request, exchange.admitted
        caller = request.sender_id if request else "unknown"
        provider = admitted.service.provider if admitted else None
        sender_id, receiver_id = _ends(direction, caller, provider)
        return HopRecord(
            message_id=(request.message_id if request else exchange.session_id),
            correlation_id=exchange.correlation_id,
            service_id=request.service_id if request else "",
            sender_id=sender or sender_id,
            receiver_id=receiver_id,
            direction=direction,
            outcome=outcome,
            security_policy=self.ctx.policy.value,
            body=body,
            fault_code=fault_code,
            recorded_at=self.ctx.clock(),
            elapsed_ms=int((time.perf_counter() - exchange.started) * 1000),
        )


def _ends(direction: Direction, caller: str, provider: str | None) -> tuple[str, str | None]:
    """Who sent and who receives the bytes of a hop."""
    if direction is Direction.REQUEST_IN:
        return caller, GATEWAY_ID
    if direction is Direction.REQUEST_OUT:
        return GATEWAY_ID, provider
    if direction is Direction.RESPONSE_IN:
        return provider or "unknown", GATEWAY_ID
    return GATEWAY_ID, caller


def _add_gateway_info(envelope: etree._Element, policy: str, admitted: Admitted | None) -> None:
    """An informational header: the security policy in force and how the caller's mail was signed.

    Not mustUnderstand, so SOAP clients that don't know it ignore it.
    """
    soap_ns = envelope.nsmap.get(envelope.prefix) or etree.QName(envelope).namespace
    header = envelope.find(f"{{{soap_ns}}}Header")
    if header is None:
        header = etree.Element(f"{{{soap_ns}}}Header")
        envelope.insert(0, header)
    info = etree.SubElement(
        header, f"{{{GATEWAY_INFO_NS}}}GatewayInfo", nsmap={"kzg": GATEWAY_INFO_NS}
    )
    info.set("securityPolicy", policy)
    info.set("senderSignature", admitted.signature_status if admitted else "unchecked")
