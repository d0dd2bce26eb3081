"""A SHEP AsyncChannel participant endpoint (IAsyncChannelClient) for a simulated system.

The gateway PUSHES to it: ``sendMessage`` delivers a message, ``changeMassageStatusNotification``
(the contract's spelling) reports the state of a message the system sent. Like ``SyncProvider``
it accepts mail only from the gateway — a transport signature made with the GATEWAY certificate —
and signs every answer with its own key.

Every message is applied exactly once by its messageId: it lands in a durable ``Inbox`` and the
optional ``handler`` runs only on the first delivery; a redelivery gets the same success answer.
Testers rehearse failures through ``failures`` (or ``POST /ops/faults``): the next requests can
get HTTP 503, a permanent ``Client.*`` SOAP fault, or a slow answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, get_args

from cryptography.x509.oid import NameOID
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from gateway import errors
from gateway.errors import FaultCode, GatewayError
from gateway.security.transport import TransportKey, sign_envelope, verify_envelope
from gateway.security.trust import TrustStore
from gateway.soap.async_ import (
    CHANGE_STATUS_NOTIFICATION,
    SEND_MESSAGE,
    SEND_MESSAGE_CLIENT,
    build_change_status_notification_response,
    build_send_message_response,
    parse_change_status_notification,
    parse_send_message,
)
from gateway.soap.contracts import ContractNotFound, render_wsdl, render_xsd
from gateway.soap.envelope import split_envelope
from gateway.soap.faults import build_fault_envelope
from gateway.soap.parser import parse_document
from gateway.soap.schema import validate_operation
from simulators.kit.inbox import Inbox, InboxMessage, OnFirstDelivery, StatusNotice

log = logging.getLogger(__name__)

XML = "text/xml; charset=utf-8"
GATEWAY_ID = "GATEWAY"
WSDL_FILE = "AsyncChannelClient.wsdl"

# Each pushed element is validated by the schema that declares it: the gateway's own sendMessage
# is only known to the "async" schema, the Types/Client elements to "async-client".
_CHANNEL_OF = {
    SEND_MESSAGE: "async",
    SEND_MESSAGE_CLIENT: "async-client",
    CHANGE_STATUS_NOTIFICATION: "async-client",
}

FailureKind = Literal["http-503", "soap-client-fault", "slow"]
FAILURE_KINDS: tuple[str, ...] = get_args(FailureKind)
DEFAULT_SLOW_SECONDS = 5.0

# Not registered in gateway.errors: it is the simulator's refusal, never the gateway's. The
# "Client." prefix is what makes the gateway treat it as permanent (dead-letter, no retry).
INJECTED_REFUSAL = FaultCode(
    "Client.Simulator.Refused",
    "The participant refuses this message (failure injected by a tester)",
    "A permanent refusal: do not redeliver; the message belongs in the dead-letter queue.",
)


@dataclass(frozen=True)
class Failure:
    """One injected failure: what happens to one incoming SOAP request."""

    kind: FailureKind
    seconds: float = 0.0


class Failures:
    """The failures the next SOAP requests meet, in order (fault injection for tests)."""

    def __init__(self) -> None:
        self._pending: deque[Failure] = deque()

    def fail_next(
        self, n: int, kind: FailureKind, *, seconds: float = DEFAULT_SLOW_SECONDS
    ) -> None:
        """Queue ``n`` failures of ``kind`` after those already queued; ``seconds`` is for slow."""
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {kind!r}; known: {', '.join(FAILURE_KINDS)}")
        if n < 0 or seconds < 0:
            raise ValueError("count and seconds must not be negative")
        self._pending.extend([Failure(kind, seconds if kind == "slow" else 0.0)] * n)

    def take(self) -> Failure | None:
        """The failure for the request now arriving, or None to behave normally."""
        return self._pending.popleft() if self._pending else None

    def clear(self) -> None:
        self._pending.clear()

    def pending(self) -> list[Failure]:
        return list(self._pending)


@dataclass
class AsyncParticipant:
    """One simulated system's IAsyncChannelClient endpoint with its durable inbox."""

    system_id: str
    key: TransportKey
    trust: TrustStore
    inbox: Inbox
    handler: OnFirstDelivery | None = None
    wsdl_file: str = WSDL_FILE
    failures: Failures = field(default_factory=Failures)
    max_bytes: int = 10 * 1024 * 1024
    max_depth: int = 64

    async def handle(self, raw: bytes, *, refuse: bool = False) -> tuple[int, bytes]:
        """Answer one SOAP request: (HTTP status, signed envelope). ``refuse``: injected fault."""
        now = datetime.now(UTC)
        operation = "sendMessage"
        try:
            root, op = self._read(raw)
            operation = etree.QName(op).localname  # known now: faults use its detail element
            self._admit(root, op, now)
            if refuse:
                raise GatewayError(INJECTED_REFUSAL, f"{self.system_id} was told to refuse")
            if op.tag == CHANGE_STATUS_NOTIFICATION:
                return 200, await self._on_notice(op, now)
            return 200, await self._on_message(op, now)
        except GatewayError as error:
            return 500, self._fault(error, operation, now)
        except Exception:
            log.exception("%s failed to handle a push", self.system_id)
            return 500, self._fault(GatewayError(errors.INTERNAL, self.system_id), operation, now)

    def _read(self, raw: bytes) -> tuple[etree._Element, etree._Element]:
        """The parsed envelope and its operation, which must be one of IAsyncChannelClient."""
        root = parse_document(raw, max_bytes=self.max_bytes, max_depth=self.max_depth)
        op = split_envelope(root).operation
        if op.tag not in _CHANNEL_OF:
            raise GatewayError(
                errors.SOAP_UNKNOWN_OPERATION,
                f"{op.tag} is not an IAsyncChannelClient operation "
                "(sendMessage or changeMassageStatusNotification)",
            )
        return root, op

    def _admit(self, root: etree._Element, op: etree._Element, now: datetime) -> None:
        """Schema-valid and transport-signed by the gateway, or GatewayError."""
        validate_operation(op, _CHANNEL_OF[op.tag])
        signature = verify_envelope(root, self.trust, now=now)
        common_names = signature.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not common_names or common_names[0].value != GATEWAY_ID:
            raise GatewayError(
                errors.CERT_NOT_SENDER, f"{self.system_id} accepts messages only from the gateway"
            )

    async def _on_message(self, op: etree._Element, now: datetime) -> bytes:
        request = parse_send_message(op)
        info = request.info
        if not info.message_id:
            # Without the gateway's id a redelivery could not be recognised (exactly once).
            raise GatewayError(errors.SCHEMA_INVALID, "a pushed message must carry its messageId")
        message = InboxMessage(
            message_id=info.message_id,
            correlation_id=info.correlation_id,
            service_id=info.service_id,
            sender_id=info.sender_id,
            message_type=info.message_type.value,
            session_id=info.session_id,
            message_date=info.message_date,
            received_at=now,
            data=etree.tostring(request.data, encoding="unicode", with_tail=False),
        )
        first = await self.inbox.accept(message, self.handler)
        outcome = "stored" if first else "already had (redelivery)"
        log.info("%s %s message %s", self.system_id, outcome, info.message_id)
        response = build_send_message_response(
            message_id=info.message_id,
            correlation_id=info.correlation_id or info.message_id,
            response_date=now,
            session_id=info.session_id,
            namespace=etree.QName(op).namespace,
        )
        return self._signed(response)

    async def _on_notice(self, op: etree._Element, now: datetime) -> bytes:
        notification = parse_change_status_notification(op)
        error = notification.error
        await self.inbox.record_notice(
            StatusNotice(
                notification_id=notification.notification_id,
                message_id=notification.message_id,
                state=notification.state.value,
                status_code=notification.status_code,
                status_message=notification.status_message,
                status_date=notification.status_date,
                notification_date=notification.notification_date,
                error_code=error.error_code if error else None,
                error_message=error.error_message if error else None,
                session_id=notification.session_id,
                received_at=now,
            )
        )
        # The response's sessionId is required; a notification without one gets an empty echo.
        response = build_change_status_notification_response(
            response_date=now, session_id=notification.session_id or ""
        )
        return self._signed(response)

    def _signed(self, envelope: etree._Element) -> bytes:
        sign_envelope(envelope, self.key)
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")

    def _fault(self, error: GatewayError, operation: str, now: datetime) -> bytes:
        if operation not in ("sendMessage", "changeMassageStatusNotification"):
            operation = "sendMessage"
        raw = build_fault_envelope(error, channel="async", operation=operation, now=now)
        return self._signed(etree.fromstring(raw))

    def app(self, path: str = "/shep/async", extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
        """The ASGI app: the SOAP endpoint at ``path``, ``/health`` and the ``/ops/*`` routes."""

        async def endpoint(request: Request) -> Response:
            if request.method == "GET":
                return self._contract(request)
            return await self._receive(await request.body())

        async def health(request: Request) -> Response:
            return JSONResponse({"status": "ok", "system": self.system_id})

        @asynccontextmanager
        async def lifespan(app: Starlette):
            yield
            await self.inbox.close()

        routes = [
            Route(path, endpoint, methods=["GET", "POST"]),
            Route("/health", health, methods=["GET"]),
            *self._ops_routes(),
            *extra_routes,
        ]
        return Starlette(routes=routes, lifespan=lifespan)

    async def _receive(self, raw: bytes) -> Response:
        failure = self.failures.take()
        if failure is not None and failure.kind == "http-503":
            log.info("%s answers 503 (injected)", self.system_id)
            return PlainTextResponse("injected failure: service unavailable", status_code=503)
        if failure is not None and failure.kind == "slow":
            await asyncio.sleep(failure.seconds)
        refuse = failure is not None and failure.kind == "soap-client-fault"
        status, body = await self.handle(raw, refuse=refuse)
        return Response(body, status_code=status, media_type=XML)

    def _ops_routes(self) -> list[BaseRoute]:
        async def set_faults(request: Request) -> Response:
            try:
                body = await request.json()
                count = int(body.get("count", 1))
                seconds = float(body.get("seconds", DEFAULT_SLOW_SECONDS))
                self.failures.fail_next(count, body["kind"], seconds=seconds)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                return JSONResponse({"error": f"bad fault request: {exc}"}, status_code=400)
            return _pending_json(self.failures)

        async def faults(request: Request) -> Response:
            if request.method == "DELETE":
                self.failures.clear()
            return _pending_json(self.failures)

        async def inbox(request: Request) -> Response:
            return JSONResponse([m.to_json() for m in await self.inbox.messages()])

        async def notifications(request: Request) -> Response:
            return JSONResponse([n.to_json() for n in await self.inbox.notices()])

        return [
            Route("/ops/faults", set_faults, methods=["POST"]),
            Route("/ops/faults", faults, methods=["GET", "DELETE"]),
            Route("/ops/inbox", inbox, methods=["GET"]),
            Route("/ops/notifications", notifications, methods=["GET"]),
        ]

    def _contract(self, request: Request) -> Response:
        address = str(request.url.replace(query=""))
        query = request.query_params
        try:
            if query.get("xsd"):
                return Response(render_xsd(query["xsd"], address), media_type=XML)
            return Response(
                render_wsdl(query.get("wsdl") or self.wsdl_file, address), media_type=XML
            )
        except ContractNotFound:
            return Response("no such contract", status_code=404)


def _pending_json(failures: Failures) -> JSONResponse:
    return JSONResponse(
        {"pending": [{"kind": f.kind, "seconds": f.seconds} for f in failures.pending()]}
    )
