"""Fault injection for simulated systems: the one implementation both SOAP endpoints apply.

This module owns the injector that applies a fault plan (``simulators.kit.fault_plans``) to each
request reaching a simulator's SOAP endpoint, its ``/ops/faults`` HTTP endpoint and its CLI. What a
request can meet before the system sees it:

- **one-shot failures** (``Failures``): the next N requests get HTTP 503, a ``Client.*`` SOAP
  fault (a permanent refusal), a ``Server.*`` SOAP fault (transient), or a slow answer;
- **standing faults** (``FaultPlan``): ``latency`` (fixed or a range, real seconds), an
  ``error_rate`` (0..1, answered with ``error_kind``: HTTP 503 or a SOAP Server fault), and
  ``down`` windows of the simulator's clock during which every request gets HTTP 503.

Precedence for one request: a down window answers 503 first (the request never reaches the
system, so no one-shot failure is used up); then the next one-shot failure, if any; then the
error-rate draw. Latency (standing + a one-shot "slow") is slept before the answer. Latency is in
real seconds — it is a transport delay that the gateway's real HTTP timeouts must see — while
down windows are in business time (``simulators.kit.clock``), so a virtual clock can move a
system into or out of an outage.

Only the SOAP endpoint is affected: ``/health`` and ``/ops/*`` stay up, so ``kzgate up`` can see
the process is alive and testers can always lift the fault.

``SyncProvider`` and ``AsyncParticipant`` each build an injector (``.faults``) from the
environment. A system serving both endpoints in one app shares one: ``provider.faults =
participant.faults`` (the endpoints look the injector up on every request).

Configuration, one JSON schema everywhere (``FaultRequest``):

- environment: ``KZGATE_FAULTS_<SYSTEM>`` (e.g. ``KZGATE_FAULTS_GBDUL``) read at start-up;
- HTTP: ``POST /ops/faults`` applies a request, ``GET`` shows the state, ``DELETE`` clears all;
- CLI: ``python -m simulators.kit.faults URL [--latency 0.5 | 0.2-1.5] [--error-rate 0.1]
  [--error-kind soap-server-fault] [--down 10:00-12:00] [--fail http-503 --count 2] [--clear]``.

Request body: ``{"kind": "http-503"|"soap-client-fault"|"soap-server-fault"|"slow",
"count": 1, "seconds": 5}`` queues one-shot failures; ``{"latency": 0.5 | [0.2, 1.5],
"error_rate": 0.1, "error_kind": "http-503"|"soap-server-fault", "down": [{"start": "10:00",
"end": "12:00"}]}`` replaces the given standing fields (a window bound is an ISO datetime with an
offset, or HH:MM = today in Kazakhstan time on the simulator's clock). Both may be combined.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from connectors import FaultCode
from simulators.kit.clock import Clock, process_clock
from simulators.kit.fault_plans import (
    FAILURE_KINDS,
    ErrorKind,
    Failures,
    FaultPlan,
    FaultRequest,
    Outcome,
)
from simulators.kit.ops import ops_refusal

log = logging.getLogger(__name__)

ENV_PREFIX = "KZGATE_FAULTS_"

# Not registered in connectors.errors: they are the simulator's answers, never the gateway's. The
# "Client." prefix makes the gateway treat a refusal as permanent (dead-letter, no retry); the
# "Server." prefix makes it a transient failure worth retrying.
INJECTED_REFUSAL = FaultCode(
    "Client.Simulator.Refused",
    "The participant refuses this message (failure injected by a tester)",
    "A permanent refusal: do not redeliver; the message belongs in the dead-letter queue.",
)
INJECTED_SERVER_FAULT = FaultCode(
    "Server.Simulator.Failed",
    "The system failed to process this message (failure injected by a tester)",
    "A transient failure: retry later.",
)
INJECTED_FAULTS: dict[str, FaultCode] = {
    "soap-client-fault": INJECTED_REFUSAL,
    "soap-server-fault": INJECTED_SERVER_FAULT,
}


# --- the injector --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Injection:
    """What one request meets: an ``outcome`` after ``delay`` real seconds."""

    outcome: Outcome
    delay: float = 0.0


class FaultInjector:
    """One system's fault injection: one-shot ``failures`` plus a standing ``plan``."""

    def __init__(
        self,
        system_id: str,
        *,
        clock: Clock | None = None,
        plan: FaultPlan | None = None,
        failures: Failures | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.system_id = system_id
        self._clock = clock
        self.plan = plan or FaultPlan()
        self.failures = failures or Failures()
        self._rng = rng or random.Random()

    @classmethod
    def from_env(
        cls,
        system_id: str,
        *,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> FaultInjector:
        """An injector configured by ``KZGATE_FAULTS_<SYSTEM>`` (JSON ``FaultRequest``) if set."""
        injector = cls(system_id, clock=clock, **kwargs)
        name = env_var_name(system_id)
        raw = (os.environ if environ is None else environ).get(name, "").strip()
        if raw:
            try:
                injector.configure(json.loads(raw))
            except (ValueError, ValidationError) as exc:
                raise ValueError(f"{name} is not a valid fault request: {exc}") from exc
        return injector

    @property
    def clock(self) -> Clock:
        return self._clock if self._clock is not None else process_clock()

    def configure(self, body: Any) -> None:
        """Apply one ``FaultRequest`` body, all or nothing (ValueError/ValidationError if bad)."""
        request = FaultRequest.model_validate(body, context={"now": self.clock.now()})
        plan = self.plan.model_copy(update=request.standing())
        if request.kind is not None:
            self.failures.fail_next(request.count, request.kind, seconds=request.seconds)
        self.plan = plan

    def clear(self) -> None:
        self.failures.clear()
        self.plan = FaultPlan()

    def is_down(self, moment: datetime | None = None) -> bool:
        moment = moment or self.clock.now()
        return any(window.contains(moment) for window in self.plan.down)

    def decide(self) -> Injection:
        """The injection for the request now arriving (uses up a one-shot failure, if any)."""
        if self.is_down():
            return Injection("http-503")
        latency = self.plan.latency.draw(self._rng)
        failure = self.failures.take()
        if failure is not None:
            if failure.kind == "slow":
                return Injection("pass", latency + failure.seconds)
            return Injection(failure.kind, latency)
        if self.plan.error_rate and self._rng.random() < self.plan.error_rate:
            return Injection(self.plan.error_kind, latency)
        return Injection("pass", latency)

    async def admit(self) -> Outcome:
        """Decide, sleep the injected delay, and say what the request meets."""
        injection = self.decide()
        if injection.delay > 0:
            await asyncio.sleep(injection.delay)
        if injection.outcome != "pass":
            log.info("%s: injected %s", self.system_id, injection.outcome)
        return injection.outcome

    def describe(self) -> dict[str, Any]:
        pending = [{"kind": f.kind, "seconds": f.seconds} for f in self.failures.pending()]
        now = self.clock.now()
        return {"pending": pending, **self.plan.to_json(), "down_now": self.is_down(now)}

    def routes(self, path: str = "/ops/faults") -> list[BaseRoute]:
        """``GET`` the state, ``POST`` a ``FaultRequest``, ``DELETE`` to clear everything."""

        async def endpoint(request: Request) -> Response:
            refused = ops_refusal(request)
            if refused is not None:
                return refused
            if request.method == "POST":
                try:
                    self.configure(await request.json())
                except (ValueError, ValidationError) as exc:
                    return JSONResponse({"error": f"bad fault request: {exc}"}, status_code=400)
            elif request.method == "DELETE":
                self.clear()
            return JSONResponse(self.describe())

        return [Route(path, endpoint, methods=["GET", "POST", "DELETE"])]


def env_var_name(system_id: str) -> str:
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", system_id.upper())


def unavailable() -> Response:
    """The injected transport failure."""
    return PlainTextResponse("injected failure: service unavailable", status_code=503)


# --- CLI -----------------------------------------------------------------------------------------


def cli_request(args: argparse.Namespace) -> dict[str, Any]:
    """The ``FaultRequest`` body the command-line options describe."""
    body: dict[str, Any] = {}
    if args.fail:
        body |= {"kind": args.fail, "count": args.count}
        if args.seconds is not None:
            body["seconds"] = args.seconds
    if args.latency is not None:
        low, _, high = args.latency.partition("-")
        body["latency"] = [float(low), float(high or low)]
    if args.error_rate is not None:
        body["error_rate"] = args.error_rate
    if args.error_kind is not None:
        body["error_kind"] = args.error_kind
    if args.down is not None:
        windows = [w.split("-", 1) for w in args.down if w]
        body["down"] = [{"start": start, "end": end} for start, end in windows]
    return body


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.kit.faults",
        description="Show or change a running simulator's faults (its /ops/faults endpoint).",
    )
    parser.add_argument("url", help="the simulator's base URL, e.g. http://127.0.0.1:8101")
    parser.add_argument("--clear", action="store_true", help="remove every fault first")
    parser.add_argument("--fail", choices=FAILURE_KINDS, help="queue one-shot failures")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--seconds", type=float, help="how slow a 'slow' failure is")
    parser.add_argument("--latency", help="seconds, or a range LOW-HIGH")
    parser.add_argument("--error-rate", type=float)
    parser.add_argument("--error-kind", choices=get_args(ErrorKind))
    parser.add_argument(
        "--down",
        action="append",
        help="a down window HH:MM-HH:MM today (Kazakhstan time by the simulator's clock);"
        " repeat for several; '' for none (ISO windows: POST JSON to /ops/faults)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    import httpx2  # only the CLI talks HTTP

    args = build_parser().parse_args(argv)
    url = args.url.rstrip("/") + "/ops/faults"
    with httpx2.Client(timeout=10) as client:
        if args.clear:
            client.delete(url).raise_for_status()
        body = cli_request(args)
        response = client.post(url, json=body) if body else client.get(url)
    print(json.dumps(response.json(), indent=2, ensure_ascii=False))
    return 0 if response.is_success else 1


if __name__ == "__main__":
    sys.exit(main())
