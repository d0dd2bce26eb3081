"""Tampering with the stored log in raw SQL, as someone with database access would."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.messagelog import MessageLog, Problem, VerifyReport
from gateway.messagelog.schema import COLUMN_NAMES, records
from tests.messagelog.hops import hop

RECORDS = 5


@pytest.fixture
async def log(engine: AsyncEngine) -> AsyncIterator[MessageLog]:
    async with MessageLog(engine) as log:
        for n in range(1, RECORDS + 1):
            await log.append(hop(n, fault_code=None if n % 2 else "Client.Auth.WrongPassword"))
        yield log


async def read_row(engine: AsyncEngine, seq: int) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(select(records).where(records.c.seq == seq))).one()


async def set_columns(engine: AsyncEngine, seq: int, **values: Any) -> None:
    async with engine.begin() as conn:
        await conn.execute(update(records).where(records.c.seq == seq).values(**values))


def assert_fails(report: VerifyReport, seq: int | None, problem: Problem) -> None:
    assert not report.ok
    assert (report.first_bad_seq, report.problem) == (seq, problem), report


async def test_an_intact_log_verifies(log: MessageLog) -> None:
    report = await log.verify()
    assert report.ok, report
    assert (report.records_checked, report.head_seq, report.problem) == (RECORDS, RECORDS, None)


async def test_an_empty_log_verifies(engine: AsyncEngine) -> None:
    report = await MessageLog(engine).verify()
    assert report.ok and report.records_checked == 0 and report.head_seq == 0


@pytest.mark.parametrize("position", [0, 150, -1])
async def test_one_changed_body_byte_is_found(
    log: MessageLog, engine: AsyncEngine, position: int
) -> None:
    body = bytearray((await read_row(engine, 3)).body)
    body[position] ^= 0x01
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE messagelog_records SET body = :b WHERE seq = 3"), {"b": bytes(body)}
        )
    report = await log.verify()
    assert_fails(report, 3, Problem.BODY_CHANGED)
    assert report.records_checked == 2


async def test_a_changed_body_with_a_recomputed_digest_is_found(
    log: MessageLog, engine: AsyncEngine
) -> None:
    body = (await read_row(engine, 2)).body.replace(b"2</data>", b"9</data>")
    await set_columns(engine, 2, body=body, body_sha256=hashlib.sha256(body).hexdigest())
    assert_fails(await log.verify(), 2, Problem.EDITED)


def _edits(row: Any) -> dict[str, Any]:
    """One plausible edit per column other than the body and the sequence number."""
    return {
        "recorded_at": row.recorded_at + timedelta(microseconds=1),
        "message_id": row.message_id + "x",
        "correlation_id": row.correlation_id + "x",
        "service_id": row.service_id + "x",
        "sender_id": "KEDEN",
        "receiver_id": "KGD",
        "direction": "response-out",
        "outcome": "failed",
        "fault_code": "Server.Internal",
        "security_policy": "emulator",
        "elapsed_ms": row.elapsed_ms + 1,
        "prev_hash": "e" * 64,
        "record_hash": "d" * 64,
    }


@pytest.mark.parametrize(
    "column",
    [
        "recorded_at",
        "message_id",
        "correlation_id",
        "service_id",
        "sender_id",
        "receiver_id",
        "direction",
        "outcome",
        "fault_code",
        "security_policy",
        "elapsed_ms",
        "prev_hash",
        "record_hash",
    ],
)
async def test_an_edited_metadata_column_is_found(
    log: MessageLog, engine: AsyncEngine, column: str
) -> None:
    row = await read_row(engine, 4)
    await set_columns(engine, 4, **{column: _edits(row)[column]})
    assert_fails(await log.verify(), 4, Problem.EDITED)


async def test_an_edited_digest_is_found(log: MessageLog, engine: AsyncEngine) -> None:
    await set_columns(engine, 4, body_sha256="f" * 64)
    report = await log.verify()
    assert not report.ok and report.first_bad_seq == 4


async def test_clearing_an_optional_column_is_found(log: MessageLog, engine: AsyncEngine) -> None:
    await set_columns(engine, 4, fault_code=None)
    assert_fails(await log.verify(), 4, Problem.EDITED)


@pytest.mark.parametrize("seq", [1, 3])
async def test_a_deleted_record_is_found(log: MessageLog, engine: AsyncEngine, seq: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(records).where(records.c.seq == seq))
    report = await log.verify()
    assert_fails(report, seq, Problem.REMOVED)
    assert report.records_checked == seq - 1


async def test_a_deleted_last_record_is_found_through_the_head(
    log: MessageLog, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(records).where(records.c.seq == RECORDS))
    report = await log.verify()
    assert_fails(report, RECORDS, Problem.TRUNCATED)
    assert report.records_checked == RECORDS - 1


async def test_deleting_the_last_record_and_rewinding_the_head_is_found_by_hash(
    log: MessageLog, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(records).where(records.c.seq == RECORDS))
        await conn.execute(text("UPDATE messagelog_chains SET length = length - 1"))
    assert_fails(await log.verify(), RECORDS - 1, Problem.HEAD_MISMATCH)


async def test_a_deleted_head_is_found(log: MessageLog, engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM messagelog_chains"))
    assert_fails(await log.verify(), None, Problem.HEAD_MISSING)


async def swap(engine: AsyncEngine, a: int, b: int, columns: list[str]) -> None:
    row_a, row_b = await read_row(engine, a), await read_row(engine, b)
    async with engine.begin() as conn:
        await conn.execute(delete(records).where(records.c.seq.in_([a, b])))
        for seq, source, target in ((a, row_b, row_a), (b, row_a, row_b)):
            values = {name: getattr(target, name) for name in COLUMN_NAMES}
            values.update({name: getattr(source, name) for name in columns})
            await conn.execute(insert(records).values({**values, "seq": seq}))


# Everything but the position (log-wide and in the chain).
ALL_BUT_SEQ = [name for name in COLUMN_NAMES if name not in ("seq", "chain_id", "chain_seq")]


async def test_two_swapped_records_are_found_as_reordered(
    log: MessageLog, engine: AsyncEngine
) -> None:
    await swap(engine, 2, 4, ALL_BUT_SEQ)
    report = await log.verify()
    assert_fails(report, 2, Problem.REORDERED)
    assert "record 4" in report.detail


async def test_swapped_contents_under_the_original_hashes_are_found(
    log: MessageLog, engine: AsyncEngine
) -> None:
    contents = [n for n in ALL_BUT_SEQ if n not in ("prev_hash", "record_hash")]
    await swap(engine, 2, 4, contents)
    assert_fails(await log.verify(), 2, Problem.EDITED)


async def test_a_renumbered_chain_after_a_deletion_is_found(
    log: MessageLog, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(records).where(records.c.seq == 3))
        for seq in (4, 5):
            renumbered = {"seq": seq - 1, "chain_seq": seq - 1}
            await conn.execute(update(records).where(records.c.seq == seq).values(renumbered))
        await conn.execute(text("UPDATE messagelog_chains SET length = 4"))
    assert_fails(await log.verify(), 3, Problem.EDITED)


async def test_verify_keeps_working_after_appends_resume(
    log: MessageLog, engine: AsyncEngine
) -> None:
    # Appends after an intact verify extend the same chain from the head.
    await log.append(hop(99))
    report = await log.verify()
    assert report.ok and report.records_checked == RECORDS + 1
