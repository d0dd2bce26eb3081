"""Deadlines on the working calendar (virtual clock), outages, crashes and redelivery: the licence
still arrives once, within its working day."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from simulators.elicensing.assembly import create_elicense
from simulators.elicensing.store import Outcome, State
from simulators.kit.clock import KZ_TIME
from simulators.kit.database import simulator_database_url
from tests.gateway.harness import GATEWAY_URL
from tests.licensing.world import MONDAY_10, World, running_world
from tests.simulators.elicensing.samples import IMPORTER, import_application
from tests.waiting import eventually


async def _faults(world: World, system: str, body: dict) -> None:
    await world.ops_post(system, "/ops/faults", body)


async def test_friday_evening_before_capital_day_counts_from_tuesday(
    licensing_pki: Path, tmp_path: Path
) -> None:
    friday_19 = datetime(2026, 7, 3, 19, 0, tzinfo=KZ_TIME)  # Monday 6 July is Capital Day
    async with running_world(licensing_pki, tmp_path, start=friday_19) as world:
        filed = await world.file(import_application(number=None))
        assert filed.registered_at == datetime(2026, 7, 7, 9, 0, tzinfo=KZ_TIME)
        assert filed.deadline == datetime(2026, 7, 8, 18, 0, tzinfo=KZ_TIME)
        world.clock.advance(timedelta(days=2))  # the weekend passes: still not registered
        await world.harness.elicense.flow.run_once()
        assert (await world.application(filed.number)).state is State.REGISTERED
        assert await world._stages(filed.number) == []
        world.clock.set(filed.registered_at)  # Tuesday opening: the worker wakes by itself
        app = await world.delivered(filed.number)
        assert app.outcome is Outcome.ISSUED
        assert filed.registered_at <= app.completed_at <= filed.deadline and not app.missed
        sla = await world.harness.elicense.sla()
        assert (sla["issued"], sla["missed"], sla["inProgress"]) == (1, 0, 0)


async def test_gbdul_down_two_hours_completes_after_recovery_within_deadline(world: World) -> None:
    recovery = MONDAY_10 + timedelta(hours=2)
    window = {"start": MONDAY_10.isoformat(), "end": recovery.isoformat()}
    await _faults(world, "GBDUL", {"down": [window]})
    filed = await world.file(import_application(number=None))

    async def retried() -> bool:
        return (await world.application(filed.number)).attempts >= 2

    await eventually(retried)
    app = await world.application(filed.number)
    assert app.state is State.REGISTERED and "Server.Provider" in (app.last_error or "")
    world.clock.set(recovery + timedelta(minutes=1))
    app = await world.delivered(filed.number)
    assert app.outcome is Outcome.ISSUED
    assert recovery < app.completed_at <= app.deadline and not app.missed


async def test_a_missed_deadline_is_counted_not_silent(world: World) -> None:
    await _faults(
        world,
        "GBDUL",
        {
            "down": [
                {"start": MONDAY_10.isoformat(), "end": (MONDAY_10 + timedelta(days=3)).isoformat()}
            ]
        },
    )
    filed = await world.file(import_application(number=None))
    world.clock.set(filed.deadline + timedelta(minutes=1))

    async def missed() -> bool:
        return (await world.application(filed.number)).missed

    await eventually(missed)
    sla = await world.harness.elicense.sla()
    assert (sla["missed"], sla["inProgress"]) == (1, 1)


async def test_crash_after_decision_resumes_on_a_new_instance_without_duplicates(
    licensing_pki: Path, tmp_path: Path
) -> None:
    async with running_world(licensing_pki, tmp_path, worker=False) as world:
        first = world.harness.elicense
        filed = await world.file(import_application(number=None))
        decided = await first.flow.decide_step(await world.application(filed.number))
        assert decided.state is State.DECIDED  # …and here the first process dies
        second = create_elicense(
            licensing_pki,
            simulator_database_url(world.harness.settings),
            gateway_url=GATEWAY_URL,
            http=world.harness.http,
            clock=world.clock,
            retry_delays=(0.05,),
        )
        second.flow.start()
        try:
            app = await _delivered_by(second, filed.number)
            assert app.document_number == decided.document_number  # decided once, not twice
            # a crash between the gateway's ack and the store's mark: every send is repeated
            await second.store.update(
                filed.number,
                state=State.DECIDED.value,
                sent_portal=False,
                sent_keden=False,
                stage_in_work=False,
                stage_decided=False,
                stage_delivered=False,
            )
            second.flow.wake()
            await _delivered_by(second, filed.number)
        finally:
            await second.flow.stop()
            await second.store.close()
        assert len(await world.portal_documents()) == 1
        records = await world.keden_records_of(IMPORTER, at_least=1)
        assert [r.number for r in records] == [decided.document_number]
        assert sorted(await world.stages(filed.number)) == [
            "DELIVERED",
            "IN_WORK",
            "ISSUED",
            "REGISTERED",
        ]


async def _delivered_by(elicense, number: str):
    async def done() -> bool:
        return (await elicense.store.get(number)).state is State.DELIVERED

    try:
        await eventually(done)
    except AssertionError:
        raise AssertionError(str(await elicense.store.get(number))) from None
    return await elicense.store.get(number)


async def test_keden_down_during_delivery_registers_once_after_it_returns(
    licensing_pki: Path, tmp_path: Path
) -> None:
    # The gateway keeps redelivering through the outage (its policy, not ELICENSE's).
    async with running_world(licensing_pki, tmp_path, max_delivery_attempts=10_000) as world:
        await _keden_outage(world)


async def _keden_outage(world: World) -> None:
    back = MONDAY_10 + timedelta(minutes=30)
    await _faults(
        world, "KEDEN", {"down": [{"start": MONDAY_10.isoformat(), "end": back.isoformat()}]}
    )
    filed = await world.file(import_application(number=None))
    # The gateway took the registration (its ack): KEDEN being down is the gateway's to retry.
    app = await world.delivered(filed.number)
    await asyncio.sleep(0.3)  # several redeliveries meet the outage
    assert (await _faults_state(world, "KEDEN"))["down_now"]
    world.clock.set(back + timedelta(minutes=1))
    record = await world.keden_record(app.document_number)
    assert record is not None and record.content.holder_id == IMPORTER
    assert len(await world.keden_records_of(IMPORTER)) == 1


async def _faults_state(world: World, system: str) -> dict:
    return await world.ops_get(system, "/ops/faults")
