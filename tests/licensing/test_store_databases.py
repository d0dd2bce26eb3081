"""The application register on SQLite and on the real PostgreSQL: concurrent intake of the same
application registers it once, and only one worker can decide an application."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from simulators.elicensing.store import ApplicationStore, Kind, NewApplication, StaleState


def _filing(digest: str) -> NewApplication:
    now = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    return NewApplication(
        kind=Kind.LICENCE,
        digest=digest,
        application_xml="<LicenceApplication/>",
        applicant_id="170640582744",
        filed_at=now,
        registered_at=now,
        deadline=now + timedelta(days=1),
    )


async def test_the_same_application_filed_concurrently_is_registered_once(db_url: str) -> None:
    stores = [ApplicationStore(db_url), ApplicationStore(db_url)]  # two "processes"
    try:
        await stores[0].all()  # create the tables once, as a started ELICENSE would
        results = await asyncio.gather(*(s.register(_filing("same")) for s in stores * 3))
        assert len({r.application.number for r in results}) == 1
        assert sum(r.created for r in results) == 1
        other = await stores[1].register(_filing("other"))
        assert other.created and other.application.number.endswith("000002")
    finally:
        for store in stores:
            await store.close()


async def test_only_one_worker_decides(db_url: str) -> None:
    stores = [ApplicationStore(db_url), ApplicationStore(db_url)]
    try:
        number = (await stores[0].register(_filing("decide-me"))).application.number

        def build(sequence: int) -> dict[str, str]:
            return {"document_number": f"KZ-IM-2026-{sequence:06d}", "outcome": "ISSUED"}

        outcomes = await asyncio.gather(
            *(s.decide(number, "licence-2026", build) for s in stores), return_exceptions=True
        )
        decided = [o for o in outcomes if not isinstance(o, Exception)]
        assert len(decided) == 1
        assert all(isinstance(o, StaleState) for o in outcomes if isinstance(o, Exception))
        stored = await stores[1].get(number)
        assert stored.document_number == decided[0].document_number
    finally:
        for store in stores:
            await store.close()
