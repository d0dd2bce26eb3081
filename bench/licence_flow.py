"""The F1 licence flow end to end: licences per second, filing → customs record latency.

Starts the gateway and every simulator the licence flow needs (ELICENSE, GBDUL, GBDFL, KGD, PEP,
KEDEN, EGOV_PORTAL, MONITORING) as processes on free ports, then at each level of concurrent
filers files N distinct import licence applications as EGOV_PORTAL (``ElicenseSubmitApplication_v1``
through the gateway, as ``kzgate demo licence`` does). The applicants are the fixture companies
with a CONFIRMED 2026 licence fee of at least 10 MRP in PEP (read from the PEP, KGD and GBDUL
fixtures); as a fee pays one licence, one more fee per application is paid through PEP before
each level (not timed); the contract number makes each application distinct. ELICENSE's worker
then gathers the facts (GBDUL, KGD, PEP), decides, and delivers (EGOV_PORTAL, KEDEN, four
MONITORING stages).

The point is the ratio of ELICENSE's deciding workers: the system runs once per ``--workers``
count (``KZGATE_ELICENSE_WORKERS``, e.g. 1 then 8) in the same run, each at two loads:

- a fixed offered load (``--rate``, 2 licences/s): filings start on a timetable whatever the
  answers, so the e2e latency is that of a system which keeps up (or queues, if it cannot);
- saturation: ``--filers`` concurrent filers as fast as the gateway answers.

Applications are built before the clock starts. Per level:

- lic/s →done: N / (the last completion ELICENSE's ``GET /ops/sla`` reports − the first filing);
  lic/s →KEDEN: N / (the last customs record's registration in KEDEN − the first filing).
- submit p50/p99: the synchronous filing call (registration answered through the gateway).
- e2e p50/p99: per licence, KEDEN's ``registeredAt`` of its customs record minus the moment the
  filer started its POST.
- issued / refused / missed from ``/ops/sla``; "in KEDEN": how many of the level's licences
  ``GET /ops/records`` lists. All must be issued and in KEDEN, none missed (else exit 1).
- CPU ms per licence of each process, from the level's start until every licence is in KEDEN
  and every application DELIVERED (all its messages acknowledged). While waiting, KEDEN's
  ``/ops/records`` is polled every 0.25 s and ELICENSE's ``/ops/sla`` only every 2 s.
- Beside them, per licence over the same span: ``bench`` (this process: filing, paying, polling),
  ``machine`` (every core's busy time in ``/proc/stat``), ``rest`` (the machine minus every
  process named: RabbitMQ, PostgreSQL, the kernel), and ``no-gw lic/s``: cores × 1000 ÷
  (machine − gateway), the most licences/s these cores could carry if the gateway cost nothing
  and everything else what it did.

Business clock: ELICENSE registers a filing made outside working hours (Trade Committee hours,
09:00–18:00 KZT with lunch 13–14, working days only) at the next working day's opening, and
would only then start work. So every process runs on one virtual clock shared through
``var/clock.json`` (``KZGATE_CLOCK``), started at ``--business-start`` (a working-day morning in
2026, the fee year) and running at real speed: business seconds are real seconds, and the
timestamps of ELICENSE, KEDEN and this script are on the same clock.

    .venv/bin/python bench/licence_flow.py [--licences 40] [--workers 1,8] [--rate 2]
        [--filers 16] [--broker auto]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx2
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    BROKER_CHOICES,
    System,
    add_json_option,
    cpu_ms_per_message,
    cpu_snapshot,
    level_figures,
    level_progress,
    machine_busy_seconds,
    percentile,
    print_figures,
    start_system,
    stop_system,
    tables_unless_json,
)
from connectors import (  # noqa: E402
    ShepClient,
    TransportKey,
    TrustStore,
    init_pki,
)
from kzgate.cli.demo import sample_application  # noqa: E402
from simulators.elicensing import documents, forms  # noqa: E402
from simulators.elicensing.rules_fee import LICENCE_FEE_MRP  # noqa: E402
from simulators.elicensing.settings import DEFAULT_WORKERS, ElicenseSettings  # noqa: E402
from simulators.elicensing.store import Kind  # noqa: E402
from simulators.kit.clock import CLOCK_ENV, KZ_TIME, VirtualClock  # noqa: E402
from simulators.legal_entities.models import OrganizationStatus  # noqa: E402
from simulators.legal_entities.payload import default_store  # noqa: E402
from simulators.payments.models import PaymentStatus  # noqa: E402
from simulators.payments.payload import (  # noqa: E402
    build_confirm_request,
    build_create_request,
)
from simulators.payments.store import fixture_payments  # noqa: E402
from simulators.tax.store import MRP_FIXTURES, MrpTable  # noqa: E402

SENDER = "EGOV_PORTAL"
CORES = os.cpu_count() or 1
WORKERS_ENV = "KZGATE_ELICENSE_WORKERS"
SUBMIT = "ElicenseSubmitApplication_v1"
FEE_PURPOSE = "LICENCE_FEE_IMPORT_EXPORT"  # simulators.elicensing.facts.PEP_FEE_PURPOSE
SIMULATORS = ["ELICENSE", "GBDUL", "GBDFL", "KGD", "PEP", "KEDEN", "EGOV_PORTAL", "MONITORING"]
DEFAULT_BUSINESS_START = "2026-10-06T10:00:00+05:00"  # a Tuesday morning in the fee year
LATEST_START = timedelta(hours=1)  # working time the run may use before lunch or closing
POLL_SECONDS = 0.25
SLA_EVERY = 8  # ELICENSE's /ops/sla is read every 8th KEDEN poll while waiting
CPU_LABELS = {
    "gateway": "gateway",
    "ELICENSE": "ELICENSE",
    "GBDUL": "GBDUL",
    "GBDFL": "GBDFL",
    "KGD": "KGD",
    "PEP": "PEP",
    "KEDEN": "KEDEN",
    "EGOV_PORTAL": "EGOV",
    "MONITORING": "MON",
}


@dataclass(frozen=True)
class Level:
    """One level's measurements; latencies in seconds."""

    workers: int  # ELICENSE's deciding workers
    load: str  # "2.0/s" offered, or "sat" (``filers`` concurrent filers)
    filers: int
    licences: int
    per_s_done: float
    per_s_keden: float
    submit_latencies: list[float]
    e2e_latencies: list[float]
    issued: int
    refused: int
    missed: int
    in_keden: int
    cpu_ms: list[float]
    bench_cpu_ms: float  # this process per licence: filing, paying, polling
    machine_cpu_ms: float  # every core's busy time per licence (/proc/stat)


# --- applications ----------------------------------------------------------------------------


def fee_paying_applicants(year: int) -> list[forms.Applicant]:
    """Active GBDUL companies with a CONFIRMED ``year`` licence fee of at least 10 MRP in PEP."""
    mrp = MrpTable.from_json(MRP_FIXTURES).find(year)
    assert mrp is not None, f"KGD has the MRP of {year}"
    due = Decimal(mrp.amount) * LICENCE_FEE_MRP
    payers = sorted(
        {
            p.payer_id
            for p in fixture_payments()
            if p.purpose_code == FEE_PURPOSE
            and p.status is PaymentStatus.CONFIRMED
            and p.payment_date.year == year
            and p.amount >= due
        }
    )
    store, applicants = default_store(), []
    for payer in payers:
        org = store.find(payer)
        if org is None or org.status is not OrganizationStatus.ACTIVE:
            continue  # an entrepreneur (GBDFL) or an inactive company: not a clean issue
        applicants.append(
            forms.Applicant(
                kind=forms.ApplicantKind.LEGAL_ENTITY,
                identifier=payer,
                name=org.short_name,
                address=f"{org.address.city}, {org.address.street}",
            )
        )
    return applicants


def applications(
    applicants: list[forms.Applicant], registered_on: date, tag: str, n: int
) -> list[etree._Element]:
    """``n`` distinct applications (contract ``BENCH-<tag>-<i>``), round-robin over applicants."""
    base = sample_application(registered_on)
    built = []
    for i in range(n):
        contract = base.contract.model_copy(update={"number": f"BENCH-{tag}-{i:05d}"})
        application = base.model_copy(
            update={"applicant": applicants[i % len(applicants)], "contract": contract}
        )
        built.append(documents.build_application(application))
    return built


def pay_fees(
    client: ShepClient, applicants: list[forms.Applicant], year: int, tag: str, n: int
) -> None:
    """One confirmed fee per application, paid through PEP as the portal would: a fee pays one
    licence (seed 002, LR p.3), so the fixtures' one payment per company is not enough."""
    mrp = MrpTable.from_json(MRP_FIXTURES).find(year)
    assert mrp is not None, f"KGD has the MRP of {year}"
    amount = f"{Decimal(mrp.amount) * LICENCE_FEE_MRP:.2f}"

    async def pay_all() -> None:
        for i in range(n):
            payer = applicants[i % len(applicants)].identifier
            order = build_create_request(payer, FEE_PURPOSE, amount, f"BENCH-{tag}-{i:05d}")
            created = (await client.send("PepCreatePayment_v1", order)).response.data[0]
            payment_id = created.find("payment/paymentId").text
            await client.send("PepConfirmPayment_v1", build_confirm_request(payment_id))

    asyncio.run(pay_all())


# --- filing and following --------------------------------------------------------------------


async def file_all(
    client: ShepClient,
    clock: VirtualClock,
    elements: list[etree._Element],
    concurrency: int,
    rate: float | None = None,
) -> tuple[dict[str, datetime], list[float]]:
    """File every element; (business moment each filing's POST started, by number; latencies).

    ``rate``: the i-th filing starts i/rate seconds after the first (open loop: a slow answer
    does not hold the next filing back); otherwise ``concurrency`` filers file back to back."""
    pending = iter(elements)
    started_at: dict[str, datetime] = {}
    latencies: list[float] = []
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def file_one(filing: ShepClient, element: etree._Element) -> None:
        moment, started = clock.now(), time.perf_counter()
        answer = fields((await filing.send(SUBMIT, element)).response.data[0])
        latencies.append(time.perf_counter() - started)
        if answer.get("duplicate") != "false":
            raise RuntimeError(f"not a new application: {answer}")
        started_at[answer["registrationNumber"]] = moment

    async def filer(filing: ShepClient) -> None:
        for element in pending:  # shared: each filer takes the next application
            await file_one(filing, element)

    async def on_timetable(filing: ShepClient, i: int, element: etree._Element) -> None:
        assert rate is not None
        await asyncio.sleep(i / rate)
        await file_one(filing, element)

    async with httpx2.AsyncClient(limits=limits, timeout=60) as http:
        filing = dataclasses.replace(client, http=http)
        if rate is None:
            await asyncio.gather(*(filer(filing) for _ in range(concurrency)))
        else:
            await asyncio.gather(*(on_timetable(filing, i, e) for i, e in enumerate(elements)))
    return started_at, latencies


def fields(element: etree._Element) -> dict[str, str]:
    return {etree.QName(c).localname: c.text or "" for c in element}


def keden_records(keden_url: str) -> dict[str, datetime]:
    """Every customs record KEDEN lists (``GET /ops/records``): its registration, by number."""
    records = httpx2.get(f"{keden_url}/ops/records", timeout=30).json()
    return {r["number"]: datetime.fromisoformat(r["registeredAt"]) for r in records}


def sla_entries(elicense_url: str, numbers: set[str]) -> list[dict]:
    report = httpx2.get(f"{elicense_url}/ops/sla", timeout=30).json()
    return [a for a in report["applications"] if a["registrationNumber"] in numbers]


def settle(
    system: System, numbers: set[str], known: set[str], timeout: float
) -> tuple[list[dict], dict[str, datetime]]:
    """(ELICENSE's /ops/sla entries of ``numbers``, KEDEN's new records) once the level is done.

    KEDEN (not ELICENSE, whose worker is being measured) is polled until its record count has
    grown by one per application; ELICENSE's /ops/sla only every ``SLA_EVERY`` polls, to stop
    early when some application completed without a customs record (refused). Then /ops/sla
    until every application is DELIVERED (all its messages acknowledged by the gateway).
    """
    elicense, keden = system.simulator_urls["ELICENSE"], system.simulator_urls["KEDEN"]
    deadline, polls = time.monotonic() + timeout, 0
    while True:
        new = {k: v for k, v in keden_records(keden).items() if k not in known}
        if len(new) >= len(numbers) or time.monotonic() > deadline:
            break
        polls += 1
        if polls % SLA_EVERY == 0:
            apps = sla_entries(elicense, numbers)
            completed = [a for a in apps if a["completedAt"]]
            issued = sum(a["outcome"] == "ISSUED" for a in completed)
            if len(completed) == len(numbers) and len(new) >= issued:
                break
        time.sleep(POLL_SECONDS)
    while True:
        apps = sla_entries(elicense, numbers)
        delivered = len(apps) == len(numbers) and all(a["state"] == "DELIVERED" for a in apps)
        if delivered or time.monotonic() > deadline:
            return apps, new
        time.sleep(POLL_SECONDS)


def run_level(
    system: System,
    client: ShepClient,
    clock: VirtualClock,
    elements: list[etree._Element],
    filers: int,
    timeout: float,
    *,
    workers: int = 1,
    rate: float | None = None,
) -> Level:
    known = set(keden_records(system.simulator_urls["KEDEN"]))
    cpu_before = cpu_snapshot(system)
    machine, own = machine_busy_seconds(), time.process_time()
    started_at, submit_latencies = asyncio.run(file_all(client, clock, elements, filers, rate))
    first = min(started_at.values())
    apps, new_records = settle(system, set(started_at), known, timeout)
    cpu = cpu_ms_per_message(cpu_before, cpu_snapshot(system), len(elements))
    own, machine = time.process_time() - own, machine_busy_seconds() - machine
    issued = {
        a["documentNumber"]: a["registrationNumber"] for a in apps if a["outcome"] == "ISSUED"
    }
    records = {number: at for number, at in new_records.items() if number in issued}
    completed = [datetime.fromisoformat(a["completedAt"]) for a in apps if a["completedAt"]]
    n = len(elements)
    return Level(
        workers=workers,
        load="sat" if rate is None else f"{rate:g}/s",
        filers=filers,
        licences=n,
        per_s_done=n / _seconds(first, max(completed)) if len(completed) == n else 0.0,
        per_s_keden=n / _seconds(first, max(records.values())) if len(records) == n else 0.0,
        submit_latencies=submit_latencies,
        e2e_latencies=[_seconds(started_at[issued[d]], at) for d, at in records.items()],
        issued=len(issued),
        refused=sum(a["outcome"] == "REFUSED" for a in apps),
        missed=sum(bool(a["missed"]) for a in apps) + n - len(apps),
        in_keden=len(records),
        cpu_ms=cpu,
        bench_cpu_ms=own * 1000 / n,
        machine_cpu_ms=machine * 1000 / n,
    )


def _seconds(a: datetime, b: datetime) -> float:
    """Business seconds from ``a`` to ``b``: real seconds, the shared clock runs at speed 1."""
    return max(0.0, (b - a).total_seconds())


# --- report ----------------------------------------------------------------------------------


def _p(values: list[float], q: float) -> str:
    return f"{percentile(values, q):.1f}" if values else "-"


HEADER = (
    f"{'workers':>7} {'load':>6} {'filers':>6} {'licences':>8} {'lic/s→done':>11} "
    f"{'lic/s→KEDEN':>12} {'submit p50':>10} {'submit p99':>10} {'e2e p50':>9} {'e2e p99':>9} "
    f"{'issued':>6} {'refused':>7} {'missed':>6} {'in KEDEN':>8}"
)


def print_level(level: Level) -> None:
    submit, e2e = level.submit_latencies, level.e2e_latencies
    print(
        f"{level.workers:>7} {level.load:>6} {level.filers:>6} {level.licences:>8} "
        f"{level.per_s_done:>11.2f} {level.per_s_keden:>12.2f} "
        f"{_p(submit, 0.5):>10} {_p(submit, 0.99):>10} {_p(e2e, 0.5):>9} {_p(e2e, 0.99):>9} "
        f"{level.issued:>6} {level.refused:>7} {level.missed:>6} {level.in_keden:>8}"
    )


def print_cpu(levels: Iterable[Level], names: list[str]) -> None:
    print("CPU ms per licence, per process; then this process, the machine, the rest of it")
    print(
        f"{'workers':>7} {'load':>6} "
        + " ".join(f"{CPU_LABELS.get(n, n)[:8]:>8}" for n in names)
        + f" {'bench':>8} {'machine':>8} {'rest':>8} {'no-gw lic/s':>12}"
    )
    for level in levels:
        cpu = " ".join(f"{ms:>8.2f}" for ms in level.cpu_ms)
        rest = level.machine_cpu_ms - sum(level.cpu_ms) - level.bench_cpu_ms
        print(
            f"{level.workers:>7} {level.load:>6} {cpu} {level.bench_cpu_ms:>8.2f} "
            f"{level.machine_cpu_ms:>8.2f} {rest:>8.2f} {no_gateway_ceiling(level, names):>12.1f}"
        )


def no_gateway_ceiling(level: Level, names: list[str]) -> float:
    """Licences/s the machine's cores could carry if the gateway cost nothing and every other
    process, the broker, the database and the kernel cost what they did in ``level``."""
    gateway = level.cpu_ms[names.index("gateway")]
    others = level.machine_cpu_ms - gateway
    return CORES * 1000 / others if others > 0 else float("inf")


def print_ratios(levels: list[Level]) -> None:
    """Each load's lic/s→KEDEN and e2e p50 with N workers beside the first worker count's."""
    base = {lv.load: lv for lv in levels if lv.workers == levels[0].workers}
    for level in levels:
        first = base.get(level.load)
        if first is None or level is first or not first.per_s_keden:
            continue
        if not (level.e2e_latencies and first.e2e_latencies):
            continue
        p50, first_p50 = percentile(level.e2e_latencies, 0.5), percentile(first.e2e_latencies, 0.5)
        print(
            f"{level.load}: {level.workers} workers ÷ {first.workers}: lic/s→KEDEN "
            f"{level.per_s_keden / first.per_s_keden:.2f}×, e2e p50 {p50 / 1000:.1f} s vs "
            f"{first_p50 / 1000:.1f} s"
        )


def make_client(pki: Path) -> ShepClient:
    return ShepClient(
        gateway_url="",
        sender_id=SENDER,
        password=f"dev-{SENDER}",
        key=TransportKey.from_files(pki / f"{SENDER}.pem", pki / f"{SENDER}.key"),
        trust=TrustStore.from_dir(pki),
    )


def business_start(text: str) -> datetime:
    """``text`` as an aware moment, checked to leave the run inside one working period."""
    start = datetime.fromisoformat(text)
    if start.tzinfo is None:
        start = start.replace(tzinfo=KZ_TIME)
    calendar = ElicenseSettings().calendar(Kind.LICENCE)
    if not (calendar.is_working_time(start) and calendar.is_working_time(start + LATEST_START)):
        raise SystemExit(f"--business-start {text} must leave 1 h of working time (KZT)")
    return start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--licences", type=int, default=40, help="applications per level")
    parser.add_argument("--workers", default=f"1,{DEFAULT_WORKERS}", help="ELICENSE workers")
    parser.add_argument("--rate", type=float, default=2.0, help="offered load, licences/s")
    parser.add_argument("--filers", type=int, default=16, help="concurrent filers at saturation")
    parser.add_argument("--warm-up", type=int, default=4, help="unreported, filed first")
    parser.add_argument("--broker", default="auto", choices=BROKER_CHOICES)
    parser.add_argument("--database-url", help="message log URL (default: SQLite in a temp dir)")
    parser.add_argument("--business-start", default=DEFAULT_BUSINESS_START)
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to settle a level")
    add_json_option(parser)
    args = parser.parse_args()
    worker_counts = [int(x) for x in args.workers.split(",")]
    start = business_start(args.business_start)
    applicants = fee_paying_applicants(start.year)
    measured: list[Level] = []
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        init_pki(var / "pki")
        # This process owns the shared clock; the services join it through the state file.
        clock_file = var / "clock.json"
        clock = VirtualClock(start, speed=1.0, state_file=clock_file)
        spec = {"start": start.isoformat(), "speed": 1, "file": str(clock_file)}
        with tables_unless_json(args.json):
            print(HEADER)
        for workers in worker_counts:  # the same system, restarted with another pool size
            system = start_system(
                var,
                SIMULATORS,
                broker=args.broker,
                database_url=args.database_url,
                extra_env={CLOCK_ENV: json.dumps(spec), WORKERS_ENV: str(workers)},
            )
            try:
                client = dataclasses.replace(make_client(var / "pki"), gateway_url=system.url)
                with tables_unless_json(args.json):
                    levels = report(system, client, clock, applicants, workers, args)
                measured += levels
                failed = failed or any(not _complete(level) for level in levels)
                processes = list(system.processes)
            finally:
                stop_system(system)
    with tables_unless_json(args.json):
        print("latencies in ms; e2e = filer's POST start → KEDEN's registeredAt of the record")
        print_cpu(measured, processes)
        print_ratios(measured)
        if failed:
            print("FAILED: not every licence issued, on time and in KEDEN")
    if args.json:
        print_figures([level_figures(level, processes) for level in measured])
    if failed:
        raise SystemExit(1)


def _complete(level: Level) -> bool:
    return level.issued == level.licences and not level.missed and level.in_keden == level.licences


def report(
    system: System,
    client: ShepClient,
    clock: VirtualClock,
    applicants: list[forms.Applicant],
    workers: int,
    args: argparse.Namespace,
) -> list[Level]:
    """Warm up, then run and print the offered-load level and the saturation level."""
    elicense_clock = httpx2.get(f"{system.simulator_urls['ELICENSE']}/ops/clock", timeout=5).json()
    print(
        f"-- ELICENSE with {workers} worker(s); {system.broker_line(args.broker)}; "
        f"dispatch: {system.health()['dispatch']}; ELICENSE now {elicense_clock['now']} "
        f"(virtual={elicense_clock['virtual']}, shared clock at speed 1)"
    )
    run = f"{time.time_ns():x}"
    registered_on = clock.now().astimezone(KZ_TIME).date()
    if args.warm_up > 0:  # --warm-up 0: the first level meets a cold system
        warm = applications(applicants, registered_on, f"{run}-warm", args.warm_up)
        pay_fees(client, applicants, registered_on.year, f"{run}-warm", args.warm_up)
        run_level(system, client, clock, warm, min(4, args.warm_up), args.timeout)
    measured = []
    for rate in (args.rate, None):
        tag = f"{run}-{rate or 'sat'}"
        elements = applications(applicants, registered_on, tag, args.licences)
        pay_fees(client, applicants, registered_on.year, tag, args.licences)
        filers = args.filers if rate is None else len(elements)
        what = f"{workers} workers, {rate or 'saturation'}, {len(elements)} licences"
        with level_progress(what):
            level = run_level(
                system, client, clock, elements, filers, args.timeout, workers=workers, rate=rate
            )
        measured.append(level)
        print_level(level)
    return measured


if __name__ == "__main__":
    main()
