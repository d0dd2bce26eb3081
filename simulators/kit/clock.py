"""Business time for the simulators and the gateway's in-process parts: real or virtual.

This module owns *what time it is* for deadlines, working hours and fault down-windows. A
``VirtualClock`` lets testers start on a chosen instant, jump (``set``/``advance``) or run faster
than real time (``speed``) so a week of deadlines passes in seconds.

Transport timestamps (responseDate, signature and certificate checks, freshness windows) are NOT
driven by this clock: they stay on real time so that signatures made by the real PKI and the
gateway's freshness checks keep working while business time is somewhere else.

Sharing: every part of one process that calls ``process_clock()`` gets the same clock. Separate
processes (``kzgate up`` runs each simulator on its own) share a virtual clock through a small
state file (``KZGATE_CLOCK='{"start": ..., "file": "var/clock.json"}'``): a change made through
any process's ``POST /ops/clock`` is written there and every other process re-reads it.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulators.kit.ops import ops_refusal

# Kazakhstan has had a single time zone, UTC+5, since 2024-03-01 (the east moved from UTC+6).
KZ_TIME = timezone(timedelta(hours=5), "KZT")

CLOCK_ENV = "KZGATE_CLOCK"
# A sleeper on a file-shared clock re-reads the file at least this often (real seconds): another
# process may have moved the time and cannot wake us directly.
_SHARED_POLL_SECONDS = 0.25


@runtime_checkable
class Clock(Protocol):
    """A source of business time: aware datetimes, and sleeping until a moment of that time."""

    def now(self) -> datetime: ...

    async def sleep_until(self, moment: datetime) -> None: ...


def require_aware(moment: datetime, what: str = "moment") -> datetime:
    """``moment`` itself; a naive datetime is refused (which zone it meant is a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment.isoformat()}")
    return moment


class RealClock:
    """Wall-clock time, in Kazakhstan time."""

    def now(self) -> datetime:
        return datetime.now(KZ_TIME)

    async def sleep_until(self, moment: datetime) -> None:
        delay = (require_aware(moment) - self.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass(frozen=True)
class _State:
    """Virtual time ``base`` was current at wall time ``anchor``; it runs ``speed``× real time."""

    base: datetime
    anchor: float
    speed: float

    def at(self, wall: float) -> datetime:
        return self.base + timedelta(seconds=(wall - self.anchor) * self.speed)

    def to_json(self) -> dict[str, Any]:
        return {"base": self.base.isoformat(), "anchor": self.anchor, "speed": self.speed}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _State:
        base = require_aware(datetime.fromisoformat(data["base"]), "base")
        return cls(base, float(data["anchor"]), float(data["speed"]))


class VirtualClock:
    """Business time that starts at ``start`` and moves only when told, or ``speed``× real time.

    ``speed`` 0 freezes the clock between ``advance``/``set`` calls (deterministic tests); 3600
    makes one real second an hour. Thread-safe; sleepers in any event loop wake on every change.
    ``state_file`` shares the clock with other processes (see the module docstring).
    """

    def __init__(
        self,
        start: datetime,
        *,
        speed: float = 0.0,
        state_file: Path | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        _check_speed(speed)
        # Wall time, not monotonic: processes sharing the state file must agree on the anchor.
        self._wall = wall
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()
        self._file = state_file
        self._file_stamp: int | None = None
        self._state = _State(require_aware(start, "start"), wall(), speed)
        if state_file is not None and state_file.exists():
            self._reload()  # join the shared clock as it is now, not as this process would start it
        else:
            self._publish()

    @property
    def speed(self) -> float:
        with self._lock:
            self._reload()
            return self._state.speed

    def now(self) -> datetime:
        with self._lock:
            self._reload()
            return self._state.at(self._wall())

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (backwards too: a tester may replay a day)."""
        require_aware(moment)
        self._change(lambda state, wall: _State(moment, wall, state.speed))

    def advance(self, delta: timedelta) -> None:
        """Move forward by ``delta``; sleepers whose moment has come wake up."""
        if delta < timedelta(0):
            raise ValueError("advance() only moves forward; use set() to go back")
        self._change(lambda state, wall: _State(state.at(wall) + delta, wall, state.speed))

    def set_speed(self, speed: float) -> None:
        """From now on run ``speed``× real time (0 = frozen)."""
        _check_speed(speed)
        self._change(lambda state, wall: _State(state.at(wall), wall, speed))

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self.now() + timedelta(seconds=seconds))

    async def sleep_until(self, moment: datetime) -> None:
        """Return once virtual time reaches ``moment``, by ``advance``/``set`` or by ``speed``."""
        require_aware(moment)
        while (remaining := (moment - self.now()).total_seconds()) > 0:
            speed = self.speed
            timeout = remaining / speed if speed > 0 else None
            if self._file is not None:
                timeout = min(timeout or _SHARED_POLL_SECONDS, _SHARED_POLL_SECONDS)
            await self._wait_for_change(timeout)

    async def _wait_for_change(self, timeout: float | None) -> None:
        loop = asyncio.get_running_loop()
        waiter = (loop, loop.create_future())
        with self._lock:
            self._waiters.add(waiter)
        try:
            await asyncio.wait({waiter[1]}, timeout=timeout)
        finally:
            with self._lock:
                self._waiters.discard(waiter)

    def _change(self, new_state: Callable[[_State, float], _State]) -> None:
        with self._lock:
            self._reload()
            self._state = new_state(self._state, self._wall())
            self._publish()
            waiters = list(self._waiters)
        for loop, future in waiters:
            # The sleeper may live in another thread's loop: only that loop may touch its future.
            loop.call_soon_threadsafe(_wake, future)

    def _publish(self) -> None:
        if self._file is None:
            return
        self._file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._file.with_name(f"{self._file.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(self._state.to_json()), encoding="utf-8")
        os.replace(temporary, self._file)  # atomic: a reader sees the old state or the new one
        self._file_stamp = self._file.stat().st_mtime_ns

    def _reload(self) -> None:
        if self._file is None:
            return
        try:
            stamp = self._file.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if stamp != self._file_stamp:
            self._state = _State.from_json(json.loads(self._file.read_text(encoding="utf-8")))
            self._file_stamp = stamp


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _check_speed(speed: float) -> None:
    if not speed >= 0:  # also refuses NaN
        raise ValueError(f"speed must be 0 or more, got {speed}")


# --- one clock per process -----------------------------------------------------------------------

_process_clock: Clock | None = None


def clock_from_env(environ: dict[str, str] | None = None) -> Clock:
    """The clock ``KZGATE_CLOCK`` describes: unset or ``real`` → RealClock; or JSON
    ``{"start": "2026-07-03T19:00:00+05:00", "speed": 60, "file": "var/clock.json"}``
    (``start`` defaults to now; ``speed`` to 0, a frozen clock; ``file`` shares it across
    processes).
    """
    raw = (os.environ if environ is None else environ).get(CLOCK_ENV, "").strip()
    if raw in ("", "real"):
        return RealClock()
    try:
        spec = json.loads(raw)
        start = datetime.fromisoformat(spec["start"]) if "start" in spec else datetime.now(UTC)
        file = Path(spec["file"]) if spec.get("file") else None
        return VirtualClock(start, speed=float(spec.get("speed", 0)), state_file=file)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"{CLOCK_ENV} must be 'real' or a JSON clock spec: {exc}") from exc


def process_clock() -> Clock:
    """The clock every part of this process shares (built from ``KZGATE_CLOCK`` on first use)."""
    global _process_clock
    if _process_clock is None:
        _process_clock = clock_from_env()
    return _process_clock


def use_clock(clock: Clock | None) -> None:
    """Make ``clock`` this process's clock (None: rebuild from the environment on next use)."""
    global _process_clock
    _process_clock = clock


# --- HTTP control --------------------------------------------------------------------------------


class ClockControl:
    """``GET/POST /ops/clock`` over a clock, for any Starlette app to mount.

    GET → ``{"now": iso, "virtual": bool, "speed": float | null}``.
    POST (virtual clocks only) takes one of ``{"set": iso}`` or ``{"advance_seconds": n}``,
    optionally with ``"speed": s``, and answers like GET. A real clock answers 409; a bad body 400.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock

    @property
    def clock(self) -> Clock:
        return self._clock if self._clock is not None else process_clock()

    def routes(self, path: str = "/ops/clock") -> list[Route]:
        return [Route(path, self._endpoint, methods=["GET", "POST"])]

    def describe(self) -> dict[str, Any]:
        clock = self.clock
        virtual = isinstance(clock, VirtualClock)
        return {
            "now": clock.now().isoformat(),
            "virtual": virtual,
            "speed": clock.speed if virtual else None,
        }

    async def _endpoint(self, request: Request) -> Response:
        refused = ops_refusal(request)
        if refused is not None:
            return refused
        if request.method == "POST":
            clock = self.clock
            if not isinstance(clock, VirtualClock):
                return JSONResponse({"error": "this process runs on real time"}, status_code=409)
            try:
                apply_clock_command(clock, await request.json())
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                return JSONResponse({"error": f"bad clock request: {exc}"}, status_code=400)
        return JSONResponse(self.describe())


def apply_clock_command(clock: VirtualClock, body: Any) -> None:
    """Apply one ``POST /ops/clock`` body, all or nothing (validated before anything moves)."""
    if not isinstance(body, dict) or not body or set(body) - {"set", "advance_seconds", "speed"}:
        raise ValueError("expected an object with 'set' or 'advance_seconds' and/or 'speed'")
    if "set" in body and "advance_seconds" in body:
        raise ValueError("'set' and 'advance_seconds' exclude each other")
    moment = require_aware(datetime.fromisoformat(body["set"]), "set") if "set" in body else None
    delta = timedelta(seconds=float(body.get("advance_seconds", 0)))
    if delta < timedelta(0):
        raise ValueError("advance_seconds must not be negative")
    speed = float(body["speed"]) if "speed" in body else None
    if speed is not None:
        _check_speed(speed)
        clock.set_speed(speed)
    if moment is not None:
        clock.set(moment)
    elif delta:
        clock.advance(delta)
