from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db import create_engine
from gateway.storage.seen_messages import SeenMessages, seen_messages

T0 = datetime(2025, 6, 1, 12, 0, 0, 500000, tzinfo=UTC)


def at(seconds: float):
    return lambda: T0 + timedelta(seconds=seconds)


async def test_first_claim_wins_and_a_repeat_is_refused(engine: AsyncEngine) -> None:
    guard = SeenMessages(engine, clock=at(0))
    expires = T0 + timedelta(minutes=5)
    assert await guard.claim("ELICENSE", "m-1", expires) is True
    assert await guard.claim("ELICENSE", "m-1", expires) is False
    # The key is the pair: another sender may use the same messageId.
    assert await guard.claim("KEDEN", "m-1", expires) is True


async def test_an_expired_claim_can_be_taken_again_once(engine: AsyncEngine) -> None:
    expires = T0 + timedelta(seconds=10)
    assert await SeenMessages(engine, clock=at(0)).claim("S", "m", expires) is True
    assert await SeenMessages(engine, clock=at(9.999999)).claim("S", "m", expires) is False
    later = SeenMessages(engine, clock=at(10))
    assert await later.claim("S", "m", T0 + timedelta(seconds=40)) is True
    # The new claim holds until its own expiry.
    assert await SeenMessages(engine, clock=at(30)).claim("S", "m", expires) is False


async def test_concurrent_claims_from_two_processes_give_exactly_one_winner(
    engine: AsyncEngine, db_url: str
) -> None:
    second = create_engine(db_url)  # another pool, as another gateway process would have
    try:
        guards = [SeenMessages(engine, clock=at(0)), SeenMessages(second, clock=at(0))]
        expires = T0 + timedelta(minutes=5)
        claims = [guards[i % 2].claim("S", "same-id", expires) for i in range(20)]
        results = await asyncio.gather(*claims)
    finally:
        await second.dispose()
    assert results.count(True) == 1


async def test_purge_removes_only_expired_claims(engine: AsyncEngine) -> None:
    guard = SeenMessages(engine, clock=at(0))
    for n, seconds in enumerate([5, 10, 60]):
        await guard.claim("S", f"m-{n}", T0 + timedelta(seconds=seconds))
    assert await guard.purge(T0 + timedelta(seconds=10)) == 2
    async with engine.connect() as conn:
        left = (await conn.execute(select(seen_messages.c.message_id))).scalars().all()
        count = (await conn.execute(select(func.count()).select_from(seen_messages))).scalar()
    assert left == ["m-2"]
    assert count == 1
