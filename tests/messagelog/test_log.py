from __future__ import annotations

import asyncio
import hashlib
import sys
from asyncio.subprocess import PIPE

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db import create_engine
from gateway.messagelog import (
    GENESIS_HASH,
    Direction,
    MessageLog,
    MessageLogClosed,
    MessageLogCorrupted,
    Outcome,
)
from gateway.paths import PROJECT_ROOT
from tests.messagelog.hops import envelope, hop


async def test_append_returns_the_committed_record_and_find_reads_it_back(
    engine: AsyncEngine, db_url: str
) -> None:
    async with MessageLog(engine) as log:
        first = await log.append(hop(1))
        await log.append(hop(2, direction=Direction.REQUEST_OUT, outcome=Outcome.DELIVERED))
        await log.append(hop(3, correlation_id="other"))
        fault = await log.append(
            hop(4, direction=Direction.FAULT_OUT, outcome="rejected", fault_code="Client.X")
        )
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
    assert first.body_sha256 == hashlib.sha256(envelope(1)).hexdigest()

    # Read through a separate engine: the records are committed, not just cached.
    reader = create_engine(db_url)
    try:
        found = await MessageLog(reader).find(correlation_id="corr-1")
        by_id = await MessageLog(reader).find(message_id="msg-3")
    finally:
        await reader.dispose()
    assert [r.seq for r in found] == [1, 2, 4]
    assert found[0] == first
    assert found[2] == fault
    assert found[2].direction is Direction.FAULT_OUT and found[2].fault_code == "Client.X"
    assert found[0].body == envelope(1)  # exact bytes, CR LF and UTF-8 intact
    assert [r.message_id for r in by_id] == ["msg-3"]
    assert found[1].prev_hash == found[0].record_hash


async def test_recorded_at_keeps_microseconds_and_utc(engine: AsyncEngine) -> None:
    async with MessageLog(engine) as log:
        await log.append(hop(7))
        (stored,) = await log.find(message_id="msg-7")
    assert stored.recorded_at == hop(7).recorded_at
    assert stored.recorded_at.microsecond == 123463


async def test_find_needs_a_criterion(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError):
        await MessageLog(engine).find()


async def test_concurrent_appends_are_group_committed_into_one_valid_chain(
    engine: AsyncEngine,
) -> None:
    commits = []
    event.listen(engine.sync_engine, "commit", lambda conn: commits.append(1))
    async with MessageLog(engine, batch_size=64) as log:
        stored = await asyncio.gather(*(log.append(hop(n)) for n in range(200)))
        report = await log.verify()
    assert sorted(r.chain_seq for r in stored) == list(range(1, 201))
    assert {r.chain_id for r in stored} == {log.chain_id}
    assert [r.message_id for r in stored] == [f"msg-{n}" for n in range(200)]
    assert report.ok, report
    assert report.records_checked == 200
    assert len(commits) < 200 / 10  # batched: a handful of transactions, not one per record


async def test_two_gateway_processes_write_a_chain_each(engine: AsyncEngine, db_url: str) -> None:
    other = create_engine(db_url)  # its own pool and writer, like a second process
    try:
        async with MessageLog(engine, batch_size=8) as a, MessageLog(other, batch_size=8) as b:
            appends = [(a if n % 2 else b).append(hop(n)) for n in range(120)]
            stored = await asyncio.gather(*appends)
            chain_ids = {a.chain_id, b.chain_id}
        report = await MessageLog(other).verify()
    finally:
        await other.dispose()
    assert len(chain_ids) == 2
    for chain_id in chain_ids:
        mine = sorted(r.chain_seq for r in stored if r.chain_id == chain_id)
        assert mine == list(range(1, 61)), chain_id  # each chain gapless from 1
    assert len({r.seq for r in stored}) == 120  # log-wide numbers never collide
    assert report.ok, report
    assert (report.records_checked, report.head_seq, report.chains_checked) == (120, 120, 2)


async def test_close_drains_queued_appends_and_then_refuses_new_ones(engine: AsyncEngine) -> None:
    log = MessageLog(engine, batch_size=3)
    await log.start()
    pending = [asyncio.create_task(log.append(hop(n))) for n in range(10)]
    await asyncio.sleep(0)  # let every task queue its record
    await log.close()
    # Committed by the time close() returns, before any caller has even resumed.
    async with engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM messagelog_records"))).scalar()
    assert count == 10
    stored = await asyncio.gather(*pending)
    assert sorted(r.chain_seq for r in stored) == list(range(1, 11))
    with pytest.raises(MessageLogClosed):
        await log.append(hop(11))


async def test_a_record_the_database_refuses_fails_only_its_own_caller(
    engine: AsyncEngine,
) -> None:
    async with MessageLog(engine) as log:
        results = await asyncio.gather(
            log.append(hop(1)),
            log.append(hop(2, elapsed_ms=2**70)),  # beyond BIGINT on both databases
            log.append(hop(3)),
            return_exceptions=True,
        )
        report = await log.verify()
    assert isinstance(results[1], Exception)
    # The chain has no gap where the refused record was (log-wide numbers on PostgreSQL may).
    assert sorted(r.chain_seq for r in (results[0], results[2])) == [1, 2]
    assert report.ok and report.records_checked == 2


async def test_a_missing_chain_row_stops_appends(engine: AsyncEngine) -> None:
    async with MessageLog(engine) as log:
        await log.append(hop(1))
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM messagelog_chains"))
        with pytest.raises(MessageLogCorrupted):
            await log.append(hop(2))
    assert len(await log.find(correlation_id="corr-1")) == 1  # nothing written past it


_APPENDER = """
import asyncio, sys
from gateway.messagelog import MessageLog
from gateway.paths import PROJECT_ROOT
from connectors.db import create_engine
from tests.messagelog.hops import hop

async def main(url, tag):
    engine = create_engine(url)
    async with MessageLog(engine, batch_size=5) as log:
        print("ready", flush=True)
        sys.stdin.readline()  # both processes start appending at the same moment
        await asyncio.gather(*(log.append(hop(n, correlation_id=tag)) for n in range(60)))
    await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_two_os_processes_write_a_chain_each(engine: AsyncEngine, db_url: str) -> None:
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _APPENDER, db_url, tag, cwd=PROJECT_ROOT, stdin=PIPE, stdout=PIPE
        )
        for tag in ("proc-a", "proc-b")
    ]
    for proc in procs:
        assert await proc.stdout.readline() == b"ready\n"  # type: ignore[union-attr]
    for proc in procs:
        proc.stdin.write(b"go\n")  # type: ignore[union-attr]
    assert [await proc.wait() for proc in procs] == [0, 0]
    log = MessageLog(engine)
    report = await log.verify()
    assert report.ok, report
    assert (report.records_checked, report.chains_checked) == (120, 2)
    found = await log.find(correlation_id="proc-b")
    assert [r.chain_seq for r in found] == list(range(1, 61))
    assert len({r.chain_id for r in found}) == 1


async def test_append_many_keeps_the_given_order_in_the_chain(engine: AsyncEngine) -> None:
    from gateway.messagelog import MessageLog

    async with MessageLog(engine) as log:
        hops = [hop(i, correlation_id="many", message_id=f"m{i}") for i in range(5)]
        stored = await log.append_many(hops)
        assert [r.message_id for r in stored] == [f"m{i}" for i in range(5)]
        assert [r.seq for r in stored] == sorted(r.seq for r in stored)
        assert (await log.verify()).ok


async def test_a_claim_is_taken_with_its_hops_or_nothing_is_written(engine: AsyncEngine) -> None:
    from datetime import UTC, datetime, timedelta

    from gateway.messagelog import AlreadyClaimed, MessageClaim, MessageLog

    now = datetime.now(UTC)
    claim = MessageClaim("EGOV_PORTAL", "m-1", now + timedelta(minutes=5), now)
    async with MessageLog(engine) as log:
        first, replay = await asyncio.gather(
            log.append_many([hop(1, message_id="m-1"), hop(2, message_id="m-1")], claim=claim),
            log.append_many([hop(3, message_id="m-1")], claim=claim),
            return_exceptions=True,
        )
        assert [r.chain_seq for r in first] == [1, 2]
        assert isinstance(replay, AlreadyClaimed)
        assert len(await log.find(message_id="m-1")) == 2
        other_sender = MessageClaim("ELICENSE", "m-1", now + timedelta(minutes=5), now)
        assert len(await log.append_many([hop(4)], claim=other_sender)) == 1
        expired = MessageClaim(
            "EGOV_PORTAL", "m-1", now + timedelta(hours=1), now + timedelta(minutes=6)
        )
        assert len(await log.append_many([hop(5)], claim=expired)) == 1
        assert (await log.verify()).ok
