"""Fuzzing under ./test: every regression input the fuzzer ever found is refused properly by every
target, and each target survives a short coverage-guided run from the committed seed corpus.

Long runs: ``bench/fuzz.py --minutes N``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from connectors import GatewayError, errors
from tests.fuzz import targets

HERE = Path(__file__).parent
REGRESSIONS = sorted((HERE / "regressions").glob("*"))
SECONDS = int(os.environ.get("KZGATE_FUZZ_SECONDS", "6"))


@pytest.fixture(scope="module", autouse=True)
def prepared() -> None:
    targets.prepare()


@pytest.mark.parametrize("name", sorted(targets.TARGETS))
@pytest.mark.parametrize("case", REGRESSIONS, ids=[p.name for p in REGRESSIONS])
def test_regressions_are_refused_with_a_fault_code(name: str, case: Path) -> None:
    targets.run_one(targets.TARGETS[name], case.read_bytes())


@pytest.mark.parametrize("name", sorted(targets.TARGETS))
def test_a_short_fuzzing_run_finds_nothing(name: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz.run",
            name,
            f"-max_total_time={SECONDS}",
            "-rss_limit_mb=2048",
            f"-artifact_prefix={tmp_path}/",
            str(tmp_path / "corpus"),
            str(HERE / "corpus"),
        ],
        cwd=HERE.parent.parent,
        capture_output=True,
        text=True,
        timeout=SECONDS + 120,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Done " in result.stderr
    assert_the_fuzzer_sees_coverage(result.stderr)


def assert_the_fuzzer_sees_coverage(stderr: str) -> None:
    """A run over uninstrumented code still ends in "Done": only libFuzzer's own words tell that
    it was blind (the parser and verifier targets were, after the kit moved to connectors/)."""
    assert "no interesting inputs" not in stderr, stderr[-4000:]
    assert re.search(r"\bcov: [1-9]\d*", stderr), f"no coverage reported:\n{stderr[-4000:]}"


@pytest.mark.parametrize("case", [p for p in REGRESSIONS if p.name.startswith("verifier-")])
def test_certificates_cryptography_cannot_read_are_a_missing_certificate(case: Path) -> None:
    """Found by fuzzing: a KeyIdentifier certificate with a malformed subject, an unknown key
    algorithm, a duplicated extension, a BitString name attribute under another OID or an unknown
    X.509 version escaped as ValueError, UnsupportedAlgorithm, DuplicateExtension, TypeError or
    InvalidVersion and became Server.Internal."""
    with pytest.raises(GatewayError) as caught:
        targets.verifier(case.read_bytes())
    assert caught.value.fault is errors.SIG_KEYINFO
