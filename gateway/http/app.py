"""The gateway's ASGI application: ``/sync`` (SOAP and its WSDL), ``/health``, ``/services``."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import httpx2
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from connectors import SOAP_CONTENT_TYPE as XML
from connectors import (
    ContractNotFound,
    GatewayError,
    build_fault_envelope,
    errors,
    render_wsdl,
    render_xsd,
)
from connectors.config import Settings
from connectors.tracing import TraceMiddleware
from gateway.assembly import assemble, disassemble, purge_expired_claims
from gateway.channels.async_channel import AsyncChannel
from gateway.channels.context import GatewayContext, utc_now
from gateway.channels.exchange import SoapReply
from gateway.channels.sync import SyncChannel
from gateway.console.backend import ConsoleBackend
from gateway.console.routes import console_routes
from gateway.http.heap import freeze_startup_heap
from gateway.messagelog.checkpoint import checkpoint_forever
from gateway.observability.scrape import gateway_metrics
from gateway.routing import Dispatcher, HttpDispatcher

SYNC_WSDL = "SyncChannel.wsdl"
ASYNC_WSDL = "AsyncChannel.wsdl"


def create_app(
    settings: Settings | None = None,
    *,
    dispatcher: Dispatcher | None = None,
    provider_http: HttpDispatcher | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Starlette:
    """Build the app; the gateway is assembled at startup and torn down at shutdown."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = await assemble(
            settings, dispatcher=dispatcher, provider_http=provider_http, clock=clock
        )
        context, engine = runtime.context, runtime.engine
        app.state.context = context
        app.state.engine = engine
        ops_http = httpx2.AsyncClient() if runtime.provider_http is None else None
        app.state.console = ConsoleBackend(
            context,
            engine,
            ops_http or runtime.provider_http.client,  # type: ignore[union-attr]
        )
        app.state.sync = SyncChannel(context)
        app.state.async_ = AsyncChannel(context)
        housekeeping = asyncio.create_task(purge_expired_claims(engine))
        checkpoints = asyncio.create_task(
            checkpoint_forever(engine, context.key, clock, settings.checkpoint_interval_seconds)
        )
        freeze_startup_heap()  # the collector's pauses stall every exchange; see heap.py
        try:
            yield
        finally:
            checkpoints.cancel()
            if ops_http is not None:
                await ops_http.aclose()
            # Wait for the purge to unwind before the engine goes: a purge cancelled mid-query
            # still needs its connection to roll back.
            housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await housekeeping
            await disassemble(runtime)

    routes = [
        Route("/sync", sync_endpoint, methods=["GET", "POST"]),
        Route("/async", async_endpoint, methods=["GET", "POST"]),
        Route("/services", services_endpoint, methods=["GET"]),
        Route("/services/{service_id}", service_wsdl_endpoint, methods=["GET"]),
        Route("/health", health_endpoint, methods=["GET"]),
        Route("/metrics", gateway_metrics, methods=["GET"]),
        Mount("/console", routes=console_routes()),
        Route("/console", lambda request: RedirectResponse("/console/"), methods=["GET"]),
    ]
    return Starlette(
        routes=routes, lifespan=lifespan, middleware=[Middleware(TraceMiddleware, system="GATEWAY")]
    )


async def sync_endpoint(request: Request) -> Response:
    context: GatewayContext = request.app.state.context
    if request.method == "GET":
        return _contract(request, SYNC_WSDL)
    raw = await _read_limited(request, context.settings.max_message_bytes)
    reply = await request.app.state.sync.handle(raw, request.headers.get("content-type"))
    return _soap(reply)


async def async_endpoint(request: Request) -> Response:
    context: GatewayContext = request.app.state.context
    if request.method == "GET":
        return _contract(request, ASYNC_WSDL, path="/async")
    raw = await _read_limited(request, context.settings.max_message_bytes)
    content_type = request.headers.get("content-type")
    return _soap(await request.app.state.async_.handle(raw, content_type))


async def _read_limited(request: Request, limit: int) -> bytes:
    """Read at most ``limit + 1`` bytes: enough to know a body is too large, never all of it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return b"\0" * (limit + 1)
    chunks, size = [], 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)


def _soap(reply: SoapReply) -> Response:
    return Response(
        reply.body,
        status_code=reply.status,
        media_type=XML,
        headers={"X-Kzgate-Security-Policy": reply.security_policy},
    )


def _contract(request: Request, wsdl_file: str, *, path: str = "/sync") -> Response:
    """``?wsdl[=FILE]`` and ``?xsd=NAME`` of an endpoint whose address is the gateway's ``path``."""
    address = str(request.url.replace(query="", path=path))
    query = request.query_params
    try:
        if "wsdl" in query:
            return Response(render_wsdl(query.get("wsdl") or wsdl_file, address), media_type=XML)
        if query.get("xsd"):
            return Response(render_xsd(query["xsd"], address), media_type=XML)
    except ContractNotFound:
        return JSONResponse({"error": f"no such contract: {query}"}, status_code=404)
    context: GatewayContext = request.app.state.context
    fault = build_fault_envelope(
        GatewayError(errors.HTTP_METHOD, "GET takes ?wsdl or ?xsd=NAME"), now=context.clock()
    )
    return Response(fault, status_code=400, media_type=XML)


async def services_endpoint(request: Request) -> Response:
    context: GatewayContext = request.app.state.context
    base = str(request.base_url).rstrip("/")
    catalogue = [
        {
            "serviceId": s.service_id,
            "provider": s.provider,
            "mode": s.mode,
            "description": s.description,
            "wsdl": f"{base}/services/{s.service_id}?wsdl" if s.wsdl else f"{base}/{s.mode}?wsdl",
            "payloadSchema": f"{base}/sync?xsd={s.payload_schema}" if s.payload_schema else None,
        }
        for s in context.registry.services.values()
    ]
    return JSONResponse(catalogue)


async def service_wsdl_endpoint(request: Request) -> Response:
    context: GatewayContext = request.app.state.context
    service = context.registry.services.get(request.path_params["service_id"])
    if service is None:
        return JSONResponse({"error": "no such serviceId"}, status_code=404)
    return _contract(request, service.wsdl or SYNC_WSDL)


async def health_endpoint(request: Request) -> Response:
    context: GatewayContext = request.app.state.context
    settings = context.settings
    return JSONResponse(
        {
            "status": "ok",
            "env": settings.env,
            "securityPolicy": context.policy.value,
            "maxMessageBytes": settings.max_message_bytes,
            "maxXmlDepth": settings.max_xml_depth,
            "maxAttributesPerElement": settings.max_attributes_per_element,
            "maxNamespaceDeclarations": settings.max_namespace_declarations,
            "maxElements": settings.max_elements,
            "maxTextChars": settings.max_text_chars,
            "requestDeadlineSeconds": settings.request_deadline_seconds,
            "freshnessWindowSeconds": settings.freshness_window_seconds,
            "providerTimeoutSeconds": settings.provider_timeout_seconds,
            "messageLog": make_url(settings.database_url).get_backend_name(),
            "dispatch": context.dispatcher.description,
            "services": len(context.registry.services),
            # Which of the gateway's worker processes answered, of how many.
            "worker": {"pid": os.getpid(), "of": settings.worker_count},
        }
    )
