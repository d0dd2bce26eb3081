"""Fault plans: what a tester asks a simulated system's SOAP endpoint to suffer.

This module owns the plans as data, checked on the way in — the **one-shot failures**
(``Failures``: HTTP 503, a ``Client.*`` or ``Server.*`` SOAP fault, or a slow answer for the
next N requests) and the **standing faults** (``FaultPlan``: latency, an error rate, down
windows of the simulator's clock) — and ``FaultRequest``, the one JSON schema that configures
both from the environment, ``/ops/faults`` and the CLI. Applying them to requests, and the HTTP
endpoint, is ``simulators.kit.faults``.
"""

from __future__ import annotations

import random
import re
from collections import deque
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Literal, get_args

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from simulators.kit.clock import KZ_TIME

FailureKind = Literal["http-503", "soap-client-fault", "soap-server-fault", "slow"]
FAILURE_KINDS: tuple[str, ...] = get_args(FailureKind)
ErrorKind = Literal["http-503", "soap-server-fault"]
Outcome = Literal["pass", "http-503", "soap-client-fault", "soap-server-fault"]
DEFAULT_SLOW_SECONDS = 5.0


# --- one-shot failures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """One injected failure: what happens to one incoming SOAP request."""

    kind: FailureKind
    seconds: float = 0.0


class Failures:
    """The failures the next SOAP requests meet, in order (fault injection for tests)."""

    def __init__(self) -> None:
        self._pending: deque[Failure] = deque()

    def fail_next(
        self, n: int, kind: FailureKind, *, seconds: float = DEFAULT_SLOW_SECONDS
    ) -> None:
        """Queue ``n`` failures of ``kind`` after those already queued; ``seconds`` is for slow."""
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {kind!r}; known: {', '.join(FAILURE_KINDS)}")
        if n < 0 or seconds < 0:
            raise ValueError("count and seconds must not be negative")
        self._pending.extend([Failure(kind, seconds if kind == "slow" else 0.0)] * n)

    def take(self) -> Failure | None:
        """The failure for the request now arriving, or None to behave normally."""
        return self._pending.popleft() if self._pending else None

    def clear(self) -> None:
        self._pending.clear()

    def pending(self) -> list[Failure]:
        return list(self._pending)


# --- standing faults -----------------------------------------------------------------------------

_HH_MM = re.compile(r"^\d{1,2}:\d{2}$")


class Latency(BaseModel):
    """A delay drawn uniformly from [min_seconds, max_seconds]; JSON: a number or [lo, hi]."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_seconds: float = Field(0.0, ge=0)
    max_seconds: float = Field(0.0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _from_short_forms(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return {"min_seconds": value, "max_seconds": value}
        if isinstance(value, list | tuple) and len(value) == 2:
            return {"min_seconds": value[0], "max_seconds": value[1]}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Latency:
        if self.max_seconds < self.min_seconds:
            raise ValueError("latency range must be [low, high] with low <= high")
        return self

    def draw(self, rng: random.Random) -> float:
        return rng.uniform(self.min_seconds, self.max_seconds)

    def to_json(self) -> float | list[float]:
        if self.min_seconds == self.max_seconds:
            return self.min_seconds
        return [self.min_seconds, self.max_seconds]


class DownWindow(BaseModel):
    """[start, end) of the simulator's clock during which the system answers only HTTP 503."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: AwareDatetime
    end: AwareDatetime

    @field_validator("start", "end", mode="before")
    @classmethod
    def _time_of_day_is_today(cls, value: Any, info: ValidationInfo) -> Any:
        # "10:00" reads as today in Kazakhstan time — today by the simulator's clock, which the
        # caller passes as context (a virtual clock's today, not the wall clock's).
        if isinstance(value, str) and _HH_MM.match(value):
            now: datetime = (info.context or {}).get("now") or datetime.now(KZ_TIME)
            today = now.astimezone(KZ_TIME).date()
            return datetime.combine(today, time.fromisoformat(value.zfill(5)), tzinfo=KZ_TIME)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> DownWindow:
        if self.end <= self.start:
            raise ValueError("a down window must end after it starts")
        return self

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


class FaultPlan(BaseModel):
    """The standing faults of one system."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    latency: Latency = Latency()
    error_rate: float = Field(0.0, ge=0, le=1)
    error_kind: ErrorKind = "http-503"
    down: tuple[DownWindow, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "latency": self.latency.to_json(),
            "error_rate": self.error_rate,
            "error_kind": self.error_kind,
            "down": [{"start": w.start.isoformat(), "end": w.end.isoformat()} for w in self.down],
        }


class FaultRequest(BaseModel):
    """One configuration request (POST body, env var): queue one-shots and/or set standing faults.

    Standing fields left out keep their current value.
    """

    model_config = ConfigDict(extra="forbid")

    kind: FailureKind | None = None
    count: int = Field(1, ge=0)
    seconds: float = Field(DEFAULT_SLOW_SECONDS, ge=0)
    latency: Latency | None = None
    error_rate: float | None = Field(None, ge=0, le=1)
    error_kind: ErrorKind | None = None
    down: tuple[DownWindow, ...] | None = None

    @model_validator(mode="after")
    def _one_shot_needs_kind(self) -> FaultRequest:
        if self.kind is None and {"count", "seconds"} & self.model_fields_set:
            raise ValueError("'count' and 'seconds' need a 'kind'")
        if not self.model_fields_set:
            raise ValueError("empty fault request")
        return self

    def standing(self) -> dict[str, Any]:
        fields = ("latency", "error_rate", "error_kind", "down")
        return {name: getattr(self, name) for name in fields if name in self.model_fields_set}
