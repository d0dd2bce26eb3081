"""A SHEP provider endpoint for a simulated system: the SyncChannel ``SendMessage`` it implements.

Like a real provider it accepts mail only from the gateway — the request must carry a transport
signature made with the gateway's certificate — acts on each messageId once (``kit/replay.py``),
and signs every answer with its own key. The
system's business logic is a plain ``handler`` from request to result. Fault injection
(``simulators.kit.faults``) sits in front of the handler, and ``/ops/faults`` and ``/ops/clock``
let testers steer it.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.x509.oid import NameOID
from lxml import etree
from starlette.applications import Starlette

from connectors import (
    GATEWAY_ID,
    FaultCode,
    GatewayError,
    SyncRequest,
    SyncResponse,
    TransportKey,
    TrustStore,
    build_fault_envelope,
    build_response_envelope,
    errors,
    parse_document,
    parse_sync_request,
    sign_envelope,
    split_envelope,
    validate_operation,
    verify_envelope,
)
from connectors.roster import RosterEntry
from connectors.tracing import traced_middleware
from connectors.wsse.freshness import check_freshness
from simulators.kit.clock import Clock
from simulators.kit.endpoint import endpoint_routes
from simulators.kit.faults import FaultInjector
from simulators.kit.hostile import HostileMode
from simulators.kit.metrics import SimulatorMetrics
from simulators.kit.ops import refuse_non_soap
from simulators.kit.replay import SeenMessages

log = logging.getLogger(__name__)

SUCCESS = ("SCSS001", "Message has been processed successfully")
SOAP_MEDIA_TYPE = "text/xml"
FRESHNESS_SECONDS, SKEW_SECONDS = 300, 60  # the gateway's defaults


@dataclass(frozen=True)
class ProviderResult:
    """What the system answers: the content of ``data`` and the SHEP status."""

    payload: etree._Element | None
    status_code: str = SUCCESS[0]
    status_message: str = SUCCESS[1]


Handler = Callable[[SyncRequest], ProviderResult | Awaitable[ProviderResult]]


@dataclass
class SyncProvider:
    """One simulated system's SyncChannel endpoint."""

    system_id: str
    key: TransportKey
    trust: TrustStore
    handler: Handler
    wsdl_file: str
    max_bytes: int = 10 * 1024 * 1024
    max_depth: int = 64
    clock: Clock | None = None  # business time (down windows); None: the process's clock
    faults: FaultInjector = field(init=False)
    metrics: SimulatorMetrics = field(init=False)
    seen: SeenMessages = field(init=False)

    @classmethod
    def from_pki(
        cls,
        system: RosterEntry,
        pki_dir: Path,
        handler: Handler,
        *,
        trust: TrustStore | None = None,
        clock: Clock | None = None,
    ) -> SyncProvider:
        """The roster system's provider, keyed from the PKI directory (``<ID>.pem``/``.key``,
        and the CA/CRL it trusts unless ``trust`` is given)."""
        key_files = pki_dir / f"{system.system_id}.pem", pki_dir / f"{system.system_id}.key"
        return cls(
            system_id=system.system_id,
            key=TransportKey.from_files(*key_files),
            trust=trust or TrustStore.from_dir(pki_dir),
            handler=handler,
            wsdl_file=system.wsdl,
            clock=clock,
        )

    def __post_init__(self) -> None:
        self.faults = FaultInjector.from_env(self.system_id, clock=self.clock)
        self.hostile = HostileMode(self.system_id, self.key)
        self.metrics = SimulatorMetrics(self.system_id)
        # A messageId is held for as long as a copy could still pass freshness (as the gateway).
        self.seen = SeenMessages(hold_seconds=FRESHNESS_SECONDS + 2 * SKEW_SECONDS)

    async def handle(
        self, raw: bytes, *, inject: FaultCode | None = None, content_type: str = SOAP_MEDIA_TYPE
    ) -> tuple[int, bytes]:
        """Answer one request: (HTTP status, signed envelope). ``inject``: a fault to answer
        instead of calling the handler (once the request is known to be the gateway's)."""
        now = datetime.now(UTC)
        try:
            refuse_non_soap(content_type)
            request = self._admit(raw, now)
            result = await self._act(request, inject)
            return 200, self._answer(request, result, now)
        except GatewayError as error:
            return 500, self._fault(error, now)
        except Exception:
            log.exception("%s failed to handle a request", self.system_id)
            return 500, self._fault(GatewayError(errors.INTERNAL, self.system_id), now)

    async def _act(self, request: SyncRequest, inject: FaultCode | None) -> ProviderResult:
        try:
            if inject is not None:
                raise GatewayError(inject, f"{self.system_id} was told to fail ({inject.code})")
            result = self.handler(request)
            return await result if inspect.isawaitable(result) else result
        except GatewayError:
            # Refused, so nothing was acted on: the sender may correct it and resend the same id.
            self.seen.release(request.sender_id, request.message_id)
            raise

    def _admit(self, raw: bytes, now: datetime) -> SyncRequest:
        root = parse_document(raw, max_bytes=self.max_bytes, max_depth=self.max_depth)
        envelope = split_envelope(root)
        validate_operation(envelope.operation, "sync")
        signature = verify_envelope(root, self.trust, now=now)
        # The gateway signs no Timestamp, but a signed one that has expired is a stale message.
        check_freshness(signature.timestamp, None, now, FRESHNESS_SECONDS, SKEW_SECONDS)
        common_names = signature.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not common_names or common_names[0].value != GATEWAY_ID:
            raise GatewayError(
                errors.CERT_NOT_SENDER, f"{self.system_id} accepts messages only from the gateway"
            )
        request = parse_sync_request(envelope.operation)
        # Claimed only once the gateway's signature is proven: strangers cannot fill the guard.
        if not self.seen.claim(request.sender_id, request.message_id):
            raise GatewayError(
                errors.REPLAY, f"messageId {request.message_id!r} from {request.sender_id}"
            )
        return request

    def _answer(self, request: SyncRequest, result: ProviderResult, now: datetime) -> bytes:
        data = etree.Element("data")
        if result.payload is not None:
            data.append(result.payload)
        response = SyncResponse(
            message_id=str(uuid.uuid4()),
            correlation_id=request.correlation_id or request.message_id,
            response_date=now,
            status_code=result.status_code,
            status_message=result.status_message,
            session_id=request.session_id,
            data=data,
        )
        hostile = self.hostile.answer(lambda **_: build_response_envelope(response))
        if hostile is not None:
            return hostile
        envelope = build_response_envelope(response)
        sign_envelope(envelope, self.key)
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")

    def _fault(self, error: GatewayError, now: datetime) -> bytes:
        fault = etree.fromstring(build_fault_envelope(error, channel="sync", now=now))
        sign_envelope(fault, self.key)
        return etree.tostring(fault, xml_declaration=True, encoding="UTF-8")

    def app(self, path: str = "/shep/sync") -> Starlette:
        """The ASGI app: the SOAP endpoint at ``path`` in the kit's shell (``kit/endpoint.py``)."""
        return Starlette(
            middleware=traced_middleware(self.system_id),
            routes=[*endpoint_routes(self, path, "sync"), *self.hostile.routes()],
        )
