"""KEDEN's declaration store on SQLite and PostgreSQL: a release writes off exactly once, even
when it races itself; two declarations cannot both take the same rest; state survives restarts."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from decimal import Decimal

import pytest

from simulators.customs.declaration_store import DeclarationStore, StaleDeclaration
from simulators.customs.declarations import (
    ControlForm,
    DeclarationItem,
    DeclarationStatus,
    ExportDeclaration,
    PaymentMethod,
)
from simulators.customs.models import (
    DocumentKind,
    GoodsItem,
    RecordContent,
    RecordStatus,
    TradeCountryRole,
    TradeType,
)
from simulators.customs.store import RecordStore
from simulators.kit.clock import KZ_TIME

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=KZ_TIME)
HOLDER = "170640582744"
LICENCE = "KZ-EX-2026-000001"


def clock() -> datetime:
    return NOW


def licence() -> RecordContent:
    return RecordContent(
        number=LICENCE,
        kind=DocumentKind.LICENCE,
        trade_type=TradeType.EXPORT,
        valid_from=date(2026, 11, 23),
        valid_to=date(2027, 6, 30),
        holder_id=HOLDER,
        holder_name="ТОО «Алтын Дала Агро»",
        trade_country="IT",
        trade_country_role=TradeCountryRole.DESTINATION,
        quantity=Decimal("40000"),
        unit="kg",
        goods=(GoodsItem("4107129100", "leather"),),
        issuer="ELICENSE",
        issue_date=date(2026, 11, 23),
    )


def declaration(reference: str, quantity: str) -> ExportDeclaration:
    return ExportDeclaration(
        filing_reference=reference,
        procedure="EXPORT",
        declarant_id=HOLDER,
        declarant_name="ТОО «Алтын Дала Агро»",
        payment_method=PaymentMethod.PERSONAL_ACCOUNT,
        items=(
            DeclarationItem(
                "4107129100",
                "leather",
                Decimal(quantity),
                "kg",
                Decimal("1"),
                "EUR",
                "KZ",
                "IT",
                (LICENCE,),
            ),
        ),
    )


async def in_control(store: DeclarationStore, reference: str, quantity: str) -> str:
    submitted, _ = await store.submit(
        declaration(reference, quantity), submitted_at=NOW, deadline=NOW
    )
    await store.register(submitted.number, late=False, text_="registered")
    await store.start_control(submitted.number, [ControlForm.DOCUMENTARY_CHECK], NOW)
    return submitted.number


@pytest.fixture
async def stores(db_url: str):
    records = RecordStore(db_url, clock)
    await records.register(licence(), message_id="m-1")
    store = DeclarationStore(db_url, clock)
    yield records, store
    await store.close()
    await records.close()


async def test_a_release_racing_itself_writes_off_once(stores) -> None:
    records, store = stores
    number = await in_control(store, "R-1", "15000")
    outcomes = await asyncio.gather(
        *(store.release(number, "released") for _ in range(5)), return_exceptions=True
    )
    assert sum(1 for o in outcomes if not isinstance(o, BaseException)) == 1
    assert all(isinstance(o, StaleDeclaration) for o in outcomes if isinstance(o, BaseException))
    record = await records.by_number(LICENCE)
    assert record is not None and record.remaining_quantity == Decimal("25000")
    assert [w.quantity for w in await store.write_offs(LICENCE)] == [Decimal("15000")]


async def test_two_declarations_cannot_both_take_the_rest(stores) -> None:
    records, store = stores
    first = await in_control(store, "R-A", "30000")
    second = await in_control(store, "R-B", "30000")
    decided = await asyncio.gather(
        store.release(first, "released"), store.release(second, "released")
    )
    assert sorted(d.status.value for d in decided) == ["RELEASE_PERMITTED", "RELEASE_REFUSED"]
    [refused] = [d for d in decided if d.status is DeclarationStatus.RELEASE_REFUSED]
    assert [r.code for r in refused.reasons] == ["PERMIT_QUANTITY_EXCEEDED"]
    record = await records.by_number(LICENCE)
    assert record is not None and record.remaining_quantity == Decimal("10000")


async def test_writing_off_everything_exhausts_the_record(stores) -> None:
    records, store = stores
    number = await in_control(store, "R-ALL", "40000")
    await store.release(number, "released")
    record = await records.by_number(LICENCE)
    assert record is not None and record.status is RecordStatus.EXHAUSTED
    assert record.remaining_quantity == 0 and number in (record.status_reason or "")


async def test_filing_is_durable_and_the_same_reference_is_one_declaration(
    stores, db_url: str
) -> None:
    _, store = stores
    first, created = await store.submit(declaration("R-D", "5"), submitted_at=NOW, deadline=NOW)
    assert created
    restarted = DeclarationStore(db_url, clock)
    try:
        again, created = await restarted.submit(
            declaration("R-D", "5"), submitted_at=NOW, deadline=NOW
        )
        assert (again.number, created) == (first.number, False)
        assert [e.status for e in await restarted.events_of(first.number)] == [
            DeclarationStatus.SUBMITTED
        ]
        assert (await restarted.get(first.number)).content == declaration("R-D", "5")
    finally:
        await restarted.close()


async def test_earlier_filings_hold_quantity_for_later_ones(stores) -> None:
    _, store = stores
    first, _ = await store.submit(declaration("R-1", "30000"), submitted_at=NOW, deadline=NOW)
    second, _ = await store.submit(declaration("R-2", "5000"), submitted_at=NOW, deadline=NOW)
    assert await store.reserved(ahead_of=first) == {}
    assert await store.reserved(ahead_of=second) == {LICENCE: Decimal("30000")}
    assert await store.reserved() == {LICENCE: Decimal("35000")}
