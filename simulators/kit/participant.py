"""A SHEP AsyncChannel participant endpoint (IAsyncChannelClient) for a simulated system.

The gateway PUSHES to it: ``sendMessage`` delivers a message, ``changeMassageStatusNotification``
(the contract's spelling) reports the state of a message the system sent. Like ``SyncProvider``
it accepts mail only from the gateway — a transport signature made with the GATEWAY certificate —
and signs every answer with its own key.

Every message is applied exactly once by its messageId: it lands in a durable ``Inbox`` and the
optional ``handler`` runs only on the first delivery; a redelivery gets the same success answer.
Testers rehearse failures through ``faults`` (``simulators.kit.faults``: one-shot ``failures``,
latency, error rate, down windows; also ``POST /ops/faults`` and ``KZGATE_FAULTS_<SYSTEM>``), and
move business time through ``/ops/clock`` when the process runs on a virtual clock.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.x509.oid import NameOID
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors import (
    GATEWAY_ID,
    FaultCode,
    GatewayError,
    TransportKey,
    TrustStore,
    build_fault_envelope,
    errors,
    parse_document,
    sign_envelope,
    split_envelope,
    validate_operation,
    verify_envelope,
)
from connectors.roster import RosterEntry
from connectors.soap.async_ import (
    CHANGE_STATUS_NOTIFICATION,
    SEND_MESSAGE,
    SEND_MESSAGE_CLIENT,
    build_change_status_notification_response,
    build_send_message_response,
    parse_change_status_notification,
    parse_send_message,
)
from connectors.tracing import traced_middleware
from connectors.wsse.freshness import check_freshness
from simulators.kit.clock import Clock
from simulators.kit.endpoint import endpoint_routes
from simulators.kit.fault_plans import (
    DEFAULT_SLOW_SECONDS,
    FAILURE_KINDS,
    Failure,
    FailureKind,
    Failures,
)
from simulators.kit.faults import INJECTED_REFUSAL, FaultInjector
from simulators.kit.inbox import Inbox, InboxMessage, OnFirstDelivery, StatusNotice
from simulators.kit.metrics import SimulatorMetrics
from simulators.kit.ops import refuse_non_soap

log = logging.getLogger(__name__)

WSDL_FILE = "AsyncChannelClient.wsdl"

# Each pushed element is validated by the schema that declares it: the gateway's own sendMessage
# is only known to the "async" schema, the Types/Client elements to "async-client".
_CHANNEL_OF = {
    SEND_MESSAGE: "async",
    SEND_MESSAGE_CLIENT: "async-client",
    CHANGE_STATUS_NOTIFICATION: "async-client",
}

# The fault-injection names used to live here; they are re-exported for existing importers.
__all__ = [
    "DEFAULT_SLOW_SECONDS",
    "FAILURE_KINDS",
    "INJECTED_REFUSAL",
    "AsyncParticipant",
    "Failure",
    "FailureKind",
    "Failures",
]


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
    clock: Clock | None = None  # business time (down windows); None: the process's clock
    faults: FaultInjector = field(init=False)
    metrics: SimulatorMetrics = field(init=False)

    @classmethod
    def from_pki(
        cls,
        system: RosterEntry,
        pki_dir: Path,
        database_url: str,
        *,
        handler: OnFirstDelivery | None = None,
        trust: TrustStore | None = None,
    ) -> AsyncParticipant:
        """The roster system's participant, keyed from the PKI directory, its inbox in the
        database at ``database_url``."""
        key_files = pki_dir / f"{system.system_id}.pem", pki_dir / f"{system.system_id}.key"
        return cls(
            system_id=system.system_id,
            key=TransportKey.from_files(*key_files),
            trust=trust or TrustStore.from_dir(pki_dir),
            inbox=Inbox(system.system_id, database_url),
            handler=handler,
        )

    def __post_init__(self) -> None:
        self.metrics = SimulatorMetrics(self.system_id)
        # One injector owns ``failures``: the attribute stays for callers that queue on it.
        self.faults = FaultInjector.from_env(
            self.system_id, clock=self.clock, failures=self.failures
        )

    async def handle(
        self, raw: bytes, *, inject: FaultCode | None = None, content_type: str = "text/xml"
    ) -> tuple[int, bytes]:
        """Answer one SOAP request: (HTTP status, signed envelope). ``inject``: a fault to answer
        instead of applying the message (once the request is known to be the gateway's)."""
        now = datetime.now(UTC)
        operation = "sendMessage"
        try:
            refuse_non_soap(content_type)
            root, op = self._read(raw)
            operation = etree.QName(op).localname  # known now: faults use its detail element
            self._admit(root, op, now)
            if inject is not None:
                raise GatewayError(inject, f"{self.system_id} was told to fail ({inject.code})")
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
        # The gateway signs no Timestamp, but a signed one that has expired is a stale message.
        check_freshness(signature.timestamp, None, now, 300, 60)
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
        """The ASGI app: the SOAP endpoint at ``path`` in the kit's shell (``kit/endpoint.py``),
        the inbox's ``/ops`` routes and ``extra_routes``."""

        @asynccontextmanager
        async def lifespan(app: Starlette):
            yield
            await self.inbox.close()

        routes = [*endpoint_routes(self, path, "async"), *self._ops_routes(), *extra_routes]
        middleware = traced_middleware(self.system_id)
        return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)

    def _ops_routes(self) -> list[BaseRoute]:
        async def inbox(request: Request) -> Response:
            return JSONResponse([m.to_json() for m in await self.inbox.messages()])

        async def notifications(request: Request) -> Response:
            return JSONResponse([n.to_json() for n in await self.inbox.notices()])

        return [
            Route("/ops/inbox", inbox, methods=["GET"]),
            Route("/ops/notifications", notifications, methods=["GET"]),
        ]
