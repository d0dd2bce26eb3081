"""``kzgate scenario``: rehearsals as files (``kzgate.rehearsal``) on the command line.

    kzgate scenario check FILE…                 validate, run nothing (exit 1 on an error)
    kzgate scenario run FILE… [--junit F]       against the running system (KZGATE_* settings)
    kzgate scenario run --start FILE…           start one on the embedded defaults first
    kzgate scenario schema                      the JSON Schema editors complete from

Every file is validated before anything is started or sent: a bad file names its line and field
and exits 1. ``run`` prints a line per step, then a report; exit 0 only when every expectation
held, 1 when one failed, 2 when the system could not be started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

from connectors.config import Settings
from connectors.ops_access import operator_headers
from kzgate.rehearsal.engine import Rehearsal, ScenarioResult
from kzgate.rehearsal.loader import ScenarioError, load_scenario
from kzgate.rehearsal.model import Scenario, scenario_schema
from kzgate.rehearsal.report import progress_line, report, write_junit

EXIT_FAILED, EXIT_NOT_STARTED = 1, 2
# Where a started system's virtual clock begins: a Monday in working hours (scenarios set it).
START_CLOCK = "2026-11-23T10:00:00+05:00"


def register(sub: argparse._SubParsersAction) -> None:
    scenario = sub.add_parser("scenario", help="run rehearsal scenarios (YAML) and report")
    actions = scenario.add_subparsers(dest="scenario_action", required=True)
    check = actions.add_parser("check", help="validate scenario files without running them")
    check.add_argument("files", nargs="+", type=Path, help="scenario files (YAML)")
    check.set_defaults(func=_check)
    run = actions.add_parser("run", help="run scenario files against a running system")
    run.add_argument("files", nargs="+", type=Path, help="scenario files (YAML)")
    run.add_argument("--junit", type=Path, help="write a JUnit XML report here (for CI)")
    run.add_argument(
        "--start",
        action="store_true",
        help="start a system (embedded defaults, fresh var dir, virtual clock) for the run",
    )
    run.set_defaults(func=_run)
    schema = actions.add_parser("schema", help="print the scenario JSON Schema")
    schema.set_defaults(func=_schema)


def _load_all(files: list[Path]) -> list[tuple[Path, Scenario]] | None:
    loaded, errors = [], []
    for file in files:
        try:
            loaded.append((file, load_scenario(file)))
        except ScenarioError as exc:
            errors.append(str(exc))
    for error in errors:
        print(error, file=sys.stderr)
    return None if errors else loaded


def _check(args: argparse.Namespace) -> int:
    loaded = _load_all(args.files)
    if loaded is None:
        return EXIT_FAILED
    for file, scenario in loaded:
        print(f"ok  {file}: {scenario.name} ({len(scenario.steps)} steps)")
    return 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(scenario_schema(), ensure_ascii=False, indent=2))
    return 0


def _run(args: argparse.Namespace) -> int:
    loaded = _load_all(args.files)
    if loaded is None:
        return EXIT_FAILED  # nothing started, nothing sent
    if args.start:
        try:
            with started_system() as env:
                os.environ.update(env)
                return _play(loaded, args.junit)
        except RuntimeError as exc:
            print(f"cannot start the system: {exc}", file=sys.stderr)
            return EXIT_NOT_STARTED
    return _play(loaded, args.junit)


def _play(loaded: list[tuple[Path, Scenario]], junit: Path | None) -> int:
    results = asyncio.run(_play_all(loaded))
    print()
    print(report(results))
    if junit is not None:
        write_junit(results, junit)
        print(f"JUnit report: {junit}")
    return 0 if all(r.ok for r in results) else EXIT_FAILED


async def _play_all(loaded: list[tuple[Path, Scenario]]) -> list[ScenarioResult]:
    results = []
    # The operator's token rides along when one is configured: the same run works beyond loopback.
    async with httpx2.AsyncClient(timeout=30, headers=operator_headers()) as http:
        for file, scenario in loaded:
            print(f"{scenario.name} ({file})", flush=True)
            rehearsal = Rehearsal(Settings(), http)
            results.append(
                await rehearsal.play(
                    scenario, str(file), lambda step: print(progress_line(step), flush=True)
                )
            )
    return results


@contextmanager
def started_system(var: Path | None = None) -> Iterator[dict[str, str]]:
    """``kzgate up`` on free ports, a fresh var dir (or ``var``) and a virtual clock; yields its
    environment (the ``KZGATE_*`` settings a client of it needs)."""
    var = var or Path(tempfile.mkdtemp(prefix="kzgate-scenario-"))
    for attempt in range(1, START_ATTEMPTS + 1):
        env, up = _start(var)
        try:
            _wait_ready(up)
            break
        except _ExitedEarly as exited:
            # Free ports are picked, then bound by other processes: another program on the
            # machine may take one in between. A new block is the cure; anything else is fatal.
            _terminate(up)
            if attempt == START_ATTEMPTS:
                raise RuntimeError(f"kzgate up exited {attempt} times: {exited}") from None
        except BaseException:
            _terminate(up)
            raise
    try:
        # Keep reading its log: a pipe nobody reads fills up and blocks every process writing to it.
        threading.Thread(target=_drain, args=(up, var / "kzgate-up.log"), daemon=True).start()
        print(f"started a system on port {env['KZGATE_PORT']} (var dir {var})", flush=True)
        yield env
    finally:
        _terminate(up)


START_ATTEMPTS = 3


class _ExitedEarly(RuntimeError):
    """``kzgate up`` ended before it was ready (its last lines and exit code in the message)."""


def _start(var: Path) -> tuple[dict[str, str], subprocess.Popen[bytes]]:
    port = _free_port_block(12)
    env = {
        "KZGATE_VAR_DIR": str(var),
        "KZGATE_PORT": str(port),
        "KZGATE_SIMULATOR_BASE_PORT": str(port),
        "KZGATE_CLOCK": json.dumps({"start": START_CLOCK, "file": str(var / "clock.json")}),
        # the embedded broker and SQLite: a rehearsal must not touch shared services
        "KZGATE_BROKER": "embedded",
    }
    drop = ("KZGATE_DATABASE_URL", "KZGATE_PKI_DIR", "KZGATE_AMQP_URL")
    full = {k: v for k, v in os.environ.items() if k not in drop}
    up = subprocess.Popen(
        [sys.executable, "-m", "kzgate.cli.main", "up"],
        env={**full, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return env, up


def _terminate(up: subprocess.Popen[bytes]) -> None:
    up.terminate()
    try:
        up.wait(timeout=30)
    except subprocess.TimeoutExpired:
        up.kill()


def _drain(up: subprocess.Popen[bytes], log: Path) -> None:
    assert up.stdout is not None
    with log.open("wb") as out:
        for line in up.stdout:
            out.write(line)
            out.flush()


def _wait_ready(up: subprocess.Popen[bytes]) -> None:
    assert up.stdout is not None
    lines: list[str] = []
    ends = time.monotonic() + 150
    while time.monotonic() < ends:
        line = up.stdout.readline().decode(errors="replace")
        if not line and up.poll() is not None:
            raise _ExitedEarly(f"code {up.returncode}, last lines:\n" + "".join(lines[-20:]))
        lines.append(line)
        if line.startswith("try:"):  # kzgate up's banner ends with a line to try
            return
    raise RuntimeError("kzgate up did not become ready in 150 s")


def _free_port_block(size: int) -> int:
    for _ in range(200):
        base = random.randrange(20_000, 60_000 - size)
        if all(_is_free(base + i) for i in range(size)):
            return base
    raise RuntimeError(f"no {size} free ports in a row")


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
