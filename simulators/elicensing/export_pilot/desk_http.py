"""The committees' desk over HTTP on ELICENSE's port, for the officers (``kzgate officer``).

HTTP for officers (JSON; errors are ``{"code", "message", "hint"}`` with 4xx):

- ``GET  /desk/queue?committee=…`` — open applications with findings and step lateness;
- ``GET  /desk/applications/{n}``;
- ``POST /desk/applications/{n}/take|approve|refuse|sign`` — body ``{"officer": id}``
  (``refuse``: ``"grounds": {"4": "reason", …}``; ``sign``: ``{"head": id}``);
- ``POST /desk/permits/{p}/terminate`` — ``{"by": id, "ground": "а", "reasoning": "…"}``;
- ``GET  /desk/reports/overdue`` — execution reports past due (p.16); ``GET /desk/sla``;
- ``GET  /desk/window`` — the pilot's window (order p.11), whether today is in it, a working day
  inside it to rehearse on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors import GatewayError, GatewayFault, errors, format_datetime
from simulators.elicensing.export_pilot.desk_faults import NO_AMENDMENTS
from simulators.elicensing.export_pilot.forms import (
    TerminationGround,
)
from simulators.elicensing.export_pilot.goods import Committee
from simulators.elicensing.export_pilot.store import PilotApplication
from simulators.kit.ops import guarded

__all__ = ["DeskRoutes"]


class DeskRoutes:
    """The officers' desk over HTTP; a mixin of ``ExportPilot``, whose ``desk`` and ``flow`` it
    uses."""

    def routes(self) -> list[Route]:
        return [
            Route("/desk/queue", self._queue),
            Route("/desk/sla", self._sla),
            Route("/desk/window", self._window),
            Route("/desk/reports/overdue", self._overdue),
            Route("/desk/applications/{number}", self._one),
            # Officers act for a committee: beyond loopback only with the operator's token.
            Route("/desk/applications/{number}/{action}", guarded(self._action), methods=["POST"]),
            Route("/desk/permits/{permit}/terminate", guarded(self._terminate), methods=["POST"]),
        ]

    async def _queue(self, request: Request) -> Response:
        async def run() -> Any:
            committee = request.query_params.get("committee")
            apps = await self.desk.queue(Committee(committee) if committee else None)
            return [self.application_json(a) for a in apps]

        return await _json(run)

    async def _one(self, request: Request) -> Response:
        async def run() -> Any:
            app = await self.desk.watch(await self.desk.get(request.path_params["number"]))
            return self.application_json(app)

        return await _json(run)

    async def _action(self, request: Request) -> Response:
        number, action = request.path_params["number"], request.path_params["action"]
        body = await _body(request)

        async def run() -> Any:
            who = str(body.get("officer") or body.get("head") or "")
            if action == "take":
                app = await self.desk.take(number, who)
            elif action == "approve":
                app = await self.desk.approve(number, who)
            elif action == "refuse":
                raw = body.get("grounds")
                grounds = None if raw is None else {int(k): str(v) for k, v in raw.items()}
                app = await self.desk.refuse(number, who, grounds)
            elif action == "sign":
                app = await self.desk.sign(number, who)
            elif action == "amend":
                raise GatewayError(NO_AMENDMENTS, number)
            else:
                return JSONResponse({"code": "NotFound", "message": action}, status_code=404)
            self.flow.wake()
            return self.application_json(app)

        return await _json(run)

    async def _terminate(self, request: Request) -> Response:
        body = await _body(request)

        async def run() -> Any:
            try:
                ground = TerminationGround(str(body.get("ground", "")))
            except ValueError as exc:
                raise GatewayError(
                    errors.SCHEMA_PAYLOAD_INVALID, "ground is one of а б в г д е ж (Rules p.14)"
                ) from exc
            app = await self.desk.terminate(
                request.path_params["permit"],
                str(body.get("by", "")),
                ground,
                str(body.get("reasoning", "")),
            )
            self.flow.wake()
            return self.application_json(app)

        return await _json(run)

    async def _overdue(self, request: Request) -> Response:
        return await _json(self.desk.overdue_reports)

    async def _window(self, request: Request) -> Response:
        return JSONResponse(self.window_state())

    async def _sla(self, request: Request) -> Response:
        async def run() -> Any:
            apps = [await self.desk.watch(a) for a in await self.desk.store.all()]
            late: dict[str, int] = {}
            for app in apps:
                for step in app.late_steps:
                    late[step] = late.get(step, 0) + 1
            return {
                "now": format_datetime(self.desk.clock.now()),
                "total": len(apps),
                "issued": sum(1 for a in apps if a.outcome == "ISSUED"),
                "refused": sum(1 for a in apps if a.outcome == "REFUSED"),
                "open": sum(1 for a in apps if a.signed_at is None),
                "lateSteps": late,
                "applications": [self.application_json(a) for a in apps],
            }

        return await _json(run)

    def application_json(self, app: PilotApplication) -> dict[str, Any]:
        now = self.desk.clock.now()
        return {
            "applicationNumber": app.number,
            "committee": app.committee,
            "annex": app.annex,
            "applicantId": app.applicant_id,
            "state": app.state.value,
            "registeredBy": app.registered_by,
            "findings": app.findings_list(),
            "decision": app.decision,
            "grounds": [g["code"] for g in app.grounds_list()],
            "outcome": app.outcome,
            "documentNumber": app.document_number,
            "permitStatus": app.permit_status,
            "terminationNumber": app.termination_number,
            "terminationRequested": app.termination_requested,
            "late": list(app.late_steps),
            "steps": [
                {
                    "name": s.name,
                    "due": format_datetime(s.due) if s.due else None,
                    "doneAt": format_datetime(s.done_at) if s.done_at else None,
                    "late": s.late,
                    "overdueSeconds": s.overdue_by.total_seconds() if s.overdue_by else None,
                }
                for s in self.desk.steps(app, now)
            ],
            "delivered": {
                "portal": app.sent_portal,
                "keden": app.sent_keden,
                "terminationPortal": app.term_sent_portal,
                "terminationKeden": app.term_sent_keden,
            },
            "lastError": app.last_error,
        }


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def _json(run: Callable[[], Awaitable[Any]]) -> Response:
    """Run a desk action; a refusal is ``{"code", "message", "hint", "detail"}`` with 4xx."""
    try:
        return JSONResponse(await run())
    except GatewayError as exc:
        status = (
            404
            if exc.fault.code.endswith(("Unknown" + "Application", "UnknownPermit"))
            else (
                409
                if exc.fault.code.endswith(("WrongStep", "PermitNotValid", "FindingsOpen"))
                else 400
            )
        )
        if exc.fault.code.endswith(("NotYourCommittee", "NotTheHead", "WrongHolder")):
            status = 403
        body = {
            "code": exc.fault.code,
            "message": exc.fault.title,
            "hint": exc.fault.hint,
            "detail": exc.detail,
        }
        return JSONResponse(body, status_code=status)
    except GatewayFault as fault:  # a state database the desk asks (GBDUL/GBDFL) is down
        body = {
            "code": fault.info.error_code,
            "message": f"a state database did not answer: {fault.info.error_message}",
            "hint": "Try the step again when it is back; its term keeps running meanwhile.",
            "detail": None,
        }
        return JSONResponse(body, status_code=503)
    except ValueError as exc:  # a committee name that is not one
        return JSONResponse({"code": "BadRequest", "message": str(exc)}, status_code=400)
