"""Playing a scenario against a running system: steps in order, expectations on the virtual clock.

An expectation looks at the system (a SOAP status query, a KEDEN record look-up), and while it
does not hold it moves the shared virtual clock forward by its ``tick`` — business time passes
because the scenario drives it, not because the runner sleeps — until the business-time bound
``within`` has passed; then it fails, naming itself. A real-seconds ``timeout`` under it is only a
safety net for a system that does not answer. Between two looks the runner yields for a fraction
of a second so that the simulators' workers (real processes) can act on the moved clock.

Every step ends in a ``StepResult`` (passed, failed or error, with a message and the business
time it took, ``results``); the report module prints them and writes JUnit. The actions are in
``filings``, the expectations in ``expectations``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import httpx2

from connectors import AnswerNotTrusted, GatewayFault, ShepClient
from connectors.config import Settings
from kzgate.cli.catalogue import systems_view
from kzgate.cli.send import client_for
from kzgate.rehearsal import model
from kzgate.rehearsal.expectations import Expectations
from kzgate.rehearsal.filings import Filings
from kzgate.rehearsal.results import (
    ExpectationFailed,
    Filed,
    Progress,
    ScenarioResult,
    StepResult,
)
from simulators.elicensing.settings import ElicenseSettings
from simulators.elicensing.store import Kind

__all__ = ["Rehearsal", "ScenarioResult", "StepResult"]


class Rehearsal(Filings, Expectations):
    """One run of one scenario against the system ``settings`` point at."""

    def __init__(self, settings: Settings, http: httpx2.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self.view = systems_view(settings, http)
        self.filed: dict[str, Filed] = {}
        self._clients: dict[str, ShepClient] = {}
        self._calendar = ElicenseSettings().calendar(Kind.LICENCE)
        self._clock_lock = asyncio.Lock()
        self._faulted: set[str] = set()

    def client(self, sender: str) -> ShepClient:
        if sender not in self._clients:
            self._clients[sender] = client_for(self.settings, sender, None, None)
        return self._clients[sender]

    # --- the run ---------------------------------------------------------------------------------

    async def play(
        self, scenario: model.Scenario, file: str, on_step: Progress | None = None
    ) -> ScenarioResult:
        started = time.monotonic()
        results: list[StepResult] = []
        failed = False
        for number, step in enumerate(scenario.steps, start=1):
            kind = _kind(step)
            if failed:
                # A later step builds on an earlier one's effect: running it would report noise.
                result = StepResult(str(number), kind, _title(step), "error", "not run: a step "
                                    "before it failed")  # fmt: skip
            else:
                result = await self.run_step(str(number), step)
                failed = not result.ok
            results.append(result)
            if on_step is not None:
                on_step(result)
        # A scenario that stopped early must not leave its outage to the next one.
        for system in sorted(self._faulted):
            await self.view.call(system, "DELETE", "/ops/faults")
        return ScenarioResult(
            scenario.name, file, scenario.rehearses, results, time.monotonic() - started
        )

    async def run_step(self, index: str, step: Any, suffix: str = "") -> StepResult:
        kind = _kind(step)
        body = getattr(step, kind)
        result = StepResult(index, kind, _title(step), "passed", key=getattr(body, "key", False))
        started = time.monotonic()
        try:
            outcome = await getattr(self, f"_{kind}")(body, suffix)
            if isinstance(outcome, tuple):
                result.message, result.details = outcome
            else:
                result.message = outcome or ""
        except ExpectationFailed as exc:
            result.status, result.message = "failed", str(exc)
        except GatewayFault as fault:
            info = fault.info
            result.status = "error"
            result.message = f"gateway fault {info.error_code}: {info.error_message}"
        except (AnswerNotTrusted, httpx2.HTTPError, KeyError, ValueError) as exc:
            result.status, result.message = "error", f"{type(exc).__name__}: {exc}"
        result.seconds = time.monotonic() - started
        return result

    # --- clock and faults ------------------------------------------------------------------------

    async def now(self) -> dt.datetime:
        answer = await self.view.call("ELICENSE", "GET", "/ops/clock")
        if "now" not in answer:
            raise ValueError(f"ELICENSE's clock does not answer: {answer}")
        return dt.datetime.fromisoformat(answer["now"])

    async def set_clock(self, body: dict[str, Any]) -> dt.datetime:
        """Move every simulated system's clock: the first by ``body``, the rest to its moment
        (one clock file may be shared, or not: either way they end on one business time)."""
        async with self._clock_lock:
            systems = self.view.simulated_systems()
            first = await self.view.set_clock("ELICENSE", body)
            if "now" not in first:
                raise ValueError(f"the clock cannot be moved: {first.get('error', first)}")
            rest = [s for s in systems if s != "ELICENSE"]
            await asyncio.gather(*(self.view.set_clock(s, {"set": first["now"]}) for s in rest))
            return dt.datetime.fromisoformat(first["now"])

    async def advance(self, by: model.Duration) -> dt.datetime:
        now = await self.now()
        target = now + by.plain()
        if by.working_days:
            # Working days are counted from the same time of day on the KZ calendar.
            day = self._calendar.nth_working_day_after(target.date(), by.working_days)
            target = dt.datetime.combine(day, target.timetz())
        return await self.set_clock({"set": target.isoformat()})

    async def _clock(self, move: model.ClockMove, suffix: str) -> str:
        if move.set is not None:
            now = await self.set_clock({"set": move.set.isoformat()})
        elif move.advance is not None:
            now = await self.advance(move.advance)
        else:
            filed = self._filed(move.of or "", suffix)
            moment = filed.registered_at if move.to is model.Moment.REGISTERED else filed.deadline
            if moment is None:
                raise ValueError(f"{move.of} has no {move.to} moment")
            now = await self.set_clock({"set": moment.isoformat()})
        return f"business time {now:%a %d.%m.%Y %H:%M}"

    async def _faults(self, change: model.FaultChange, suffix: str) -> str:
        if change.clear:
            answer = await self.view.call(change.system, "DELETE", "/ops/faults")
        else:
            self._faulted.add(change.system)
            answer = await self.view.set_faults(change.system, change.plan or {})
        if "error" in answer:
            raise ValueError(f"{change.system} refused the fault plan: {answer['error']}")
        return f"{change.system}: {'cleared' if change.clear else change.plan}"

    # --- load and aliases ------------------------------------------------------------------------

    async def _repeat(self, repetition: model.Repetition, suffix: str) -> tuple[str, list[str]]:
        gate = asyncio.Semaphore(repetition.concurrency)
        started = time.monotonic()

        async def one(i: int) -> list[StepResult]:
            async with gate:
                results = []
                for n, step in enumerate(repetition.steps, start=1):
                    result = await self.run_step(f"{i}.{n}", step, suffix=f"{suffix}#{i}")
                    results.append(result)
                    if not result.ok:
                        break
                return results

        runs = await asyncio.gather(*(one(i) for i in range(1, repetition.count + 1)))
        elapsed = time.monotonic() - started
        failures = [r for run in runs for r in run if not r.ok]
        decided = [r for run in runs for r in run if r.kind == "expect_decision" and r.ok]
        missed = sum(1 for r in decided if " missed)" in r.message)
        summary = (
            f"{repetition.count} runs, {repetition.concurrency} at a time, in {elapsed:.1f} s: "
            f"{repetition.count / elapsed:.2f} runs/s; {len(decided)} decided, "
            f"{missed} deadline misses"
        )
        details = [f"run {r.index} {r.kind}: {r.message}" for r in failures[:10]]
        if failures:
            raise ExpectationFailed(f"{len(failures)} steps failed of {summary}; first: "
                                    f"{details[0]}")  # fmt: skip
        return summary, details

    def _filed(self, alias: str, suffix: str) -> Filed:
        for name in (alias + suffix, alias):
            if name in self.filed:
                return self.filed[name]
        raise ValueError(f"no step before this one filed or sent '{alias}'")


def _kind(step: Any) -> str:
    return next(iter(type(step).model_fields))


def _title(step: Any) -> str:
    kind = _kind(step)
    body = getattr(step, kind)
    data = body.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    for noise in ("steps", "key", "within", "tick", "timeout"):
        data.pop(noise, None)
    shown = ", ".join(f"{k}={v}" for k, v in data.items())
    return f"{kind} {shown}".strip()
