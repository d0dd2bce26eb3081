"""Business time: real and virtual clocks (frozen, jumped, sped up, shared) and their HTTP."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from starlette.applications import Starlette

from simulators.kit.clock import (
    KZ_TIME,
    Clock,
    ClockControl,
    RealClock,
    VirtualClock,
    clock_from_env,
    process_clock,
    use_clock,
)

START = datetime(2026, 7, 3, 19, 0, tzinfo=KZ_TIME)  # a Friday evening, after working hours


class FakeWall:
    """A wall clock (seconds since the epoch) that moves only when the test says."""

    def __init__(self) -> None:
        self.value = 1_000_000.0

    def __call__(self) -> float:
        return self.value


def test_kz_time_is_utc_plus_five() -> None:
    assert KZ_TIME.utcoffset(None) == timedelta(hours=5)
    assert datetime(2026, 1, 1, 5, 0, tzinfo=KZ_TIME) == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)


def test_real_clock_is_aware_kazakhstan_time_now() -> None:
    now = RealClock().now()
    assert now.utcoffset() == timedelta(hours=5)
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)
    assert isinstance(RealClock(), Clock) and isinstance(VirtualClock(START), Clock)


def test_frozen_virtual_clock_moves_only_when_told() -> None:
    wall = FakeWall()
    clock = VirtualClock(START, wall=wall)
    wall.value += 3600
    assert clock.now() == START

    clock.advance(timedelta(days=3, hours=14))
    assert clock.now() == datetime(2026, 7, 7, 9, 0, tzinfo=KZ_TIME)
    clock.set(START - timedelta(days=1))  # back in time is allowed through set()
    assert clock.now() == START - timedelta(days=1)


def test_speed_runs_virtual_time_faster_than_real_time() -> None:
    wall = FakeWall()
    clock = VirtualClock(START, speed=3600, wall=wall)  # one real second = one hour
    wall.value += 2.5
    assert clock.now() == START + timedelta(hours=2.5)

    clock.set_speed(0)
    wall.value += 100
    assert clock.now() == START + timedelta(hours=2.5)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.advance(timedelta(seconds=-1)),
        lambda c: c.set(datetime(2026, 7, 3, 19, 0)),
        lambda c: c.set_speed(-1),
        lambda c: c.set_speed(float("nan")),
    ],
    ids=["advance-backwards", "naive-set", "negative-speed", "nan-speed"],
)
def test_bad_changes_are_refused_and_change_nothing(call) -> None:
    clock = VirtualClock(START)
    with pytest.raises(ValueError):
        call(clock)
    assert (clock.now(), clock.speed) == (START, 0)


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        VirtualClock(datetime(2026, 7, 3, 19, 0))


async def test_sleeper_wakes_when_the_clock_is_advanced_to_its_moment() -> None:
    clock = VirtualClock(START)
    sleeper = asyncio.create_task(clock.sleep_until(START + timedelta(hours=2)))
    await asyncio.sleep(0.05)
    clock.advance(timedelta(hours=1))
    await asyncio.sleep(0.05)
    assert not sleeper.done()  # an hour short

    clock.advance(timedelta(hours=1))
    await asyncio.wait_for(sleeper, timeout=1)


async def test_sleeper_wakes_by_speed_alone() -> None:
    clock = VirtualClock(START, speed=36_000)  # ten virtual hours per real second
    started = time.monotonic()
    await asyncio.wait_for(clock.sleep_until(START + timedelta(hours=2)), timeout=2)
    elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < 1.0  # 2 h / 36 000 = 0.2 s
    assert clock.now() >= START + timedelta(hours=2)


async def test_a_past_moment_does_not_sleep() -> None:
    clock = VirtualClock(START)
    await asyncio.wait_for(clock.sleep_until(START - timedelta(days=1)), timeout=0.1)
    await asyncio.wait_for(clock.sleep(0), timeout=0.1)


async def test_a_change_from_another_thread_wakes_the_sleeper() -> None:
    clock = VirtualClock(START)
    sleeper = asyncio.create_task(clock.sleep(600))
    await asyncio.sleep(0.05)
    thread = threading.Thread(target=clock.advance, args=(timedelta(minutes=10),))
    thread.start()
    thread.join()
    await asyncio.wait_for(sleeper, timeout=1)


def test_clocks_on_one_state_file_share_time(tmp_path: Path) -> None:
    state = tmp_path / "clock.json"
    first = VirtualClock(START, state_file=state)
    # A second process starting later with another start joins the shared clock as it is.
    second = VirtualClock(START + timedelta(days=30), state_file=state)
    assert second.now() == START

    second.advance(timedelta(hours=14))
    assert first.now() == START + timedelta(hours=14)
    first.set_speed(60)
    assert second.speed == 60
    assert json.loads(state.read_text())["speed"] == 60


async def test_sleeper_on_a_shared_clock_wakes_when_another_process_advances_it(
    tmp_path: Path,
) -> None:
    state = tmp_path / "clock.json"
    here, elsewhere = VirtualClock(START, state_file=state), VirtualClock(START, state_file=state)
    sleeper = asyncio.create_task(here.sleep_until(START + timedelta(days=1)))
    await asyncio.sleep(0.05)
    elsewhere.advance(timedelta(days=1))  # no in-process wake-up: only the file tells
    await asyncio.wait_for(sleeper, timeout=2)


def test_clock_from_env() -> None:
    assert isinstance(clock_from_env({}), RealClock)
    assert isinstance(clock_from_env({"KZGATE_CLOCK": "real"}), RealClock)
    spec = {"KZGATE_CLOCK": json.dumps({"start": START.isoformat(), "speed": 0})}
    clock = clock_from_env(spec)
    assert isinstance(clock, VirtualClock)
    assert clock.now() == START
    for bad in ("virtual", '{"start": "2026-07-03T19:00:00"}', '{"speed": -2}', "[]"):
        with pytest.raises(ValueError, match="KZGATE_CLOCK"):
            clock_from_env({"KZGATE_CLOCK": bad})


def test_process_clock_is_one_shared_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KZGATE_CLOCK", json.dumps({"start": START.isoformat()}))
    use_clock(None)
    try:
        assert process_clock() is process_clock()
        assert process_clock().now() == START
        mine = VirtualClock(START + timedelta(days=1))
        use_clock(mine)
        assert process_clock() is mine
    finally:
        use_clock(None)


# --- /ops/clock ----------------------------------------------------------------------------------


def _client(control: ClockControl) -> httpx2.AsyncClient:
    app = Starlette(routes=control.routes())
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://sim.test")


async def test_clock_is_read_and_moved_over_http() -> None:
    clock = VirtualClock(START)
    async with _client(ClockControl(clock)) as http:
        got = (await http.get("/ops/clock")).json()
        assert got == {"now": START.isoformat(), "virtual": True, "speed": 0.0}

        got = (await http.post("/ops/clock", json={"advance_seconds": 3600})).json()
        assert datetime.fromisoformat(got["now"]) == START + timedelta(hours=1)

        monday = "2026-07-06T08:00:00+05:00"
        got = (await http.post("/ops/clock", json={"set": monday, "speed": 60})).json()
        assert (got["now"][:16], got["speed"]) == (monday[:16], 60.0)
    assert clock.now() >= datetime.fromisoformat(monday)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"set": "2026-07-06T08:00:00"},
        {"set": "tomorrow"},
        {"advance_seconds": -5},
        {"set": "2026-07-06T08:00:00+05:00", "advance_seconds": 5},
        {"speed": -1},
        {"rewind": 5},
        [3600],
    ],
)
async def test_bad_clock_requests_are_refused_and_move_nothing(body: object) -> None:
    clock = VirtualClock(START)
    async with _client(ClockControl(clock)) as http:
        response = await http.post("/ops/clock", json=body)
    assert response.status_code == 400
    assert (clock.now(), clock.speed) == (START, 0)


async def test_real_clock_cannot_be_moved_over_http() -> None:
    async with _client(ClockControl(RealClock())) as http:
        assert (await http.get("/ops/clock")).json()["virtual"] is False
        response = await http.post("/ops/clock", json={"advance_seconds": 60})
    assert response.status_code == 409
