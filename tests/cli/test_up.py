"""``kzgate up`` never leaves its processes behind: stopped while starting, or killed outright.

Eleven processes hold ports; an orphan from a killed ``up`` makes the next ``./run`` fail with
"address in use" — which is how CI machines filled with stray gateways before.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from connectors.roster import ROSTER
from gateway.paths import PROJECT_ROOT
from tests.ports import free_port_block

EXPECTED_CHILDREN = 1 + len(ROSTER)  # the gateway and every simulated system


def _children(pid: int) -> set[int]:
    """The live processes whose parent is ``pid`` (from /proc: no psutil needed)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"


def _commands(pids: set[int]) -> list[str]:
    found = []
    for pid in pids:
        try:
            found.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


def _start_up(tmp_path: Path) -> tuple[subprocess.Popen, set[int]]:
    base = free_port_block(len(ROSTER) + 1)
    env = {
        **os.environ,
        "KZGATE_VAR_DIR": str(tmp_path / "var"),
        "KZGATE_PORT": str(base),
        "KZGATE_SIMULATOR_BASE_PORT": str(base + 1),
        "KZGATE_BROKER": "embedded",
        "KZGATE_WORKERS": "1",
    }
    env.pop("KZGATE_DATABASE_URL", None)
    env.pop("KZGATE_PKI_DIR", None)
    output = (tmp_path / "up.log").open("w")  # read back when an assertion fails
    up = subprocess.Popen(
        [sys.executable, "-m", "kzgate.cli.main", "up"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60  # creating the test PKI comes first
    while len(children := _children(up.pid)) < EXPECTED_CHILDREN:
        assert up.poll() is None, "kzgate up exited while starting"
        assert time.monotonic() < deadline, f"only {len(children)} children started"
        time.sleep(0.1)
    return up, children


def _kill_left(pids: set[int]) -> None:
    """After a failed check, leave no process of the test behind to hold its ports."""
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _wait_gone(pids: set[int], seconds: float = 60) -> set[int]:
    """The bound is generous: a child told to stop while still starting finishes its start-up
    (imports, the gateway's schema and broker) before its graceful shutdown, slow under load."""
    deadline = time.monotonic() + seconds
    while (left := {pid for pid in pids if _alive(pid)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_killed_with_sigkill_it_takes_its_children_along(tmp_path: Path) -> None:
    up, children = _start_up(tmp_path)
    try:
        up.kill()
        up.wait(timeout=10)
        left = _wait_gone(children)
        assert not left, f"children outlived a killed kzgate up: {_commands(left)}"
    finally:
        _kill_left(children)


def test_stopped_while_starting_it_stops_its_children_and_exits_cleanly(tmp_path: Path) -> None:
    up, children = _start_up(tmp_path)
    try:
        up.terminate()  # before anything is ready: `kzgate up` is still waiting on /health
        assert up.wait(timeout=60) == 0, (tmp_path / "up.log").read_text()
        left = _wait_gone(children)
        assert not left, f"children outlived a stopped kzgate up: {_commands(left)}"
    finally:
        _kill_left(children)
