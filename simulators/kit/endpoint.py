"""The shell around every simulated system's SOAP endpoint, provider and participant alike.

What a tester or the gateway sees the same way on every system is written here once:

- ``GET <path>?wsdl`` / ``?xsd=<file>``: the system's contract, addressed at the URL asked;
- ``POST <path>``: fault injection first (``kit/faults.py``: a down window or an injected 503
  answers before the message is read; an injected SOAP fault is answered once the message is
  known to be the gateway's), then the endpoint's own ``handle``; every answer is counted;
- ``/health``, ``/ops/faults``, ``/ops/clock`` and ``/metrics``.

The endpoint itself (``SyncProvider``, ``AsyncParticipant``) only admits, handles and signs.
"""

from __future__ import annotations

from typing import Literal, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors import SOAP_CONTENT_TYPE as XML
from connectors import ContractNotFound, FaultCode, render_wsdl, render_xsd
from simulators.kit.clock import Clock, ClockControl
from simulators.kit.faults import INJECTED_FAULTS, FaultInjector, unavailable
from simulators.kit.metrics import SimulatorMetrics


class SoapEndpoint(Protocol):
    """What the shell needs of an endpoint."""

    system_id: str
    wsdl_file: str
    clock: Clock | None
    faults: FaultInjector
    metrics: SimulatorMetrics

    async def handle(
        self, raw: bytes, *, inject: FaultCode | None = None, content_type: str = ...
    ) -> tuple[int, bytes]: ...


def endpoint_routes(
    endpoint: SoapEndpoint, path: str, channel: Literal["sync", "async"]
) -> list[BaseRoute]:
    """The SOAP route at ``path`` with its contracts, ``/health`` and the ``/ops`` routes."""

    async def soap(request: Request) -> Response:
        if request.method == "GET":
            return unavailable() if endpoint.faults.is_down() else contract(request, endpoint)
        raw = await request.body()
        outcome = await endpoint.faults.admit()
        if outcome == "http-503":
            endpoint.metrics.answered(channel, 503, outcome)
            return unavailable()
        status, body = await endpoint.handle(
            raw,
            inject=INJECTED_FAULTS.get(outcome),
            content_type=request.headers.get("content-type", ""),
        )
        endpoint.metrics.answered(channel, status, outcome)
        return Response(body, status_code=status, media_type=XML)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "system": endpoint.system_id})

    return [
        Route(path, soap, methods=["GET", "POST"]),
        Route("/health", health, methods=["GET"]),
        *endpoint.faults.routes(),
        *ClockControl(endpoint.clock).routes(),
        *endpoint.metrics.routes(),
    ]


def contract(request: Request, endpoint: SoapEndpoint) -> Response:
    """``?xsd=<file>`` or ``?wsdl[=<file>]`` (default: the endpoint's own WSDL)."""
    address = str(request.url.replace(query=""))
    query = request.query_params
    try:
        if query.get("xsd"):
            return Response(render_xsd(query["xsd"], address), media_type=XML)
        wsdl = render_wsdl(query.get("wsdl") or endpoint.wsdl_file, address)
        return Response(wsdl, media_type=XML)
    except ContractNotFound:
        return Response("no such contract", status_code=404)
