"""Finding a flow on both databases: by id, by trace, by a number inside a body (including one
with an underscore, which must not act as a LIKE wildcard), across correlationIds."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from connectors.db import create_engine
from gateway.messagelog import MessageLog
from gateway.messagelog.flows import BadSearch, find_flow
from gateway.storage import create_schema
from tests.messagelog.hops import hop
from tests.storage.databases import DATABASE_KINDS, database_url

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
OTHER = "00f067aa0ba902b7a3ce929d0e0e4736"
THIRD = "0af7651916cd43dd8448eb211c80319c"


def _with_body(n: int, text: str, **fields: object):
    body = f"<soap:Envelope><soap:Body><number>{text}</number></soap:Body></soap:Envelope>"
    return hop(n, body=body.encode(), **fields)


@pytest.mark.parametrize("kind", DATABASE_KINDS)
def test_a_flow_is_found_from_anything_known_about_it(kind: str, tmp_path: Path) -> None:
    with database_url(kind, tmp_path) as url:
        asyncio.run(_scenario(url))


async def _scenario(url: str) -> None:
    engine = create_engine(url)
    try:
        await create_schema(engine)
        async with MessageLog(engine) as log:
            await log.append_many(
                [
                    _with_body(1, "ELA-2026-000001", correlation_id="filing", trace_id=TRACE),
                    hop(2, correlation_id="filing", trace_id=TRACE),
                    hop(3, correlation_id="gbdul-lookup", trace_id=TRACE),  # same trace
                    _with_body(4, "KZ-IM-2026-000001", correlation_id="delivery", trace_id=TRACE),
                    hop(5, correlation_id="untraced"),  # no trace: joins by correlationId
                    _with_body(6, "ELAX2026-000009", correlation_id="x", trace_id=THIRD),
                    _with_body(7, "ELA_2026-000009", correlation_id="other", trace_id=OTHER),
                ]
            )
        flow = await find_flow(engine, "KZ-IM-2026-000001")  # a number in one body
        assert [h.seq for h in flow.hops] == [1, 2, 3, 4]
        assert flow.trace_ids == [TRACE]
        assert [h.trace_id for h in flow.hops] == [TRACE] * 4
        assert [h.seq for h in (await find_flow(engine, "gbdul-lookup")).hops] == [1, 2, 3, 4]
        assert [h.seq for h in (await find_flow(engine, TRACE)).hops] == [1, 2, 3, 4]
        assert [h.seq for h in (await find_flow(engine, "msg-5")).hops] == [5]
        # "_" is a character here, not "any character": only the body that has it matches.
        underscore = await find_flow(engine, "ELA_2026-000009")
        assert [h.seq for h in underscore.hops] == [7] and underscore.trace_ids == [OTHER]
        assert (await find_flow(engine, "nothing-like-this")).hops == []
        with pytest.raises(BadSearch):
            await find_flow(engine, "%")
    finally:
        await engine.dispose()
