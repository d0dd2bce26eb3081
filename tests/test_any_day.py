"""The suite passes on any day it runs: the date-pinned tests, run again years from today.

Tests pin business moments on the virtual clock (a Friday before Capital Day 2026, a New Year's
Eve filing) and verify signatures at them; a PKI or a fixture derived from the real date breaks
them on some later day (main went red that way once). Here those tests run again in a child
pytest under libfaketime, 1000 days ahead — past the two-year life of a certificate issued
"from yesterday", so that class of bug fails today rather than on the day it bites. The whole
suite a year ahead is ``faketime -f '+365d' ./test`` (README, "Tests").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from gateway.paths import PROJECT_ROOT

SHIFT_DAYS = 1000
# Where the suite pins business times and checks certificates or documents at them.
DATE_PINNED = (
    "tests/simulators/elicensing",
    "tests/licensing/test_time_and_failures.py",
    "tests/licensing/test_alarms_and_support_desk.py",  # New Year's Eve 2026 → January 2027
    "tests/licensing/test_fee_quota_refiling.py",  # a fee paid on 31.12.2025
    "tests/licensing/test_calendar_settings.py",  # decreed days in November 2026
    "tests/security/test_pki.py",
    "tests/security/test_trust.py",
    "tests/cli/test_commands.py",
    "tests/export_pilot/test_desk_flow.py",  # a permit valid to 31.12.2026, held in KEDEN
    "tests/export_pilot/test_at_customs.py",  # declarations checked against that permit
    "tests/export_pilot/test_review_and_documents.py",  # the head's certificate at 2026-11-23
    "tests/customs/test_declarations.py",  # declarants' and officials' signatures, 2026-11/12
)


def _faketime() -> str:
    found = shutil.which("faketime")
    if found is None:
        message = "faketime is not installed (apt-get install faketime; ./test installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " — under CI=true this is a failure, not a skip")
        pytest.skip(message)
    return found


def _ahead(faketime: str, *command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [faketime, "-f", f"+{SHIFT_DAYS}d", *command],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_child_really_runs_in_the_future() -> None:
    """Without this, a faketime that silently did nothing would make the next test vacuous.
    Compared with a child on the real clock, not with this process: the whole suite may itself run
    under faketime (``faketime -f '+365d' ./test``), and the child's shift is from the real date."""
    now = "import time; print(time.time())"
    seen = _ahead(_faketime(), sys.executable, "-c", now, timeout=30)
    assert seen.returncode == 0, seen.stderr
    real_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LD_PRELOAD", "FAKETIME", "DYLD_INSERT_LIBRARIES")
    }
    real = subprocess.run(
        [sys.executable, "-c", now], env=real_env, capture_output=True, text=True, check=True
    )
    assert float(seen.stdout) - float(real.stdout) > (SHIFT_DAYS - 1) * 86400


@pytest.mark.serial  # a child pytest of ~150 tests: alone, not beside the parallel workers
@pytest.mark.timeout(600)
def test_date_pinned_tests_pass_1000_days_from_today() -> None:
    result = _ahead(
        _faketime(),
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-n",
        "2",  # two workers keep the serial phase short
        *DATE_PINNED,
        timeout=590,
    )
    tail = "\n".join(result.stdout.splitlines()[-40:])
    assert result.returncode == 0, f"date-pinned tests fail {SHIFT_DAYS} days ahead:\n{tail}"
    assert " passed" in tail and " failed" not in tail
