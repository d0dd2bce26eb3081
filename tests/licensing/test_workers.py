"""ELICENSE's pool of deciding workers, on SQLite and on the real PostgreSQL: a claim gives an
application to one worker at a time, many applications on several workers are each decided once
and each delivered once, and a worker that died holding a claim delays its application only
until the lease expires, while a live worker slower than the lease keeps its claim."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy.engine import make_url

from simulators.elicensing import documents
from simulators.elicensing.claims import Claims
from simulators.elicensing.store import ApplicationStore, Kind, NewApplication, Outcome, State
from tests.licensing.world import MONDAY_10, Filed, World, running_world
from tests.services import delete_broker_namespace, require_rabbitmq
from tests.simulators.elicensing.samples import FEE_2026, IMPORTER, import_application
from tests.waiting import eventually

pytestmark = pytest.mark.slow  # a whole system: scheduled first (tests/conftest.py)

WORKERS = 8
# The issue's 200 on PostgreSQL + RabbitMQ, the setup that scales out: row claims with SKIP
# LOCKED, the broker off the database. An application costs ~0.35 s of this process's CPU (its
# ~10 gateway exchanges — filing, three registry questions, four stages, the cabinet, KEDEN —
# each signed, verified, logged and tracked; the providers take a tenth of it), so 200 take ~70 s
# of CPU: minutes of wall time on a loaded CI machine. The single-file default (SQLite, the
# embedded broker on it) shows the same with 24, which keep the 8 workers busy all along.
APPLICATIONS = {"sqlite": 24, "postgresql": 200}


def _filing(i: int, registered_at: datetime) -> NewApplication:
    return NewApplication(
        kind=Kind.LICENCE,
        digest=f"digest-{i}",
        application_xml="<LicenceApplication/>",
        applicant_id=IMPORTER,
        filed_at=registered_at,
        registered_at=registered_at,
        deadline=registered_at + timedelta(days=1),
    )


async def test_a_claim_gives_each_due_application_to_one_worker(db_url: str) -> None:
    """Two "processes" with four claimers each race for 40 due applications (and one not due
    yet): each due one is claimed exactly once; a claim holds until released or expired."""
    stores = [ApplicationStore(db_url), ApplicationStore(db_url)]
    now = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    try:
        for i in range(40):
            await stores[0].register(_filing(i, now))
        await stores[0].register(_filing(99, now + timedelta(hours=1)))  # registered later
        claimed: list[str] = []

        async def claimer(claims: Claims, name: str) -> None:
            # Bounded: with claims that are not exclusive the same rows come back forever.
            while len(claimed) <= 40 and (app := await claims.claim(name, now)) is not None:
                claimed.append(app.number)
                await asyncio.sleep(0)  # let the others race for the next one

        claim_sets = [Claims(s, lease=60.0) for s in stores]
        await asyncio.gather(
            *(claimer(c, f"w{p}-{i}") for p, c in enumerate(claim_sets) for i in range(4))
        )
        assert len(claimed) == 40
        assert Counter(claimed).most_common(1)[0][1] == 1  # nobody took one twice
        first = claimed[0]
        assert await claim_sets[1].claim("late", now) is None  # all held
        # Released with a backoff: free again only after it; released plainly: free at once.
        assert await claim_sets[0].release(first, "not-the-holder") is False
        holder = (await stores[0].get(first)).claimed_by
        assert await claim_sets[0].release(first, holder, retry_in=0.3)
        assert await claim_sets[1].claim("late", now) is None
        await asyncio.sleep(0.35)
        assert (await claim_sets[1].claim("late", now)).number == first
        # A dead worker's claim, on a short lease, is taken over once it expires.
        short = Claims(stores[1], lease=0.2)
        assert await short.release(first, "late")
        assert (await short.claim("dies", now)).number == first
        assert await claim_sets[0].claim("heir", now) is None
        await asyncio.sleep(0.25)
        taken = await claim_sets[0].claim("heir", now)
        assert taken is not None and taken.number == first and taken.claimed_by == "heir"
    finally:
        for store in stores:
            await store.close()


@pytest.mark.timeout(900)  # 200 applications on a loaded two-core machine
async def test_many_applications_on_several_workers_each_decided_and_delivered_once(
    licensing_pki: Path, tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KZGATE_ELICENSE_WORKERS", str(WORKERS))
    backend = make_url(db_url).get_backend_name()
    n, fees = APPLICATIONS[backend], 6
    broker: dict[str, str] = {}
    if backend == "postgresql":
        namespace = f"test-{uuid.uuid4().hex[:12]}."
        broker = {
            "broker": "rabbitmq",
            "amqp_url": require_rabbitmq(),
            "broker_namespace": namespace,
        }
    try:
        await _decide_and_deliver_many(licensing_pki, tmp_path, db_url, n, fees, broker)
    finally:
        if broker:
            await delete_broker_namespace(broker["amqp_url"], namespace, licensing_pki)


async def _decide_and_deliver_many(
    licensing_pki: Path, tmp_path: Path, db_url: str, n: int, fees: int, broker: dict[str, str]
) -> None:
    async with running_world(licensing_pki, tmp_path, database_url=db_url, **broker) as world:
        flow = world.harness.elicense.flow
        assert flow.workers == WORKERS
        for i in range(fees):  # fewer fees than applications: the workers race for them
            await world.pay_fee(IMPORTER, f"{FEE_2026:.2f}", reference=f"FEE-POOL-{i}")
        gbdul_before = await _gbdul_answers(world)
        contracts = [f"POOL-{i:03d}" for i in range(n)]
        portal = asyncio.Semaphore(8)  # the portal files while the workers decide

        async def file(contract: str) -> Filed:
            async with portal:
                return await world.file(_application(contract))

        filed = await asyncio.gather(*(file(c) for c in contracts))
        numbers = {f.number for f in filed}
        assert len(numbers) == n and not any(f.duplicate for f in filed)

        async def all_delivered() -> bool:
            await asyncio.sleep(0.5)  # the check reads every row: not 50 times a second
            apps = await world.harness.elicense.store.unfinished()
            return not any(a.number in numbers for a in apps)

        await eventually(all_delivered, seconds=600)
        apps = [a for a in await world.harness.elicense.store.all() if a.number in numbers]
        issued = {a.number for a in apps if a.outcome is Outcome.ISSUED}
        refused = [a for a in apps if a.outcome is Outcome.REFUSED]
        # Decided once each: one document number each, no gap, the facts gathered once each.
        numbered = [a.document_number for a in apps]
        assert len(set(numbered)) == n
        assert len(issued) + len(refused) == n and {a.ground_codes for a in refused} == {("R6",)}
        assert await _gbdul_answers(world) - gbdul_before == n
        # One fee, one licence: each issued licence holds a payment no other licence holds.
        uses = await world.harness.elicense.store.fee_uses()
        assert sorted(a for a in uses.values() if a in numbers) == sorted(issued)
        assert len(issued) >= fees
        # On time, on the frozen business clock; nothing missed.
        assert all(a.completed_at <= a.deadline and not a.missed for a in apps)
        # Every delivery once: one cabinet document, one customs record per licence, four
        # stages each.
        cabinet = await world.portal_documents(at_least=n)
        delivered = Counter(_number_of(d) for d in cabinet)
        assert set(delivered) == set(numbered) and max(delivered.values()) == 1
        records = await world.keden_records_of(IMPORTER, at_least=len(issued))
        assert sorted(r.number for r in records if r.number in set(numbered)) == sorted(
            a.document_number for a in apps if a.number in issued
        )

        # The last stage's push follows the gateway's ack, which DELIVERED waited for: wait for
        # every stage to arrive, then count.
        async def stages() -> Counter[tuple[str, object]]:
            return Counter(
                (event.application_number, event.stage)
                for event in await world.stage_events()
                if event.application_number in numbers
            )

        async def every_stage() -> bool:
            return len(await stages()) == 4 * n

        await eventually(every_stage)
        await asyncio.sleep(0.1)  # a duplicate, were there one, would land now
        assert max((await stages()).values()) == 1


async def test_a_worker_that_died_holding_a_claim_delays_its_application_until_the_lease_ends(
    licensing_pki: Path, tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lease = 1.5
    monkeypatch.setenv("KZGATE_ELICENSE_CLAIM_LEASE_SECONDS", str(lease))
    async with running_world(licensing_pki, tmp_path, worker=False, database_url=db_url) as world:
        filed = await world.file(import_application(number=None))
        # Another process claims the application, takes it into work, and is killed -9: its
        # claim stays in the register, nobody releases it.
        dead = ApplicationStore(db_url)
        try:
            held = await Claims(dead, lease=lease).claim("killed-worker", MONDAY_10)
            assert held is not None and held.number == filed.number
            await dead.update(filed.number, in_work_at=world.clock.now())
        finally:
            await dead.close()
        world.harness.elicense.flow.start()
        await asyncio.sleep(lease / 2)
        app = await world.application(filed.number)
        assert app.state is State.REGISTERED and app.claimed_by == "killed-worker"
        app = await world.delivered(filed.number, seconds=lease + 10)
        assert app.outcome is Outcome.ISSUED and app.document_number.endswith("000001")
        assert app.in_work_at == MONDAY_10  # the dead worker's step stands, resumed
        await _issued_and_delivered_once(world, filed.number, app.document_number)


async def test_a_decision_slower_than_the_lease_keeps_its_claim_and_is_decided_once(
    licensing_pki: Path, tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GBDUL answers ELICENSE's question after more than three leases: the worker asking renews
    its claim meanwhile, so none of the idle workers takes the application over and asks again
    — GBDUL is asked once, one decision, one document, every delivery once."""
    lease, slow = 1.5, 5.0
    monkeypatch.setenv("KZGATE_ELICENSE_CLAIM_LEASE_SECONDS", str(lease))
    monkeypatch.setenv("KZGATE_ELICENSE_WORKERS", "4")
    async with running_world(licensing_pki, tmp_path, worker=False, database_url=db_url) as world:
        await world.pay_fee(IMPORTER, f"{FEE_2026:.2f}", reference="FEE-SLOW-1")
        filed = await world.file(import_application(number=None))
        gbdul_before = await _gbdul_answers(world)
        await world.ops_post("GBDUL", "/ops/faults", {"kind": "slow", "seconds": slow})
        world.harness.elicense.flow.start()

        async def claimed() -> bool:
            return (await world.application(filed.number)).claimed_by is not None

        await eventually(claimed)
        holder = (await world.application(filed.number)).claimed_by
        await asyncio.sleep(2 * lease)  # GBDUL still thinking; the lease would have run out
        app = await world.application(filed.number)
        assert app.state is State.REGISTERED and app.claimed_by == holder

        app = await world.delivered(filed.number, seconds=slow + 30)
        assert app.outcome is Outcome.ISSUED and app.document_number.endswith("000001")
        assert await _gbdul_answers(world) - gbdul_before == 1  # the facts gathered once
        await _issued_and_delivered_once(world, filed.number, app.document_number)


def _application(contract: str):
    form = import_application(number=None)
    return form.model_copy(
        update={"contract": form.contract.model_copy(update={"number": contract})}
    )


def _number_of(document: etree._Element) -> str:
    """The number of a licence or a motivated refusal the cabinet received."""
    if etree.QName(document).localname == "Licence":
        return documents.parse_licence(document).number
    return documents.parse_refusal(document).number


async def _gbdul_answers(world: World) -> int:
    """How many requests GBDUL answered (its ``/metrics``): ELICENSE asks it once a decision."""
    async with world._ops_client("GBDUL") as http:
        text = (await http.get("/metrics")).text
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in text.splitlines()
        if line.startswith("kzgate_simulator_requests_total{") and 'channel="sync"' in line
    )


async def _issued_and_delivered_once(world: World, number: str, document_number: str) -> None:
    """One licence in the cabinet, one customs record, each stage reported once."""
    [document] = await world.portal_documents()
    assert _number_of(document) == document_number
    records = await world.keden_records_of(IMPORTER, at_least=1)
    assert [r.number for r in records] == [document_number]
    assert sorted(await world.stages(number)) == ["DELIVERED", "IN_WORK", "ISSUED", "REGISTERED"]
