"""Waiting in tests for something a background task does: bounded in real time, never a sleep.

The bound only costs time when a test fails, so it is generous: on a loaded two-core CI machine
(four xdist workers, each starting gateways and simulators) an in-process flow that takes one
second alone can take ten.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

DEFAULT_BOUND_SECONDS = 30.0


async def eventually(
    check: Callable[[], Awaitable[bool]],
    *,
    seconds: float = DEFAULT_BOUND_SECONDS,
    interval: float = 0.05,
) -> None:
    """Return once ``check()`` holds; fail the test if it still does not after ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached in {seconds:g} s")
        await asyncio.sleep(interval)
