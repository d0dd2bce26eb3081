"""What every channel does around its own logic: read the request safely, sign what goes back,
turn any failure into a signed SOAP fault, and record every hop in the message log.

The CPU-heavy checks (parsing, schemas, signatures, scrypt) run in worker threads through
``off_loop`` under the request's deadline: one heavy message must not stop the event loop that
serves every other caller and ``/health``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal, ParamSpec, TypeVar

from lxml import etree

from connectors import (
    GATEWAY_ID,
    Envelope,
    GatewayError,
    build_fault_envelope,
    errors,
    new_session_id,
    parse_document,
    sign_envelope,
    split_envelope,
    validate_operation,
)
from connectors.config import Settings
from connectors.tracing import current_trace_id
from gateway.channels.admission import Admitted
from gateway.channels.context import GatewayContext
from gateway.messagelog import Direction, HopRecord, MessageClaim, Outcome

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

# SOAP 1.1 travels as text/xml (SOAP 1.1 §6.1.1); a body sent as anything else was not meant to be
# read as a SOAP envelope, whatever it holds.
SOAP_MEDIA_TYPE = "text/xml"

GATEWAY_INFO_NS = "urn:kzgate:gateway:v1"


@dataclass(frozen=True)
class SoapReply:
    """What goes back over HTTP: 200 with a response, 500 with a fault."""

    status: int
    body: bytes
    security_policy: str


@dataclass
class Exchange:
    """What is known about one exchange so far; the fields fill in as it progresses."""

    raw: bytes
    session_id: str
    received: datetime
    started: float
    operation: str = ""
    message_id: str | None = None
    correlation_id: str | None = None
    sender_id: str | None = None
    service_id: str = ""
    receiver_id: str | None = None
    admitted: Admitted | None = None
    accepted: bool = False  # the request's first records are committed
    marks: dict[str, float] = field(default_factory=dict)  # when each hop was logged (metrics)

    def identify(
        self, *, message_id: str, sender_id: str, service_id: str, correlation_id: str | None
    ) -> None:
        self.message_id, self.sender_id, self.service_id = message_id, sender_id, service_id
        # Hops are grouped by the chain id, or by the request's own id when it has none.
        self.correlation_id = correlation_id or message_id


class Channel:
    """Base of the SOAP channels: subclasses implement ``_handle`` for their operations."""

    schema: ClassVar[str]  # the channel schema name in connectors.soap.schema
    fault_channel: ClassVar[Literal["sync", "async"]]
    operations: ClassVar[frozenset[str]]  # the Body children this channel handles (Clark names)

    def __init__(self, context: GatewayContext) -> None:
        self.ctx = context

    async def handle(self, raw: bytes, content_type: str | None = SOAP_MEDIA_TYPE) -> SoapReply:
        exchange = Exchange(raw, new_session_id(), self.ctx.clock(), time.perf_counter())
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
        if media_type != SOAP_MEDIA_TYPE:
            error = GatewayError(
                errors.HTTP_METHOD, f"Content-Type {content_type or '(none)'!r} is not text/xml"
            )
            return await self.refuse(exchange, error)
        return await self.guarded(exchange, self._handle)

    async def off_loop(
        self,
        exchange: Exchange,
        work: Callable[P, T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``work(*args, **kwargs)`` in one of the XML threads (``gateway.channels.threads``),
        refused with DEADLINE past the deadline.

        The thread cannot be stopped, but the parser's limits bound what it can still cost; the
        deadline bounds how long the caller waits and keeps it from holding its connection.
        """
        deadline = self.ctx.settings.request_deadline_seconds
        remaining = deadline - (time.perf_counter() - exchange.started)
        done = asyncio.get_running_loop().run_in_executor(
            self.ctx.xml_threads, functools.partial(work, *args, **kwargs)
        )
        try:
            return await asyncio.wait_for(done, timeout=max(remaining, 0.0))
        except TimeoutError:
            raise GatewayError(
                errors.DEADLINE, f"checking took longer than {deadline:g} s"
            ) from None

    async def guarded(
        self, exchange: Exchange, work: Callable[[Exchange], Awaitable[SoapReply]]
    ) -> SoapReply:
        try:
            return await work(exchange)
        except GatewayError as error:
            return await self.refuse(exchange, error)
        except Exception:  # the caller still gets a well-formed fault, never a stack trace
            log.exception("exchange %s failed", exchange.session_id)
            return await self.refuse(exchange, GatewayError(errors.INTERNAL))

    async def _handle(self, exchange: Exchange) -> SoapReply:
        raise NotImplementedError

    async def read(self, exchange: Exchange) -> Envelope:
        """Parse the request hardened, find its operation, and check it against the schema."""
        return await self.off_loop(exchange, self._read, exchange)

    def _read(self, exchange: Exchange) -> Envelope:
        envelope = split_request(exchange.raw, self.ctx.settings, self.operations)
        exchange.operation = etree.QName(envelope.operation).localname
        validate_operation(envelope.operation, self.schema)
        return envelope

    def sign(self, envelope: etree._Element, exchange: Exchange | None = None) -> bytes:
        if exchange is not None:
            _add_gateway_info(envelope, self.ctx.policy.value, exchange.admitted)
        sign_envelope(envelope, self.ctx.key)
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")

    async def reply(self, exchange: Exchange, envelope: etree._Element) -> SoapReply:
        body = self.sign(envelope, exchange)
        await self.record(exchange, Direction.RESPONSE_OUT, Outcome.DELIVERED, body)
        return SoapReply(200, body, self.ctx.policy.value)

    async def refuse(self, exchange: Exchange, error: GatewayError) -> SoapReply:
        fault = self._fault(error, exchange)
        body = self.sign(etree.fromstring(fault), exchange)
        code = error.fault.code
        if exchange.accepted:
            await self.record(exchange, Direction.FAULT_OUT, Outcome.FAILED, body, fault_code=code)
        else:
            await self.record(
                exchange,
                Direction.REQUEST_IN,
                Outcome.REJECTED,
                self._loggable(exchange),
                fault_code=code,
                also=(Direction.FAULT_OUT, body),
            )
        log.info(
            "refused %s: %s (%s) policy=%s",
            exchange.session_id,
            code,
            error.detail,
            self.ctx.policy.value,
        )
        return SoapReply(500, body, self.ctx.policy.value)

    def _fault(self, error: GatewayError, exchange: Exchange) -> bytes:
        # The fault element is named after the operation; an unknown one falls back to send.
        for operation in (exchange.operation, "sendMessage"):
            try:
                return build_fault_envelope(
                    error,
                    channel=self.fault_channel,
                    operation=operation,
                    session_id=exchange.session_id,
                    now=self.ctx.clock(),
                )
            except ValueError:
                continue
        raise AssertionError("sendMessage always has a fault element")

    def _loggable(self, exchange: Exchange) -> bytes:
        """What the log keeps of a refused request: all of it once a verified signature tied it
        to a registered system (that system answers for it), else at most its first
        ``log_unverified_max_bytes`` — anyone can send those, and unsigned junk kept whole would
        let anyone fill the log's disk. An oversized body is refused unread and kept not at all.
        """
        raw = exchange.raw
        if len(raw) > self.ctx.settings.max_message_bytes:
            return b""
        if exchange.admitted is None:
            return raw[: self.ctx.settings.log_unverified_max_bytes]
        return raw

    async def record(
        self,
        exchange: Exchange,
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
            # What the gateway sends on (its copy to the provider, its answer to the caller)
            # is delivered; a fault sent back shares the refusal's outcome.
            follow = (
                Outcome.DELIVERED
                if also[0] in (Direction.REQUEST_OUT, Direction.RESPONSE_OUT)
                else outcome
            )
            records.append(self._hop(exchange, also[0], follow, also[1], fault_code, None))
        await self.ctx.message_log.append_many(records, claim=claim)
        self.ctx.metrics.hops_recorded(
            channel=self.fault_channel,
            operation=exchange.operation,
            accepted=exchange.accepted,
            started=exchange.started,
            marks=exchange.marks,
            hops=records,
            caller=exchange.sender_id,
            receiver=exchange.receiver_id,
        )

    def _hop(
        self,
        exchange: Exchange,
        direction: Direction,
        outcome: Outcome,
        body: bytes,
        fault_code: str | None,
        sender: str | None,
    ) -> HopRecord:
        sender_id, receiver_id = _ends(
            direction, exchange.sender_id or "unknown", exchange.receiver_id
        )
        return HopRecord(
            message_id=exchange.message_id or exchange.session_id,
            correlation_id=exchange.correlation_id,
            service_id=exchange.service_id,
            sender_id=sender or sender_id,
            receiver_id=receiver_id,
            direction=direction,
            outcome=outcome,
            security_policy=self.ctx.policy.value,
            body=body,
            fault_code=fault_code,
            recorded_at=self.ctx.clock(),
            elapsed_ms=int((time.perf_counter() - exchange.started) * 1000),
            trace_id=current_trace_id(),
        )


def split_request(raw: bytes, settings: Settings, operations: frozenset[str]) -> Envelope:
    """A request's envelope, parsed hardened, with an operation of the channel (not yet checked
    against the channel schema: the caller names the operation first, for its fault element)."""
    root = parse_document(
        raw,
        max_bytes=settings.max_message_bytes,
        max_depth=settings.max_xml_depth,
        limits=settings.xml_limits,
    )
    envelope = split_envelope(root)
    # Before the schema: an element that is no operation of this channel deserves that answer,
    # not a schema error about an element the caller never meant to send here.
    if envelope.operation.tag not in operations:
        raise GatewayError(
            errors.SOAP_UNKNOWN_OPERATION, f"the Body holds {envelope.operation.tag}"
        )
    return envelope


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
    soap_ns = etree.QName(envelope).namespace
    header = envelope.find(f"{{{soap_ns}}}Header")
    if header is None:
        header = etree.Element(f"{{{soap_ns}}}Header")
        envelope.insert(0, header)
    info = etree.SubElement(
        header, f"{{{GATEWAY_INFO_NS}}}GatewayInfo", nsmap={"kzg": GATEWAY_INFO_NS}
    )
    info.set("securityPolicy", policy)
    info.set("senderSignature", admitted.signature_status if admitted else "unchecked")
