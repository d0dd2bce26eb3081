"""Spans leave a process over OTLP/HTTP when an endpoint is configured, and nothing is attempted
when none is: a process is started with and without the variables, a collector listens here.

Each case runs in a fresh interpreter, because the tracer provider is installed once per process
(``setup_tracing``) and this test process's own provider is set up without an exporter."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

EXPORTER_MODULE = "opentelemetry.exporter.otlp.proto.http.trace_exporter"
PROCESS = f"""
import sys
from connectors.tracing import setup_tracing, tracer

provider = setup_tracing("kzgate-otlp-probe")
with tracer().start_as_current_span("probe span", attributes={{"kzgate.system": "GATEWAY"}}):
    pass
provider.force_flush()
provider.shutdown()
print("exporter loaded" if {EXPORTER_MODULE!r} in sys.modules else "no exporter")
"""


@dataclass
class Collector:
    """An OTLP/HTTP trace receiver: what each POST carried, by path."""

    url: str
    received: list[tuple[str, ExportTraceServiceRequest]] = field(default_factory=list)

    def spans(self) -> list[tuple[str, str, str]]:
        """(path, service.name, span name) of every span received."""
        found = []
        for path, request in self.received:
            for batch in request.resource_spans:
                attributes = {a.key: a.value.string_value for a in batch.resource.attributes}
                for scope in batch.scope_spans:
                    found += [(path, attributes["service.name"], s.name) for s in scope.spans]
        return found


@pytest.fixture
def collector() -> Iterator[Collector]:
    received: list[tuple[str, ExportTraceServiceRequest]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, ExportTraceServiceRequest.FromString(body)))
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the test reads what arrived, not the server's log

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Collector(f"http://127.0.0.1:{server.server_address[1]}", received)
    finally:
        server.shutdown()
        server.server_close()


def _run(**otlp: str) -> str:
    """Run the probe process with only ``otlp`` of the OTLP variables set; its verdict line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", PROCESS],
        env={**env, **otlp},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("variable", "suffix", "path"),
    [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "", "/v1/traces"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "/collector/traces", "/collector/traces"),
    ],
)
def test_with_an_endpoint_spans_reach_the_collector(
    collector: Collector, variable: str, suffix: str, path: str
) -> None:
    assert _run(**{variable: collector.url + suffix}) == "exporter loaded"
    assert collector.spans() == [(path, "kzgate-otlp-probe", "probe span")]


def test_without_an_endpoint_no_exporter_is_made(collector: Collector) -> None:
    assert _run() == "no exporter"
    assert collector.received == []
