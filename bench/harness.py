"""What both benchmarks share: starting the gateway and simulators as processes, and stopping them.

The processes run from a temporary var dir on a block of free ports. Every run gets its own broker
namespace ``bench.<run>.``, so a crashed earlier run cannot leave messages in this run's queues;
on RabbitMQ that namespace's durable queues and exchanges are deleted when the run ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from connectors.config import Settings  # noqa: E402
from connectors.roster import roster_entry  # noqa: E402
from gateway.broker.factory import DEFAULT_AMQP_URL  # noqa: E402
from gateway.broker.port import RetryPolicy  # noqa: E402
from gateway.observability.metrics import MULTIPROC_ENV  # noqa: E402
from gateway.registry import load_registry  # noqa: E402
from kzgate.cli.serve import die_with_parent  # noqa: E402
from tests.ports import free_port_block  # noqa: E402

BROKER_CHOICES = ["auto", "embedded", "rabbitmq"]
STARTUP_SECONDS = 60.0


@dataclass
class System:
    """The running gateway and simulators of one benchmark run."""

    url: str
    var: Path
    namespace: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    simulator_urls: dict[str, str] = field(default_factory=dict)
    # Every gateway instance's URL, the first being ``url`` (``start_system(instances=…)``).
    gateway_urls: list[str] = field(default_factory=list)

    def gateway_names(self) -> list[str]:
        """The process names of the gateway instances: ``gateway``, ``gateway-2``, …"""
        return [name for name in self.processes if name.split("-")[0] == "gateway"]

    def health(self) -> dict:
        return httpx2.get(f"{self.url}/health", timeout=5).json()

    def uses_rabbitmq(self) -> bool:
        return "RabbitMQ" in self.health()["dispatch"]

    def broker_line(self, asked: str) -> str:
        """Which broker the gateway picked, from its /health (``--broker auto`` resolved)."""
        kind = "rabbitmq" if self.uses_rabbitmq() else "embedded"
        return f"broker: {kind} (asked: --broker {asked}, namespace {self.namespace})"


def start_system(
    var: Path,
    simulators: list[str],
    *,
    broker: str,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    instances: int = 1,
) -> System:
    """Start the gateway and ``simulators`` on free ports; return once every /health answers.

    ``extra_env`` is added to every process's environment (e.g. ``KZGATE_CLOCK``).
    ``instances`` > 1 starts that many gateways on ports of their own, sharing the database,
    the broker namespace and the PKI — several hosts' gateways, on one machine."""
    base = free_port_block(12)
    system = System(url=f"http://127.0.0.1:{base}", var=var, namespace=_run_namespace())
    env = {**_environment(var, base, broker, system.namespace, database_url), **(extra_env or {})}
    command = [sys.executable, "-m", "kzgate.cli.main", "serve"]
    # A benchmark killed by a signal it does not handle (SIGTERM, SIGKILL) takes its system along.
    child = {"cwd": ROOT, "preexec_fn": die_with_parent(os.getpid())}
    system.processes["gateway"] = subprocess.Popen([*command, "gateway"], env=env, **child)
    system.gateway_urls.append(system.url)
    for number in range(2, instances + 1):
        port = free_port_block(1)
        metrics = var / f"prometheus-{number}"
        metrics.mkdir(exist_ok=True)
        system.processes[f"gateway-{number}"] = subprocess.Popen(
            [*command, "gateway"],
            # Each host has its own metrics files (workers of two instances must not share them)
            # and a name of its own in the message log, as instances sharing a database must.
            env={
                **env,
                "KZGATE_PORT": str(port),
                "KZGATE_INSTANCE_ID": f"{socket.gethostname()}-bench-{number}",
                MULTIPROC_ENV: str(metrics),
            },
            **child,
        )
        system.gateway_urls.append(f"http://127.0.0.1:{port}")
    for system_id in simulators:
        system.processes[system_id] = subprocess.Popen(
            [*command, "simulator", system_id], env=env, **child
        )
        system.simulator_urls[system_id] = roster_entry(system_id).url("127.0.0.1", base)
    try:
        for name, url in zip(system.gateway_names(), system.gateway_urls, strict=True):
            _wait(url, system.processes[name])
        for system_id, url in system.simulator_urls.items():
            _wait(url, system.processes[system_id])
    except BaseException:
        stop_system(system)
        raise
    return system


def _run_namespace() -> str:
    return f"bench.{uuid.uuid4().hex[:8]}."


def _environment(
    var: Path, base: int, broker: str, namespace: str, database_url: str | None
) -> dict[str, str]:
    env = {
        **os.environ,
        "KZGATE_VAR_DIR": str(var),
        "KZGATE_PORT": str(base),
        "KZGATE_SIMULATOR_BASE_PORT": str(base),
        "KZGATE_BROKER": broker,
        "KZGATE_BROKER_NAMESPACE": namespace,
        "KZGATE_CONNECTORS": "in-process",  # the gateway process does the pushing it reports
    }
    if database_url:
        env["KZGATE_DATABASE_URL"] = database_url
    return env


def _wait(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode} during start-up")
        try:
            if httpx2.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def stop_system(system: System) -> None:
    """Stop the processes, then delete the run's RabbitMQ namespace if the gateway used one."""
    on_rabbitmq = _safely_uses_rabbitmq(system)
    for process in system.processes.values():
        if process.poll() is None:
            process.terminate()
    for process in system.processes.values():
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if on_rabbitmq:
        try:
            asyncio.run(delete_namespace(system.var, system.namespace))
        except Exception as exc:
            print(f"could not delete RabbitMQ namespace {system.namespace!r}: {exc!r}")


def _safely_uses_rabbitmq(system: System) -> bool:
    try:
        return system.uses_rabbitmq()
    except (httpx2.HTTPError, KeyError, ValueError):
        return True  # cannot ask: delete the namespace anyway (a no-op if it was never made)


async def delete_namespace(var: Path, namespace: str) -> None:
    """Delete the durable queues and exchanges the gateway declared under ``namespace``."""
    from gateway.broker.rabbitmq import RabbitBroker

    settings = Settings(var_dir=var, broker_namespace=namespace)
    retry = RetryPolicy(max_attempts=settings.max_delivery_attempts, delays=settings.retry_delays)
    broker = RabbitBroker(settings.amqp_url or DEFAULT_AMQP_URL, retry=retry, namespace=namespace)
    await broker.start(sorted(load_registry(var / "pki").senders))
    try:
        await broker.delete_topology()
    finally:
        await broker.close()


def _stat(pid: int) -> list[str]:
    # Fields after the command name, which may itself hold spaces and parentheses.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                children.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue  # the process ended while we looked
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and every live process under it (Linux /proc):
    a gateway with ``KZGATE_WORKERS`` > 1 does its work in worker processes under its supervisor."""
    total = 0.0
    for each in (pid, *_descendants(pid)):
        try:
            fields = _stat(each)
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def machine_busy_seconds() -> float:
    """CPU seconds all the machine's cores have been busy so far (Linux /proc/stat: user, nice,
    system, irq, softirq, steal): over a level, what every process on the machine spent."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields)
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> dict[int, int]:
    """Resident set size of a process and of every live process under it, by pid (Linux /proc):
    each gateway worker is reported on its own, since the per-worker RSS is what has a bound."""
    sizes: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for each in (pid, *_descendants(pid)):
        try:
            sizes[each] = int(Path(f"/proc/{each}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue  # ended while we looked
    return sizes


def rss_snapshot(system: System) -> dict[str, int]:
    """RSS of every process of the run: ``gateway`` (the supervisor), ``gateway/<pid>`` for each
    worker under it, and each simulator."""
    sizes: dict[str, int] = {}
    for name, process in system.processes.items():
        for pid, size in rss_bytes(process.pid).items():
            sizes[name if pid == process.pid else f"{name}/{pid}"] = size
    return sizes


POSTGRES_URL = os.environ.get(
    "KZGATE_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A database URL on a fresh schema of the machine's PostgreSQL, dropped afterwards: a run
    never sees another run's (or another developer's) rows."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def execute(statement: str) -> None:
        engine = create_async_engine(POSTGRES_URL)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    schema = f"kzgate_bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(execute(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?search_path={schema}"
    finally:
        asyncio.run(execute(f'DROP SCHEMA "{schema}" CASCADE'))


def cpu_snapshot(system: System) -> dict[str, float]:
    return {name: cpu_seconds(p.pid) for name, p in system.processes.items()}


def cpu_ms_per_message(before: dict[str, float], after: dict[str, float], n: int) -> list[float]:
    return [(after[name] - before[name]) * 1000 / n for name in before]


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile of latencies given in seconds, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


# --- output: the human tables, or JSON for machines ---------------------------------------------


def add_json_option(parser: Any) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print the figures as JSON (the tables go to stderr)"
    )


@contextlib.contextmanager
def tables_unless_json(as_json: bool) -> Iterator[None]:
    """The human report as usual; with ``--json`` it goes to stderr so stdout is only JSON."""
    if not as_json:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


def print_figures(figures: Any) -> None:
    print(json.dumps(figures, indent=2, default=str))


def level_figures(level: Any, processes: list[str]) -> dict[str, Any]:
    """A measured level as JSON: its numbers, each latency list as p50/p99 (ms), CPU by process."""
    figures: dict[str, Any] = {}
    for name, value in vars(level).items():
        if name == "cpu_ms":
            figures["cpuMsPerMessage"] = dict(zip(processes, value, strict=False))
        elif name.endswith("latencies"):
            figures[name] = (
                {"p50": percentile(value, 0.5), "p99": percentile(value, 0.99)} if value else None
            )
        else:
            figures[name] = value
    return figures


def level_progress(what: str) -> Any:
    """A spinner with elapsed time on stderr (terminals only) while one level runs."""
    from kzgate.cli.output import progress

    return progress(what)
