"""Each refusal ground R1–R7 through the whole flow: the refusal names exactly that ground."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from signxml import XMLVerifier

from simulators.elicensing import documents
from simulators.elicensing.forms import (
    ActivityLicenceReference,
    Consent,
    Counterparty,
    CounterpartyRole,
    Goods,
    TradeCountry,
    TradeCountryRole,
)
from simulators.elicensing.store import Outcome
from tests.licensing.world import World
from tests.simulators.elicensing.samples import (
    applicant,
    export_application,
    import_application,
)

PAID_EXPORTER = "170640582744"  # ТОО «Алтын Дала Агро», 2026 fee confirmed in PEP
UNPAID = "200640360888"  # ТОО «Семей Тері», no fee in PEP
SUSPENDED_ACTIVITY = "230440501813"  # АО «Тараз Химпром», precursor activity licence SUSPENDED


def _exporter(**changes):
    return export_application(number=None, applicant=applicant(PAID_EXPORTER), **changes)


def _r1():
    app = import_application(number=None)
    wrong = app.applicant.model_copy(update={"name": "ТОО «Другая компания»"})
    return app.model_copy(update={"applicant": wrong})


def _r2():
    return import_application(number=None, valid_to=dt.date(2028, 1, 31))  # > 12 months


def _r3():
    goods = Goods(
        currency="USD",
        value=Decimal("50000"),
        statistical_value=Decimal("50000"),
        origin_country="KZ",
        quantity=Decimal("1000"),
        unit="kg",
        commodity_code="2914110000",
        description="Acetone",
    )
    return export_application(
        number=None,
        applicant=applicant(SUSPENDED_ACTIVITY),
        goods=goods,
        activity_licence=ActivityLicenceReference(number="AL-2021-000230"),
    )


def _r4():
    goods = _exporter().goods.model_copy(
        update={"commodity_code": "7113190000", "description": "Gold jewellery"}
    )
    return _exporter(
        counterparty=Counterparty(role=CounterpartyRole.BUYER, name="Korea Trading", country="KP"),
        trade_country=TradeCountry(role=TradeCountryRole.DESTINATION, country="KP"),
        goods=goods,
    )


def _r5():
    app = import_application(number=None, valid_to=dt.date(2026, 12, 31))
    goods = app.goods.model_copy(
        update={
            "commodity_code": "0207141000",
            "description": "Frozen chicken cuts",
            "quantity": Decimal("20"),
            "unit": "t",
        }
    )
    return app.model_copy(update={"goods": goods})


def _r6():
    return export_application(number=None, applicant=applicant(UNPAID))


def _r7():
    return import_application(number=None, consent=Consent(given=False))


CASES = {"R1": _r1, "R2": _r2, "R3": _r3, "R4": _r4, "R5": _r5, "R6": _r6, "R7": _r7}


@pytest.mark.parametrize("code", sorted(CASES))
async def test_refusal_names_exactly_its_ground(world: World, code: str) -> None:
    form = CASES[code]()
    if code == "R3":
        await world.pay_fee(SUSPENDED_ACTIVITY)  # so that the suspension is the only defect
    filed = await world.file(form)
    app = await world.delivered(filed.number)
    assert app.outcome is Outcome.REFUSED
    assert app.ground_codes == (code,)
    [document] = await world.portal_documents()
    XMLVerifier().verify(document, x509_cert=(world.harness.pki_dir / "ELICENSE.pem").read_bytes())
    refusal = documents.parse_refusal(document)
    assert [g.code.value for g in refusal.grounds] == [code]
    assert refusal.application_number == filed.number
    assert sorted(await world.stages(filed.number)) == [
        "DELIVERED",
        "IN_WORK",
        "REFUSED",
        "REGISTERED",
    ]
    assert await world.keden_records_of(form.applicant.identifier) == []  # nothing to customs
