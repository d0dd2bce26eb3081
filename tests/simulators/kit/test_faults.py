"""Fault injection: one-shots, latency, error rate, down windows; config from env and CLI."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from simulators.kit.clock import KZ_TIME, VirtualClock
from simulators.kit.fault_plans import DownWindow, Failures, FaultPlan, Latency
from simulators.kit.faults import FaultInjector, build_parser, cli_request, env_var_name

# Tuesday 7 July 2026, 09:30 in Astana: GBDUL is down 10:00–12:00 "today" in the tests below.
MORNING = datetime(2026, 7, 7, 9, 30, tzinfo=KZ_TIME)


def kz(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 7, 7, hour, minute, tzinfo=KZ_TIME)


def injector(clock: VirtualClock | None = None, seed: int = 7) -> FaultInjector:
    return FaultInjector("GBDUL", clock=clock or VirtualClock(MORNING), rng=random.Random(seed))


def test_one_shot_failures_are_taken_in_order() -> None:
    failures = Failures()
    failures.fail_next(1, "http-503")
    failures.fail_next(2, "slow", seconds=2)
    failures.fail_next(1, "soap-server-fault", seconds=9)  # seconds only matter for slow
    assert [(f.kind, f.seconds) for f in failures.pending()] == [
        ("http-503", 0.0),
        ("slow", 2.0),
        ("slow", 2.0),
        ("soap-server-fault", 0.0),
    ]
    assert [failures.take().kind for _ in range(4)] == [  # type: ignore[union-attr]
        "http-503",
        "slow",
        "slow",
        "soap-server-fault",
    ]
    assert failures.take() is None
    with pytest.raises(ValueError):
        failures.fail_next(-1, "http-503")


def test_without_faults_every_request_passes_at_once() -> None:
    faults = injector()
    assert {faults.decide() for _ in range(100)} == {faults.decide()}
    assert faults.decide().outcome == "pass" and faults.decide().delay == 0


def test_down_window_answers_503_only_inside_it_on_the_simulator_clock() -> None:
    clock = VirtualClock(MORNING)
    faults = injector(clock)
    faults.configure({"down": [{"start": "10:00", "end": "12:00"}]})
    faults.failures.fail_next(1, "soap-client-fault")

    assert faults.decide().outcome == "soap-client-fault"  # 09:30: up; uses the one-shot
    faults.failures.fail_next(1, "soap-client-fault")
    clock.set(kz(10))
    assert [faults.decide().outcome for _ in range(3)] == ["http-503"] * 3
    assert len(faults.failures.pending()) == 1  # requests refused at the door use up nothing
    clock.set(kz(11, 59))
    assert faults.is_down()
    clock.advance(timedelta(minutes=1))  # 12:00: the end is outside the window
    assert faults.decide().outcome == "soap-client-fault"
    assert faults.decide().outcome == "pass"


def test_time_of_day_windows_are_today_in_kazakhstan_by_the_virtual_clock() -> None:
    # 20:00 UTC on 6 July is already 01:00 on 7 July in Astana: "today" is the 7th. The
    # virtual clock is in 2026 whatever the wall clock says.
    faults = injector(VirtualClock(datetime(2026, 7, 6, 20, 0, tzinfo=UTC)))
    faults.configure({"down": [{"start": "10:00", "end": "12:00"}]})
    [window] = faults.plan.down
    assert (window.start, window.end) == (kz(10), kz(12))


def test_iso_windows_may_use_any_offset() -> None:
    faults = injector()
    faults.configure({"down": [{"start": "2026-07-07T05:00:00Z", "end": "2026-07-07T12:00+05:00"}]})
    assert not faults.is_down(kz(9, 59))
    assert faults.is_down(kz(10))


@pytest.mark.parametrize("rate", [0.0, 0.3, 1.0])
def test_error_rate_is_the_fraction_of_failed_requests(rate: float) -> None:
    faults = injector(seed=2026)
    faults.configure({"error_rate": rate, "error_kind": "soap-server-fault"})
    outcomes = [faults.decide().outcome for _ in range(4000)]
    failed = outcomes.count("soap-server-fault") / len(outcomes)
    assert abs(failed - rate) < 0.03
    assert set(outcomes) <= {"pass", "soap-server-fault"}


def test_error_kind_defaults_to_http_503() -> None:
    faults = injector()
    faults.configure({"error_rate": 1})
    assert faults.decide().outcome == "http-503"


def test_latency_fixed_and_range() -> None:
    faults = injector()
    faults.configure({"latency": 0.25})
    assert {faults.decide().delay for _ in range(20)} == {0.25}

    faults.configure({"latency": [0.1, 0.3]})
    delays = [faults.decide().delay for _ in range(500)]
    assert all(0.1 <= d <= 0.3 for d in delays)
    assert max(delays) - min(delays) > 0.15  # really a range, not a constant


def test_one_shot_slow_adds_to_standing_latency_and_takes_precedence_over_error_rate() -> None:
    faults = injector()
    faults.configure({"latency": 0.5, "error_rate": 1, "kind": "slow", "count": 1, "seconds": 2})
    first = faults.decide()
    assert (first.outcome, first.delay) == ("pass", 2.5)
    assert faults.decide().outcome == "http-503"  # the one-shot is used up; the rate applies


async def test_admit_sleeps_the_latency() -> None:
    faults = injector()
    faults.configure({"latency": 0.2})
    started = time.monotonic()
    assert await faults.admit() == "pass"
    assert time.monotonic() - started >= 0.2


def test_a_request_changes_only_the_fields_it_names() -> None:
    faults = injector()
    faults.configure({"latency": 1, "error_rate": 0.5})
    faults.configure({"error_rate": 0})
    assert faults.plan == FaultPlan(latency=Latency(min_seconds=1, max_seconds=1))


@pytest.mark.parametrize(
    "body",
    [
        {},
        [],
        {"count": 2},
        {"kind": "explode"},
        {"kind": "slow", "seconds": -1},
        {"error_rate": 1.5},
        {"error_kind": "slow"},
        {"latency": [2, 1]},
        {"latency": -1},
        {"latency": [1, 2, 3]},
        {"latency": 1, "down": [{"start": "12:00", "end": "10:00"}]},
        {"down": [{"start": "2026-07-07T10:00:00", "end": "2026-07-07T12:00:00"}]},  # naive
        {"down": [{"start": "10:00"}]},
        {"error_rate": 0.5, "surprise": True},
    ],
)
def test_bad_requests_change_nothing(body: object) -> None:
    faults = injector()
    with pytest.raises(ValueError):
        faults.configure(body)
    assert faults.plan == FaultPlan()
    assert faults.failures.pending() == []


def test_clear_removes_everything() -> None:
    faults = injector()
    faults.configure(
        {"latency": 1, "kind": "http-503", "count": 3, "down": [{"start": "09:00", "end": "10:00"}]}
    )
    faults.clear()
    assert (faults.plan, faults.failures.pending()) == (FaultPlan(), [])


def test_describe_is_the_documented_json() -> None:
    faults = injector()
    faults.configure(
        {
            "kind": "slow",
            "count": 1,
            "seconds": 3,
            "latency": [0.1, 0.2],
            "down": [{"start": "09:00", "end": "10:00"}],
        }
    )
    assert json.loads(json.dumps(faults.describe())) == {
        "pending": [{"kind": "slow", "seconds": 3.0}],
        "latency": [0.1, 0.2],
        "error_rate": 0.0,
        "error_kind": "http-503",
        "down": [{"start": "2026-07-07T09:00:00+05:00", "end": "2026-07-07T10:00:00+05:00"}],
        "down_now": True,
    }


def test_configuration_from_the_environment() -> None:
    assert env_var_name("GBDUL") == "KZGATE_FAULTS_GBDUL"
    assert env_var_name("egov-portal") == "KZGATE_FAULTS_EGOV_PORTAL"
    environ = {
        "KZGATE_FAULTS_GBDUL": json.dumps(
            {"latency": [0, 0.5], "error_rate": 0.1, "down": [{"start": "10:00", "end": "12:00"}]}
        ),
        "KZGATE_FAULTS_KGD": "{not json",
    }
    clock = VirtualClock(MORNING)
    faults = FaultInjector.from_env("GBDUL", clock=clock, environ=environ)
    assert faults.plan.error_rate == 0.1
    assert faults.plan.down == (DownWindow(start=kz(10), end=kz(12)),)
    assert FaultInjector.from_env("MONITORING", clock=clock, environ=environ).plan == FaultPlan()
    with pytest.raises(ValueError, match="KZGATE_FAULTS_KGD"):
        FaultInjector.from_env("KGD", clock=clock, environ=environ)


@pytest.mark.parametrize(
    ("argv", "body"),
    [
        (["--latency", "0.5"], {"latency": [0.5, 0.5]}),
        (
            ["--latency", "0.2-1.5", "--error-rate", "0.1"],
            {"latency": [0.2, 1.5], "error_rate": 0.1},
        ),
        (["--error-kind", "soap-server-fault"], {"error_kind": "soap-server-fault"}),
        (
            ["--down", "10:00-12:00", "--down", "15:00-15:30"],
            {"down": [{"start": "10:00", "end": "12:00"}, {"start": "15:00", "end": "15:30"}]},
        ),
        (["--down", ""], {"down": []}),
        (["--fail", "http-503", "--count", "2"], {"kind": "http-503", "count": 2}),
        (["--fail", "slow", "--seconds", "4"], {"kind": "slow", "count": 1, "seconds": 4.0}),
        ([], {}),
    ],
)
def test_cli_options_become_a_fault_request(argv: list[str], body: dict) -> None:
    request = cli_request(build_parser().parse_args(["http://127.0.0.1:8101", *argv]))
    assert request == body
    if body:
        injector().configure(request)  # and the simulator accepts it
