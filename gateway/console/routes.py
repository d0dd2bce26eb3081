"""The console's HTTP side: server-rendered pages, and their JSON twins under ``/console/api``.

Every page and action needs the operator: a page asked without a session redirects to the login
form, an action or API call without one is refused with 401 and does nothing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from gateway.console import auth
from gateway.console.backend import ConsoleBackend, NotFound
from gateway.messagelog.flows import BadSearch

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
Endpoint = Callable[[Request], Awaitable[Response]]


def backend(request: Request) -> ConsoleBackend:
    return request.app.state.console


def _guard(endpoint: Endpoint, *, page: bool) -> Endpoint:
    async def guarded(request: Request) -> Response:
        settings = request.app.state.context.settings
        operator = auth.operator_of(request, settings)
        if operator is None:
            if page and request.method == "GET":
                target = quote(
                    request.url.path + (f"?{request.url.query}" if request.url.query else "")
                )
                return RedirectResponse(f"/console/login?next={target}", status_code=303)
            return JSONResponse(
                {"error": "log in as the console operator"},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="kzgate console"'},
            )
        request.state.operator = operator
        try:
            return await endpoint(request)
        except NotFound as missing:
            return _problem(request, page, str(missing), 404)
        except BadSearch as bad:
            return _problem(request, page, str(bad), 400)

    return guarded


def _problem(request: Request, page: bool, message: str, status: int) -> Response:
    if page:
        return render(request, "problem.html", {"message": message}, status_code=status)
    return JSONResponse({"error": message}, status_code=status)


def render(
    request: Request, template: str, values: dict[str, Any], status_code: int = 200
) -> Response:
    values = {"operator": getattr(request.state, "operator", None), **values}
    return templates.TemplateResponse(request, template, values, status_code=status_code)


async def _form(request: Request) -> dict[str, str]:
    """The page's url-encoded form (the console's forms post nothing else; no file uploads,
    so no multipart parser is needed)."""
    body = (await request.body())[: 64 * 1024].decode("utf-8", errors="replace")
    return {key: values[-1] for key, values in parse_qs(body).items()}


# --- login ---------------------------------------------------------------------------------------


async def login_form(request: Request) -> Response:
    return render(request, "login.html", {"next": request.query_params.get("next", "/console/")})


async def login(request: Request) -> Response:
    settings = request.app.state.context.settings
    form = await _form(request)
    target = str(form.get("next") or "/console/")
    if not target.startswith("/console"):  # never an open redirect
        target = "/console/"
    user, password = str(form.get("user", "")), str(form.get("password", ""))
    if not auth.credentials_match(settings, user, password):
        values = {"next": target, "error": "wrong operator name or password"}
        return render(request, "login.html", values, status_code=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        auth.COOKIE,
        auth.session_cookie(settings),
        max_age=auth.SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        path="/console",
    )
    return response


async def logout(request: Request) -> Response:
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(auth.COOKIE, path="/console")
    return response


# --- pages ---------------------------------------------------------------------------------------


async def overview(request: Request) -> Response:
    console = backend(request)
    values = {
        "integrity": await console.integrity(verify=False),
        "traffic": await console.traffic(limit=10),
        "dead": len(await console.dead_letters()),
        "catalogue": console.catalogue(),
    }
    return render(request, "overview.html", values)


async def catalogue_page(request: Request) -> Response:
    return render(request, "catalogue.html", backend(request).catalogue())


def _traffic_filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {k: q.get(k) or None for k in ("service", "sender", "outcome", "fault")}


async def traffic_page(request: Request) -> Response:
    filters = _traffic_filters(request)
    rows = await backend(request).traffic(**filters)
    values = {"rows": rows, "filters": filters, "catalogue": backend(request).catalogue()}
    return render(request, "traffic.html", values)


async def flows_page(request: Request) -> Response:
    term = request.query_params.get("q", "").strip()
    flow = await backend(request).flow(term) if term else None
    return render(request, "flow.html", {"term": term, "flow": flow})


async def flow_bundle(request: Request) -> Response:
    term = request.query_params.get("q", "").strip()
    data = await backend(request).flow_bundle(term)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in term)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="evidence-{safe}.zip"'},
    )


async def hop_page(request: Request) -> Response:
    hop = await backend(request).hop(int(request.path_params["seq"]))
    text = hop["body"].decode("utf-8", errors="replace")
    return render(request, "hop.html", {"hop": hop, "xml": text})


async def hop_raw(request: Request) -> Response:
    hop = await backend(request).hop(int(request.path_params["seq"]))
    return Response(hop["body"], media_type="application/xml")


async def integrity_page(request: Request) -> Response:
    return render(request, "integrity.html", await backend(request).integrity(verify=False))


async def integrity_verify(request: Request) -> Response:
    return render(request, "integrity.html", await backend(request).integrity(verify=True))


async def integrity_checkpoint(request: Request) -> Response:
    made = await backend(request).checkpoint()
    values = {**await backend(request).integrity(verify=False), "made": made}
    return render(request, "integrity.html", values)


async def dead_letters_page(request: Request) -> Response:
    console = backend(request)
    replayed = request.query_params.get("replayed")
    state = await console.delivery_state(replayed) if replayed else None
    values = {"letters": await console.dead_letters(), "replayed": replayed, "state": state}
    return render(request, "dead_letters.html", values)


async def dead_letter_replay(request: Request) -> Response:
    message_id = request.path_params["message_id"]
    await backend(request).replay(message_id)
    return RedirectResponse(f"/console/dead-letters?replayed={quote(message_id)}", 303)


async def sla_page(request: Request) -> Response:
    return render(request, "sla.html", {"boards": await backend(request).sla()})


async def testers_page(request: Request) -> Response:
    console = backend(request)
    values = {"clocks": await console.clocks(), "faults": await console.faults()}
    return render(request, "testers.html", values)


async def testers_clock(request: Request) -> Response:
    form = await _form(request)
    body: dict[str, Any] = {}
    if form.get("set"):
        body["set"] = str(form["set"])
    if form.get("advance_hours"):
        body["advance_seconds"] = float(str(form["advance_hours"])) * 3600
    if form.get("advance_seconds"):
        body["advance_seconds"] = float(str(form["advance_seconds"]))
    await _for_systems(request, str(form.get("system", "ALL")), body, clock=True)
    return RedirectResponse("/console/testers", status_code=303)


async def testers_faults(request: Request) -> Response:
    form = await _form(request)
    body = json.loads(str(form.get("plan") or "{}"))
    await _for_systems(request, str(form.get("system", "")), body, clock=False)
    return RedirectResponse("/console/testers", status_code=303)


async def _for_systems(request: Request, system: str, body: dict[str, Any], *, clock: bool) -> None:
    console = backend(request)
    systems = console.simulated_systems() if system == "ALL" else [system]
    if clock and len(systems) > 1 and "advance_seconds" in body:
        # Advance once, then set the others to the same moment: systems that share one clock
        # (as in one process) must not be advanced once per system.
        moved = await console.set_clock(systems[0], body)
        if "now" not in moved:
            return
        body = {"set": moved["now"]}
        systems = systems[1:]
    for sid in systems:
        if clock:
            await console.set_clock(sid, body)
        else:
            await console.set_faults(sid, body)


# --- JSON twins ----------------------------------------------------------------------------------


async def api_catalogue(request: Request) -> Response:
    return JSONResponse(backend(request).catalogue())


async def api_traffic(request: Request) -> Response:
    return JSONResponse(await backend(request).traffic(**_traffic_filters(request)))


async def api_flow(request: Request) -> Response:
    flow = await backend(request).flow(request.query_params.get("q", ""))
    return JSONResponse(
        {
            "term": flow.term,
            "traceIds": flow.trace_ids,
            "correlationIds": flow.correlation_ids,
            "participants": [name for name, _ in flow.participants],
            "hops": [
                {
                    "number": r.number,
                    "seq": r.seq,
                    "at": r.at,
                    "offsetMs": r.offset_ms,
                    "direction": r.direction,
                    "sender": r.sender,
                    "receiver": r.receiver,
                    "serviceId": r.service_id,
                    "messageId": r.message_id,
                    "outcome": r.outcome,
                    "faultCode": r.fault_code,
                    "signature": r.signature,
                }
                for r in flow.rows
            ],
        }
    )


async def api_hop(request: Request) -> Response:
    hop = await backend(request).hop(int(request.path_params["seq"]))
    return JSONResponse({**hop, "body": hop["body"].decode("utf-8", errors="replace")})


async def api_integrity(request: Request) -> Response:
    return JSONResponse(await backend(request).integrity(verify=False))


async def api_verify(request: Request) -> Response:
    return JSONResponse(await backend(request).integrity(verify=True))


async def api_checkpoint(request: Request) -> Response:
    return JSONResponse(await backend(request).checkpoint())


async def api_dead_letters(request: Request) -> Response:
    return JSONResponse(await backend(request).dead_letters())


async def api_replay(request: Request) -> Response:
    return JSONResponse(await backend(request).replay(request.path_params["message_id"]))


async def api_sla(request: Request) -> Response:
    return JSONResponse(await backend(request).sla())


async def api_clock(request: Request) -> Response:
    console = backend(request)
    if request.method == "POST":
        body = await request.json()
        system = body.pop("system", "ALL")
        await _for_systems(request, system, body, clock=True)
    return JSONResponse(await console.clocks())


async def api_faults(request: Request) -> Response:
    console = backend(request)
    if request.method == "POST":
        body = await request.json()
        await console.set_faults(body.pop("system"), body)
    return JSONResponse(await console.faults())


def _page(path: str, endpoint: Endpoint, methods: tuple[str, ...] = ("GET",)) -> Route:
    return Route(path, _guard(endpoint, page=True), methods=list(methods))


def _api(path: str, endpoint: Endpoint, methods: tuple[str, ...] = ("GET",)) -> Route:
    return Route(path, _guard(endpoint, page=False), methods=list(methods))


def console_routes() -> list[BaseRoute]:
    """Everything under ``/console``."""
    post = ("POST",)
    return [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        _page("/", overview),
        _page("/catalogue", catalogue_page),
        _page("/traffic", traffic_page),
        _page("/flows", flows_page),
        _page("/flows/bundle", flow_bundle),
        _page("/hops/{seq:int}", hop_page),
        _page("/hops/{seq:int}/raw", hop_raw),
        _page("/integrity", integrity_page),
        _page("/integrity/verify", integrity_verify, post),
        _page("/integrity/checkpoint", integrity_checkpoint, post),
        _page("/dead-letters", dead_letters_page),
        _page("/dead-letters/{message_id}/replay", dead_letter_replay, post),
        _page("/sla", sla_page),
        _page("/testers", testers_page),
        _page("/testers/clock", testers_clock, post),
        _page("/testers/faults", testers_faults, post),
        _api("/api/catalogue", api_catalogue),
        _api("/api/traffic", api_traffic),
        _api("/api/flows", api_flow),
        _api("/api/flows/bundle", flow_bundle),
        _api("/api/hops/{seq:int}", api_hop),
        _api("/api/integrity", api_integrity),
        _api("/api/integrity/verify", api_verify, post),
        _api("/api/integrity/checkpoint", api_checkpoint, post),
        _api("/api/dead-letters", api_dead_letters),
        _api("/api/dead-letters/{message_id}/replay", api_replay, post),
        _api("/api/sla", api_sla),
        _api("/api/clock", api_clock, ("GET", "POST")),
        _api("/api/faults", api_faults, ("GET", "POST")),
    ]
