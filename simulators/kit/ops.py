"""Who may change a simulator's state through ``/ops/*`` (its clock, its faults, its hostile mode).

Reading ``/ops/*`` stays open: testers and ``kzgate status`` need it. A request that changes state
(any method but GET/HEAD) is:

- refused outright under ``KZGATE_ENV=production`` — a simulator's clock and faults are rehearsal
  tools, and nothing in production may move time or switch a system off over HTTP;
- allowed without credentials when the simulator listens on a loopback address only
  (``KZGATE_HOST`` 127.0.0.1, ::1 or localhost, the default) **and** the request itself came from
  a loopback peer: only the operator's own machine can reach it then. The peer is checked too
  because ``KZGATE_HOST`` is what the simulator was told, not what its socket is bound to (a
  process started by hand on 0.0.0.0, or behind a proxy, still says 127.0.0.1);
- otherwise allowed only with ``Authorization: Bearer <KZGATE_OPS_TOKEN>``; with no token
  configured such a simulator refuses every change, since an unauthenticated switch reachable
  from the network is exactly what issue 8 found.

The settings are read from the environment at each request, so every app factory gets the guard
without plumbing, and an operator can see the rule in one place. The operator's side — where the
token comes from, the headers a tool sends — is in ``connectors/ops_access.py``, where the console
and the command line reach it without importing a simulator.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from connectors import GatewayError, errors
from connectors.ops_access import ops_token

READ_ONLY = frozenset({"GET", "HEAD"})
Endpoint = Callable[[Request], Awaitable[Response]]


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (a name other than localhost is not trusted)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class OpsAccess:
    """The rule above, for one configuration."""

    env: str = "development"
    bind_host: str = "127.0.0.1"
    token: str | None = None

    @classmethod
    def from_environment(cls) -> OpsAccess:
        return cls(
            env=os.environ.get("KZGATE_ENV", "development"),
            bind_host=os.environ.get("KZGATE_HOST", "127.0.0.1"),
            token=ops_token(),
        )

    def refusal(self, request: Request) -> Response | None:
        """None when ``request`` may go ahead; else the response that refuses it."""
        if request.method in READ_ONLY:
            return None
        if self.env == "production":
            return JSONResponse(
                {"error": "ops endpoints do not change state under KZGATE_ENV=production"},
                status_code=403,
            )
        peer = request.client.host if request.client is not None else None
        local_peer = peer is None or is_loopback(peer)
        if is_loopback(self.bind_host) and local_peer:
            return None
        if self.token is None:
            where = (
                f"listens on {self.bind_host}"
                if not is_loopback(self.bind_host)
                else f"was reached from {peer}, not from this machine"
            )
            return JSONResponse(
                {
                    "error": f"this simulator {where}: set KZGATE_OPS_TOKEN "
                    "and send it as 'Authorization: Bearer …' to change its state"
                },
                status_code=403,
            )
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), self.token.encode()
        ):
            return JSONResponse(
                {"error": "operator authentication required (Authorization: Bearer …)"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="kzgate-ops"'},
            )
        return None


def guarded(endpoint: Callable[[Request], Awaitable[Response]]) -> Endpoint:
    """``endpoint`` behind the rule above: for a simulator's state-changing routes outside
    ``/ops/`` too (the committees' desk, a customs officer's result), which act for a person."""

    async def checked(request: Request) -> Response:
        return ops_refusal(request) or await endpoint(request)

    return checked


def ops_refusal(request: Request) -> Response | None:
    """The refusal of a state-changing ``/ops/*`` request under the current environment, if any."""
    return OpsAccess.from_environment().refusal(request)


def refuse_non_soap(content_type: str | None) -> None:
    """``Client.Http.BadRequest`` unless the request is text/xml, as the gateway requires too."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "text/xml":
        raise GatewayError(
            errors.HTTP_METHOD, f"Content-Type {content_type or '(none)'!r} is not text/xml"
        )
