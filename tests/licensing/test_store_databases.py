"""The application register on SQLite and on the real PostgreSQL: concurrent intake of the same
application registers it once, only one worker can decide an application, and two decisions
racing for one fee payment or for the whole remaining quota issue one licence, not two."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from simulators.elicensing.flow import licence_verdict
from simulators.elicensing.grounds import Outcome as DecisionOutcome
from simulators.elicensing.ledger import Ledger, Verdict
from simulators.elicensing.store import (
    Application,
    ApplicationStore,
    Kind,
    NewApplication,
    Outcome,
    StaleState,
)
from tests.simulators.elicensing.samples import (
    EXPORTER,
    REGISTERED_ON,
    export_application,
    facts_for,
    fee,
    wheat_application,
)


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

        async def judge(ledger: Ledger) -> Verdict:
            return Verdict("licence-2026", build)

        outcomes = await asyncio.gather(
            *(s.decide(number, judge) for s in stores), return_exceptions=True
        )
        decided = [o for o in outcomes if not isinstance(o, Exception)]
        assert len(decided) == 1
        assert all(isinstance(o, StaleState) for o in outcomes if isinstance(o, Exception))
        stored = await stores[1].get(number)
        assert stored.document_number == decided[0].document_number
    finally:
        for store in stores:
            await store.close()


async def test_a_decided_application_filed_again_is_a_new_registration(db_url: str) -> None:
    store = ApplicationStore(db_url)
    try:
        first = (await store.register(_filing("same-form"))).application
        again = await store.register(_filing("same-form"))  # still undecided: the same one
        assert not again.created and again.application.number == first.number

        def refused(sequence: int) -> dict[str, str]:
            return {"document_number": f"KZ-RF-2026-{sequence:06d}", "outcome": "REFUSED"}

        async def judge(ledger: Ledger) -> Verdict:
            return Verdict("refusal-2026", refused)

        await store.decide(first.number, judge)
        refiled = await store.register(_filing("same-form"))  # after the decision: a new one
        assert refiled.created and refiled.application.number != first.number
    finally:
        await store.close()


class _Rendezvous:
    """Both deciders hold a verdict before either commits (on PostgreSQL; SQLite's write lock
    serialises them, so the first waits out the timeout alone)."""

    def __init__(self, parties: int) -> None:
        self._parties, self._arrived, self._all = parties, 0, asyncio.Event()

    async def meet(self) -> None:
        self._arrived += 1
        if self._arrived >= self._parties:
            self._all.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all.wait(), 0.5)


def _outcome_columns(decision) -> Callable[[int], dict[str, str]]:
    def build(sequence: int) -> dict[str, str]:
        if decision.outcome is DecisionOutcome.ISSUE:
            return {"document_number": f"KZ-EX-2026-{sequence:06d}", "outcome": "ISSUED"}
        return {
            "document_number": f"KZ-RF-2026-{sequence:06d}",
            "outcome": "REFUSED",
            "grounds": ",".join(decision.codes),
        }

    return build


async def _race(db_url: str, form, facts) -> tuple[list[Application], ApplicationStore]:
    """Two ELICENSE processes decide two applications on the same facts at the same moment."""
    stores = [ApplicationStore(db_url), ApplicationStore(db_url)]
    numbers = [(await stores[0].register(_filing(f"race-{i}"))).application.number for i in (1, 2)]
    rendezvous = _Rendezvous(2)

    async def judge(ledger: Ledger) -> Verdict:
        verdict = await licence_verdict(ledger, form, facts, REGISTERED_ON, _outcome_columns)
        await rendezvous.meet()
        return verdict

    decided = await asyncio.gather(
        *(s.decide(n, judge) for s, n in zip(stores, numbers, strict=True))
    )
    await stores[1].close()
    return sorted(decided, key=lambda a: a.outcome.value), stores[0]


async def test_one_payment_two_applications_racing_issue_one_licence(db_url: str) -> None:
    form = export_application(number=None)
    (issued, refused), store = await _race(db_url, form, facts_for(form))  # one payment
    try:
        assert (issued.outcome, refused.outcome) == (Outcome.ISSUED, Outcome.REFUSED)
        assert refused.ground_codes == ("R6",)
        assert await store.fee_uses() == {"PEP-SAMPLE-0001": issued.number}
    finally:
        await store.close()


async def test_two_applications_for_the_whole_quota_issue_one_and_the_quota_reads_zero(
    db_url: str,
) -> None:
    form = wheat_application(number=None)
    payments = (fee(EXPORTER), replace(fee(EXPORTER), payment_id="PEP-SAMPLE-0002"))
    facts = facts_for(form, payments=payments)
    assert facts.quota.remaining == Decimal("250000")  # the whole 2026 remainder, per records
    (issued, refused), store = await _race(db_url, form, facts)
    try:
        assert (issued.outcome, refused.outcome) == (Outcome.ISSUED, Outcome.REFUSED)
        assert refused.ground_codes == ("R5",)
        assert await store.quota_remaining(facts.quota.key, Decimal("250000")) == 0
    finally:
        await store.close()
