"""The gateway's HTTP edge to a provider, on a mock transport: what it posts, and how it names a
silence.

The relayed envelope is the gateway's signed copy: it must leave byte for byte as signed, as SOAP
1.1 over HTTP, with the caller's trace; an answer of any status comes back as it was, for the
channel to judge; no answer at all is the provider's fault, never the caller's.
"""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from connectors import FaultCode, GatewayError, errors
from connectors.tracing import setup_tracing, tracer
from gateway.routing import Envelope
from gateway.routing import http as http_module
from gateway.routing.http import HttpDispatcher

PROVIDER = "http://gbdul.test/shep"
SIGNED = b"<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'>\xd0\x91</soap:Envelope>"


class _Service:
    provider = "GBDUL"
    endpoint = PROVIDER


def _envelope() -> Envelope:
    return Envelope(SIGNED, "m-1", "c-1", "EGOV_PORTAL")


class _Provider:
    """A provider behind a mock transport: answers ``status`` (or raises ``failure``) and keeps
    every request it was sent."""

    def __init__(
        self, status: int = 200, body: bytes = b"<answer/>", failure: Exception | None = None
    ):
        self.status, self.body, self.failure = status, body, failure
        self.requests: list[httpx2.Request] = []

    def dispatcher(self) -> HttpDispatcher:
        return HttpDispatcher(httpx2.AsyncClient(transport=httpx2.MockTransport(self._answer)))

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if self.failure is not None:
            raise self.failure
        assert str(request.url) == PROVIDER
        return httpx2.Response(self.status, content=self.body)


async def test_the_signed_copy_leaves_byte_for_byte_as_soap_with_the_callers_trace() -> None:
    setup_tracing("kzgate-test")
    provider = _Provider()
    dispatcher = provider.dispatcher()
    try:
        with tracer().start_as_current_span("caller") as span:
            answer = await dispatcher.dispatch_sync(_Service(), _envelope(), timeout=5)
    finally:
        await dispatcher.close()
    (sent,) = provider.requests
    assert sent.method == "POST"
    assert sent.content == SIGNED
    assert sent.headers["content-type"] == "text/xml; charset=utf-8"
    assert sent.headers["soapaction"] == '""'
    trace_id = f"{span.get_span_context().trace_id:032x}"
    assert sent.headers["traceparent"].split("-")[1] == trace_id
    assert (answer.http_status, answer.body) == (200, b"<answer/>")


@pytest.mark.parametrize("status", [200, 500, 503])
async def test_an_answer_of_any_status_comes_back_as_it_was(status: int) -> None:
    dispatcher = _Provider(status, b"not judged here").dispatcher()
    try:
        answer = await dispatcher.dispatch_sync(_Service(), _envelope(), timeout=5)
    finally:
        await dispatcher.close()
    assert (answer.http_status, answer.body) == (status, b"not judged here")


@pytest.mark.parametrize(
    ("failure", "fault", "detail"),
    [
        (httpx2.ReadTimeout("slow"), errors.PROVIDER_TIMEOUT, "GBDUL gave no answer in 2.5 s"),
        (httpx2.ConnectTimeout("slow"), errors.PROVIDER_TIMEOUT, "GBDUL gave no answer in 2.5 s"),
        (httpx2.ConnectError("refused"), errors.PROVIDER_UNREACHABLE, f"GBDUL at {PROVIDER}"),
        (httpx2.RemoteProtocolError("hung up"), errors.PROVIDER_UNREACHABLE, "GBDUL at"),
    ],
)
async def test_no_answer_is_the_providers_fault(
    failure: Exception, fault: FaultCode, detail: str
) -> None:
    dispatcher = _Provider(failure=failure).dispatcher()
    try:
        with pytest.raises(GatewayError) as raised:
            await dispatcher.dispatch_sync(_Service(), _envelope(), timeout=2.5)
    finally:
        await dispatcher.close()
    assert raised.value.fault is fault
    assert detail in raised.value.detail


async def test_a_service_without_an_endpoint_is_unreachable_without_a_request() -> None:
    class Polled(_Service):
        endpoint = None

    provider = _Provider()
    dispatcher = provider.dispatcher()
    try:
        with pytest.raises(GatewayError) as raised:
            await dispatcher.dispatch_sync(Polled(), _envelope(), timeout=5)
        assert not provider.requests
    finally:
        await dispatcher.close()
    assert raised.value.fault is errors.PROVIDER_UNREACHABLE


async def test_a_system_that_does_not_answer_holds_only_its_own_connections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One connection per system: with a pool shared by every system, the silent system's call
    # would hold it and the other system's call would wait behind it.
    monkeypatch.setattr(http_module, "SYSTEM_CONNECTIONS", 1)

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(30)

    async def answering(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n<answer/>")
        await writer.drain()

    servers = [await asyncio.start_server(h, "127.0.0.1", 0) for h in (silent, answering)]
    (silent_url, answering_url) = (
        f"http://127.0.0.1:{s.sockets[0].getsockname()[1]}/shep" for s in servers
    )
    dispatcher = HttpDispatcher()
    try:
        hanging = asyncio.create_task(dispatcher.post("KGD", silent_url, SIGNED, timeout=20))
        await asyncio.sleep(0.2)  # KGD's only connection is taken
        answer = await dispatcher.post("GBDUL", answering_url, SIGNED, timeout=2)
        assert (answer.http_status, answer.body) == (200, b"<answer/>")
        hanging.cancel()
    finally:
        await dispatcher.close()
        for server in servers:
            server.close()
