"""The SyncChannel exchange: admit the caller's request, relay it signed by the gateway, check the
provider's signed answer, and return it signed by the gateway — recording all four hops.

Every refusal becomes a SOAP fault with a stable code; the caller never sees a stack trace and
never gets HTTP 200 with an error inside.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from lxml import etree

from connectors import (
    GatewayError,
    SyncRequest,
    build_request_envelope,
    build_response_envelope,
    errors,
    find_transport_signature,
    parse_document,
    parse_fault,
    parse_sync_request,
    parse_sync_response,
    split_envelope,
    validate_operation,
    verify_envelope,
)
from connectors.soap.namespaces import SEND_MESSAGE
from connectors.soap.sync import forwarded_request
from connectors.tracing import trace_properties
from connectors.wsse.freshness import check_freshness
from gateway.channels.admission import admit, message_claim, replay_error, service_of
from gateway.channels.exchange import Channel, Exchange, SoapReply
from gateway.messagelog import AlreadyClaimed, Direction, Outcome
from gateway.registry import Service
from gateway.routing import Envelope

# HTTP statuses by which a provider, or a proxy in front of it, says it cannot serve now.
_UNAVAILABLE = frozenset({502, 503, 504})


class SyncChannel(Channel):
    """Handles ``SendMessage`` posted to ``/sync``."""

    schema = "sync"
    fault_channel = "sync"
    operations = frozenset({SEND_MESSAGE})

    async def _handle(self, exchange: Exchange) -> SoapReply:
        envelope = await self.read(exchange)
        request = parse_sync_request(envelope.operation)
        exchange.identify(
            message_id=request.message_id,
            sender_id=request.sender_id,
            service_id=request.service_id,
            correlation_id=request.correlation_id,
        )
        exchange.admitted = await self.off_loop(
            exchange,
            admit,
            envelope.root,
            request,
            self.ctx.admission,
            channel="sync",
            now=exchange.received,
        )
        exchange.receiver_id = service_of(exchange.admitted).provider
        answer = await self._relay(exchange, request)
        return await self._answer(exchange, answer)

    async def _relay(self, exchange: Exchange, request: SyncRequest) -> _ProviderAnswer:
        """Forward the request signed by the gateway; return the provider's verified answer."""
        service = service_of(exchange.admitted)
        outbound = self.sign(build_request_envelope(self._forwarded(exchange, request)))
        claim = message_claim(request, self.ctx.admission, exchange.received)
        try:
            await self.record(
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
            service,
            Envelope(outbound, request.message_id, exchange.correlation_id, request.sender_id),
            timeout=self.ctx.settings.provider_timeout_seconds,
        )
        try:
            # A fresh deadline: the provider's own time is bounded by the provider timeout.
            answered = replace(exchange, started=time.perf_counter())
            root = await self.off_loop(
                answered, self._read_answer, answer.body, service, answer.http_status
            )
        except GatewayError as error:
            await self.record(
                exchange,
                Direction.RESPONSE_IN,
                Outcome.FAILED,
                answer.body,
                fault_code=error.fault.code,
                sender=service.provider,
            )
            raise
        # The answer is logged together with the gateway's reply (one commit, in _answer); the
        # provider leg of the latency metrics ends here, when the answer checked out.
        exchange.marks[Direction.RESPONSE_IN.value] = time.perf_counter()
        return _ProviderAnswer(root, answer.body, service.provider)

    def _forwarded(self, exchange: Exchange, request: SyncRequest) -> SyncRequest:
        admitted = exchange.admitted
        assert admitted is not None
        return forwarded_request(
            request,
            session_id=exchange.session_id,
            extra_properties=[
                ("KZGATE_SECURITY_POLICY", self.ctx.policy.value),
                ("KZGATE_SENDER_SIGNATURE", admitted.signature_status),
                # The trace also rides in the gateway's own signed copy, where SOAP allows it,
                # for a provider that reads properties rather than HTTP headers.
                *trace_properties(),
            ],
        )

    def _read_answer(self, body: bytes, service: Service, http_status: int) -> etree._Element:
        """Parse and judge the provider's answer; any defect is the provider's, not the caller's."""
        try:
            root = parse_document(
                body,
                max_bytes=self.ctx.settings.max_message_bytes,
                max_depth=self.ctx.settings.max_xml_depth,
                limits=self.ctx.settings.xml_limits,
            )
            envelope = split_envelope(root)
        except GatewayError as error:
            if http_status in _UNAVAILABLE:
                # A provider (or the proxy before it) saying it is down is not a malformed
                # answer: the caller should retry later, not report a defect to its owner.
                raise GatewayError(
                    errors.PROVIDER_UNREACHABLE,
                    f"{service.provider} answered HTTP {http_status}",
                ) from error
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
        # Inside the try: two signatures in an answer are the provider's defect, not the caller's.
        try:
            if find_transport_signature(root) is None and self.ctx.policy.value == "emulator":
                return
            now = self.ctx.clock()
            signature = verify_envelope(root, self.ctx.trust, now=now)
            self.ctx.registry.check_certificate_of(service.provider, signature.certificate)
            # A provider's signed Timestamp is its proven clock: an expired one is a stale answer.
            settings = self.ctx.settings
            check_freshness(
                signature.timestamp,
                None,
                now,
                settings.freshness_window_seconds,
                settings.clock_skew_seconds,
            )
        except GatewayError as error:
            raise GatewayError(
                errors.PROVIDER_BAD_SIGNATURE, f"{service.provider}: {error.message}"
            ) from error

    async def _answer(self, exchange: Exchange, answer: _ProviderAnswer) -> SoapReply:
        """Sign the caller's answer and log it with the provider's in one commit: the request
        (with its replay claim) was committed before the relay, which the claim requires; the
        two answers need no commit between them, as nothing leaves the gateway in between."""
        try:
            response = parse_sync_response(split_envelope(answer.root).operation)
            outbound = build_response_envelope(replace(response, session_id=exchange.session_id))
            body = self.sign(outbound, exchange)
        except BaseException:
            # The provider's answer is evidence even when the gateway cannot answer in turn.
            await self.record(
                exchange, Direction.RESPONSE_IN, Outcome.ACCEPTED, answer.body, sender=answer.sender
            )
            raise
        await self.record(
            exchange,
            Direction.RESPONSE_IN,
            Outcome.ACCEPTED,
            answer.body,
            sender=answer.sender,
            also=(Direction.RESPONSE_OUT, body),
        )
        return SoapReply(200, body, self.ctx.policy.value)


@dataclass(frozen=True)
class _ProviderAnswer:
    """The provider's answer as it checked out: its tree, its exact bytes, who sent it."""

    root: etree._Element
    body: bytes
    sender: str
