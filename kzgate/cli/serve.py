"""``kzgate serve`` (one process) and ``kzgate up`` (the whole system, what ``./run`` calls)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import httpx2

from connectors import init_pki
from connectors.config import Settings
from connectors.roster import ROSTER, SYNC_PATH, RosterEntry, roster_entry
from connectors.wsse.pki import Validity
from gateway.registry import load_registry
from simulators.kit.clock import clock_from_env

# Eleven processes importing lxml, xmlsec and SQLAlchemy at once take a while on a busy machine.
READY_TIMEOUT_SECONDS = 120.0


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="run one process: the gateway or one simulated system")
    serve_sub = serve.add_subparsers(dest="what", required=True)
    serve_sub.add_parser(
        "gateway", help="the gateway alone: its SOAP endpoints, console and metrics"
    ).set_defaults(func=_serve_gateway)
    sim = serve_sub.add_parser("simulator", help="one simulated state system")
    sim.add_argument(
        "system", choices=sorted(entry.system_id for entry in ROSTER), help="the system to run"
    )
    sim.set_defaults(func=_serve_simulator)
    conn = serve_sub.add_parser(
        "connectors", help="the connectors of some systems (with KZGATE_CONNECTORS=external)"
    )
    conn.add_argument("systems", nargs="*", help="system ids (default: every connected system)")
    conn.set_defaults(func=_serve_connectors)
    up = sub.add_parser("up", help="start the gateway and every simulated system (./run)")
    up.set_defaults(func=_up)


def simulator_command(settings: Settings, entry: RosterEntry) -> list[str]:
    """How a roster entry's simulator runs as a process: its package, on the roster's port.

    The launcher reaches a simulator through its process only (``python -m <package>``), so the
    gateway never imports one.
    """
    return [
        sys.executable,
        "-m",
        entry.package,
        "--host",
        settings.host,
        "--port",
        str(entry.port(settings.simulator_base_port)),
    ]


def _serve_gateway(args: argparse.Namespace) -> int:
    # This process becomes the gateway (signals reach it as is), through a main module that
    # imports only the gateway: uvicorn's workers re-import the main module when they start.
    os.execv(sys.executable, [sys.executable, "-m", "gateway.http"])
    return 0  # not reached


def _serve_simulator(args: argparse.Namespace) -> int:
    command = simulator_command(Settings(), roster_entry(args.system))
    os.execv(command[0], command)  # this process becomes the simulator: signals reach it as is
    return 0  # not reached


def _serve_connectors(args: argparse.Namespace) -> int:
    """Connectors outside the gateway process: they consume the broker until SIGTERM/SIGINT."""
    from gateway.assembly import assemble, connected_systems, disassemble

    async def run() -> None:
        settings = Settings()
        registry = load_registry(settings.pki_dir, catalogue=settings.catalogue_path)
        systems = args.systems or sorted(connected_systems(registry))
        runtime = await assemble(settings, connectors=systems)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        print(f"connectors running for {', '.join(systems)}", flush=True)
        try:
            await stop.wait()
        finally:
            await disassemble(runtime)

    asyncio.run(run())
    return 0


class _StopRequested(Exception):
    """SIGTERM or SIGINT arrived while the system was still starting."""


class _StartUpStop:
    """The signal handler while ``up`` starts. A stop is raised as ``_StopRequested`` so that the
    children already started are stopped (the ``finally`` of ``_up``) — but never in the middle of
    starting one: raised inside ``subprocess.Popen`` it would lose the handle of a child that has
    already forked. There it is only noted, and raised as soon as that child's handle is kept."""

    def __init__(self) -> None:
        self.requested = False
        self.spawning = False

    def __call__(self, signum: int, frame: object) -> None:
        self.requested = True
        if not self.spawning:
            raise _StopRequested

    def spawn(self, start: Callable[[], subprocess.Popen]) -> subprocess.Popen:
        self.spawning = True
        try:
            return start()
        finally:
            self.spawning = False

    def check(self) -> None:
        if self.requested:
            raise _StopRequested


def die_with_parent(parent: int) -> Callable[[], None]:
    """What each child runs before exec: the kernel sends it SIGTERM when ``kzgate up`` dies, even
    by SIGKILL, so an orchestrator or a tester killing ``up`` leaves no orphaned gateway or
    simulator holding its port (Linux's PR_SET_PDEATHSIG; elsewhere nothing is done). If ``up``
    died between the fork and this call, no signal would ever come: the child ends at once."""

    def arrange() -> None:
        if not sys.platform.startswith("linux"):
            return
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(128 + signal.SIGTERM)

    return arrange


def _up(args: argparse.Namespace) -> int:
    settings = Settings()
    # A stop asked for while the children start must still stop them (the `finally` below), not
    # end this process at once and leave eleven processes behind.
    stop = _StartUpStop()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children: dict[str, subprocess.Popen] = {}
    try:
        # On a virtual clock started in the past, the business documents signed at that time
        # must verify at that time: a new PKI covers the clock's moment as well as the real now.
        created = init_pki(settings.pki_dir, validity=Validity.covering(clock_from_env().now()))
        if created:
            print(f"test PKI created in {settings.pki_dir} ({len(created)} files)")
        children["gateway"] = stop.spawn(lambda: _spawn(["serve", "gateway"]))
        stop.check()
        for entry in ROSTER:
            command = simulator_command(settings, entry)
            children[entry.system_id] = stop.spawn(lambda c=command: _spawn_command(c))
            stop.check()
        if settings.connectors == "external":
            children["connectors"] = stop.spawn(lambda: _spawn(["serve", "connectors"]))
            stop.check()
        _wait_ready(settings, children)
        _print_banner(settings)
        return _supervise(children)
    except _StopRequested:
        return 0
    finally:
        _stop(children)


def _spawn(command: list[str]) -> subprocess.Popen:
    return _spawn_command([sys.executable, "-m", "kzgate.cli.main", *command])


def _spawn_command(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        env=os.environ.copy(),
        preexec_fn=die_with_parent(os.getpid()),  # kzgate up forks from one thread
    )


def _health_urls(settings: Settings) -> dict[str, str]:
    urls = {"gateway": f"{settings.gateway_url}/health"}
    for entry in ROSTER:
        urls[entry.system_id] = f"{entry.url(settings.host, settings.simulator_base_port)}/health"
    return urls


def _wait_ready(settings: Settings, children: dict[str, subprocess.Popen]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    for name, url in _health_urls(settings).items():
        while True:
            if children[name].poll() is not None:
                raise SystemExit(
                    f"{name} exited during start-up (code {children[name].returncode})"
                )
            try:
                if httpx2.get(url, timeout=1.0).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not become ready at {url}")
            time.sleep(0.2)


def _print_banner(settings: Settings) -> None:
    base = settings.gateway_url
    health = httpx2.get(f"{base}/health", timeout=5).json()
    lines = [
        f"kzgate is up — security policy '{settings.security_policy}', "
        f"message log {settings.database_url}",
        f"  messages travel as {health['dispatch']}",
        f"  gateway      {base}/sync   (WSDL: {base}/sync?wsdl, catalogue: {base}/services)",
        f"  console      {base}/console/   (operator {settings.console_user}"
        + (", password dev-console)" if settings.console_password == "dev-console" else ")")
        + f", metrics: {base}/metrics",
    ]
    for entry in ROSTER:
        url = entry.url(settings.host, settings.simulator_base_port)
        lines.append(f"  {entry.system_id:<12} {url}{entry.push_path or SYNC_PATH}")
    lines.append(
        "try: kzgate send --as EGOV_PORTAL --service GbdulInfoByBin_v1"
        " --data examples/gbdul-request.xml"
    )
    print("\n".join(lines), flush=True)


def _supervise(children: dict[str, subprocess.Popen]) -> int:
    stop = {"requested": False}

    def request_stop(signum: int, frame: object) -> None:
        stop["requested"] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while not stop["requested"]:
        for name, child in children.items():
            if child.poll() is not None:
                print(
                    f"{name} exited (code {child.returncode}); stopping everything", file=sys.stderr
                )
                return 1
        time.sleep(0.5)
    return 0


def _stop(children: dict[str, subprocess.Popen]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for child in children.values():
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
