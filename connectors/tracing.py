"""W3C trace context across every hop, and OpenTelemetry spans exported over OTLP when asked.

A ``traceparent`` travels in HTTP headers (callers → gateway → providers and push endpoints) and
in AMQP message headers (gateway → broker → connector), so one trace holds the caller, the
gateway, the broker, the connector and the provider. The SOAP envelope itself is left alone: its
bytes are signed, and SHEP's schema has no place for a trace id.

Every process installs the OpenTelemetry SDK so that trace ids exist even with no collector (the
message log indexes hops by trace id for the console's flow browser). Spans leave the process
only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``…_TRACES_ENDPOINT``) is set: then a batch
processor sends them over OTLP/HTTP. Nothing is sent, and nothing is buffered, otherwise.

This module is what every process shares (the gateway and each simulated system): the context a
participant sends with an outgoing call (``trace_headers``), spans continuing a received one, and
the ASGI middleware of an HTTP server. The broker's tracing is the gateway's
(``gateway.observability.tracing``).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.middleware import Middleware

__all__ = [
    "TRACER",
    "TraceLinks",
    "TraceMiddleware",
    "add_span_processor",
    "continued",
    "current_trace_id",
    "current_traceparent",
    "setup_tracing",
    "trace_headers",
    "trace_properties",
    "traced_middleware",
    "tracer",
]

TRACER = "kzgate"
_OTLP_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def trace_headers() -> dict[str, str]:
    """``traceparent`` (and ``tracestate``) of the current span, to send with a request."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def setup_tracing(service_name: str = "kzgate") -> TracerProvider:
    """Install the SDK provider once per process (later calls return it); OTLP if configured."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if any(os.environ.get(name) for name in _OTLP_VARIABLES):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def add_span_processor(processor: SpanProcessor) -> None:
    """Send this process's spans to ``processor`` too (tests use an in-memory exporter)."""
    setup_tracing().add_span_processor(processor)


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER)


def current_trace_id() -> str | None:
    """The current trace's id as 32 hex digits, or None outside any trace."""
    span_context = trace.get_current_span().get_span_context()
    return f"{span_context.trace_id:032x}" if span_context.is_valid else None


def current_traceparent() -> str | None:
    return trace_headers().get("traceparent")


def trace_properties() -> list[tuple[str, str]]:
    """The current trace as SHEP requestInfo properties (key ``traceparent``), if any."""
    traceparent = current_traceparent()
    return [("traceparent", traceparent)] if traceparent else []


@contextmanager
def continued(traceparent: str | None, name: str, **attributes: Any) -> Iterator[None]:
    """Run the block in a span continuing ``traceparent`` (a new trace when None)."""
    parent = propagate.extract({"traceparent": traceparent} if traceparent else {})
    token = otel_context.attach(parent)
    try:
        with tracer().start_as_current_span(name, attributes=attributes):
            yield
    finally:
        otel_context.detach(token)


class TraceLinks:
    """Which trace a piece of work belongs to, for work resumed later by a worker (ELICENSE's
    flow continues the filing's trace). Bounded: the oldest links are forgotten first, and a
    process restart forgets them all — resumed work then starts a trace of its own."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._links: OrderedDict[str, str] = OrderedDict()
        self._capacity = capacity

    def remember(self, key: str) -> None:
        traceparent = current_traceparent()
        if traceparent is None:
            return
        self._links[key] = traceparent
        self._links.move_to_end(key)
        while len(self._links) > self._capacity:
            self._links.popitem(last=False)

    def of(self, key: str) -> str | None:
        return self._links.get(key)


# --- HTTP servers --------------------------------------------------------------------------------


class TraceMiddleware:
    """ASGI middleware: each request runs in a server span continuing the caller's traceparent."""

    def __init__(self, app: Any, system: str, *, skip: tuple[str, ...] = ("/metrics",)) -> None:
        self.app = app
        self.system = system
        self.skip = skip

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        parent = propagate.extract(headers)
        name = f"{self.system} {scope['method']} {scope['path']}"
        status: dict[str, int] = {}

        async def send_traced(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        span = tracer().start_span(
            name,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"kzgate.system": self.system, "http.route": scope["path"]},
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        try:
            await self.app(scope, receive, send_traced)
        finally:
            code = status.get("code", 500)
            span.set_attribute("http.status_code", code)
            if code >= 500:
                span.set_status(Status(StatusCode.ERROR))
            span.end()
            otel_context.detach(token)


def traced_middleware(system: str) -> list[Middleware]:
    """The middleware list a simulated system's Starlette app is built with."""
    setup_tracing(f"kzgate-{system.lower()}")
    return [Middleware(TraceMiddleware, system=system)]
