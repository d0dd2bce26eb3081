"""Long fuzzing runs of the gateway's front door: ``bench/fuzz.py --minutes N``.

Runs each target of ``tests/fuzz/targets.py`` (hardened parser, envelope splitter,
transport-signature verifier, SyncChannel and AsyncChannel readers) under atheris for its share of
N minutes, one after another (``--targets`` picks some). Each keeps a growing working corpus in
``var/fuzz/<target>/`` seeded from the committed ``tests/fuzz/corpus/``, so later runs start where
earlier ones stopped; a finding is written to ``var/fuzz/findings/`` — add it to
``tests/fuzz/regressions/`` with its fix. Prints executions, time, coverage (libFuzzer's ``cov``
edges and ``ft`` features of our instrumented Python) and findings per target.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fuzz.targets import TARGETS  # noqa: E402

_DONE = re.compile(r"Done (\d+) runs in (\d+) second")
_COVERAGE = re.compile(r"cov: (\d+) ft: (\d+)")


def run_target(
    name: str, seconds: int, work: Path
) -> tuple[int, int, int, tuple[int, int], list[Path]]:
    """(executions, seconds, working-corpus size, (cov, ft), findings) of one target's run."""
    corpus, findings = work / name, work / "findings"
    corpus.mkdir(parents=True, exist_ok=True)
    findings.mkdir(parents=True, exist_ok=True)
    before = set(findings.iterdir())
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz.run",
            name,
            f"-max_total_time={seconds}",
            "-rss_limit_mb=2048",
            "-timeout=10",
            f"-artifact_prefix={findings}/{name}-",
            str(corpus),
            str(ROOT / "tests" / "fuzz" / "corpus"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    done = _DONE.search(result.stderr)
    executions = int(done.group(1)) if done else _last_count(result.stderr)
    # libFuzzer's own seconds exclude the start-up (PKI, instrumented imports).
    elapsed = int(done.group(2)) if done else int(time.monotonic() - started)
    new = sorted(set(findings.iterdir()) - before)
    if result.returncode != 0 and not new:
        print(result.stderr[-3000:], file=sys.stderr)
    coverage = _COVERAGE.findall(result.stderr)
    cov, ft = map(int, coverage[-1]) if coverage else (0, 0)
    return executions, elapsed, sum(1 for _ in corpus.iterdir()), (cov, ft), new


def _last_count(stderr: str) -> int:
    counts = re.findall(r"^#(\d+)", stderr, re.MULTILINE)
    return int(counts[-1]) if counts else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, required=True, help="total time for all targets")
    parser.add_argument("--targets", nargs="+", choices=sorted(TARGETS), default=sorted(TARGETS))
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "fuzz")
    args = parser.parse_args()
    share = max(1, int(args.minutes * 60 / len(args.targets)))
    print(
        f"{'target':<14} {'executions':>11} {'seconds':>8} {'exec/s':>7} {'corpus':>7}"
        f" {'cov':>6} {'ft':>6}  findings"
    )
    total_runs = total_seconds = total_findings = 0
    for name in args.targets:
        runs, seconds, corpus, (cov, ft), findings = run_target(name, share, args.work)
        rate = runs / seconds if seconds else 0
        names = ", ".join(p.name for p in findings) or "none"
        figures = f"{runs:>11} {seconds:>8} {rate:>7.0f} {corpus:>7} {cov:>6} {ft:>6}"
        print(f"{name:<14} {figures}  {names}", flush=True)
        total_runs, total_seconds = total_runs + runs, total_seconds + seconds
        total_findings += len(findings)
    print(f"{'total':<14} {total_runs:>11} {total_seconds:>8}  findings: {total_findings}")
    return 1 if total_findings else 0


if __name__ == "__main__":
    sys.exit(main())
