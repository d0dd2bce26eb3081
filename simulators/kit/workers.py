"""The background worker loop of a simulated state system: passes over its durable work, rests.

ELICENSE's deciding workers, its export pilot's deliveries and KEDEN's clearance all have the
same shape: a pass does whatever work is due (and claimable) in the system's store, then the
worker rests until new work is announced (``wake``), a business moment comes (virtual clock), or
a poll interval passes (another process may have written work to the shared database). A pass
that raises is logged and retried on the next one: the worker must outlive a bad moment of the
database or a provider. Durability and exclusivity are the store's business (claims, state
guards); this module only runs the passes, on ``workers`` concurrent tasks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from simulators.kit.clock import Clock

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 1.0  # another instance may have registered work on the shared database


@dataclass(frozen=True)
class Rest:
    """How long a worker rests after a pass that found nothing more to do: until the business
    moment ``until`` (None: no such moment), ``seconds`` real seconds at the most, or a wake."""

    until: datetime | None = None
    seconds: float = IDLE_POLL_SECONDS


# A pass of worker ``name``: None when it did some work and should look again at once.
Pass = Callable[[str], Awaitable[Rest | None]]


# How long stop() waits for cancelled workers to finish their bookkeeping.
STOP_WITHIN_SECONDS = 30.0


class WorkerPool:
    """``workers`` tasks, each running ``work(name)`` passes until stopped."""

    def __init__(self, name: str, work: Pass, clock: Clock, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"{name}: at least one worker, not {workers}")
        self.name = name
        self.workers = workers
        self._work = work
        self._clock = clock
        self._tasks: list[asyncio.Task[None]] = []
        # One event per worker: a shared one cleared by one worker's pass would swallow the
        # wake another worker was about to see.
        self._wakes: list[asyncio.Event] = []

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    def wake(self) -> None:
        """New work or a changed world: every resting worker looks now."""
        for event in self._wakes:
            event.set()

    def start(self) -> None:
        if self.running:
            return
        self._wakes = [asyncio.Event() for _ in range(self.workers)]
        self._tasks = [
            asyncio.create_task(self._run(f"{self.name}-{i}", self._wakes[i]), name=self.name)
            for i in range(self.workers)
        ]

    async def stop(self, *, within: float = STOP_WITHIN_SECONDS) -> None:
        """Stop every worker; what one had in hand is resumed by the next start (durable).

        A cancelled worker still lets its claim go (a database write) and may be inside a call
        that finishes its own bookkeeping first; a shutdown waits for that ``within`` seconds at
        most, so that one stuck call cannot hang the process's exit (its claim then expires)."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            done, stuck = await asyncio.wait(self._tasks, timeout=within)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]  # as `await task` would
            for task in stuck:
                log.warning("%s did not stop within %g s; its claim will expire", task, within)
        self._tasks = []

    async def _run(self, worker: str, wake: asyncio.Event) -> None:
        while True:
            wake.clear()
            try:
                rest = await self._work(worker)
            except Exception:  # the worker must outlive a bad database moment: next pass
                log.exception("%s pass failed", worker)
                rest = Rest()
            if rest is not None:
                await self._rest(rest, wake)

    async def _rest(self, rest: Rest, wake: asyncio.Event) -> None:
        waits = [asyncio.ensure_future(wake.wait())]
        if rest.until is not None:
            waits.append(asyncio.ensure_future(self._clock.sleep_until(rest.until)))
        try:
            await asyncio.wait(waits, timeout=max(rest.seconds, 0.0), return_when="FIRST_COMPLETED")
        finally:
            for waiter in waits:
                waiter.cancel()


__all__ = ["IDLE_POLL_SECONDS", "Pass", "Rest", "WorkerPool"]
