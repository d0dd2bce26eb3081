"""The fee, the quota and re-filing as an applicant meets them: one fee pays one licence, a
refused applicant may pay and file again, a December fee pays a January licence, and the quota
runs out by the licences issued from it [seed 002, LR p.3, p.7(5), p.7(6)]."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from pathlib import Path

from lxml import etree

from simulators.elicensing import documents
from simulators.elicensing.store import Outcome
from simulators.kit.clock import KZ_TIME
from tests.licensing.world import World, running_world
from tests.simulators.elicensing.samples import applicant, export_application, wheat_application

UNPAID = "200640360888"  # ТОО «Семей Тері»: no licence fee in PEP's fixtures
FEE_2026 = "43250.00"  # 10 × MRP 2026 (4 325)
FEE_2025 = "39320.00"  # 10 × MRP 2025 (3 932)


def _leather(**changes):
    return export_application(number=None, applicant=applicant(UNPAID), **changes)


def _wheat(contract: str):
    form = wheat_application(number=None, applicant=applicant(UNPAID))
    return form.model_copy(
        update={"contract": form.contract.model_copy(update={"number": contract})}
    )


async def test_refused_for_the_fee_then_paid_and_filed_again_is_a_new_licence(
    world: World,
) -> None:
    form = _leather()
    refused = await world.delivered((await world.file(form)).number)
    assert refused.outcome is Outcome.REFUSED and refused.ground_codes == ("R6",)
    await world.pay_fee(UNPAID, FEE_2026, reference="FEE-CURE-1")
    again = await world.file(form)  # the very same form, after the final decision
    assert not again.duplicate and again.number != refused.number
    issued = await world.delivered(again.number)
    assert issued.outcome is Outcome.ISSUED
    assert (await world.status(refused.number))["outcome"] == "REFUSED"  # the old one stands


async def test_one_payment_two_applications_one_licence_and_one_r6_naming_the_payment(
    world: World,
) -> None:
    await world.pay_fee(UNPAID, FEE_2026, reference="FEE-ONCE")
    first = await world.delivered((await world.file(_leather())).number)
    other_contract = _leather().contract.model_copy(update={"number": "ST-18/2026"})
    second = await world.delivered((await world.file(_leather(contract=other_contract))).number)
    assert (first.outcome, second.outcome) == (Outcome.ISSUED, Outcome.REFUSED)
    assert second.ground_codes == ("R6",)
    refusal = documents.parse_refusal(etree.fromstring(second.document_xml.encode()))
    reasoning = refusal.grounds[0].reasoning
    assert f"already paid the licence of application {first.number}" in reasoning


async def test_a_fee_paid_on_31_december_pays_a_licence_registered_on_5_january(
    licensing_pki: Path, tmp_path: Path
) -> None:
    new_years_eve = datetime(2025, 12, 31, 20, 0, tzinfo=KZ_TIME)  # after hours
    async with running_world(licensing_pki, tmp_path, start=new_years_eve) as world:
        await world.pay_fee(UNPAID, FEE_2025, reference="FEE-NYE")  # 10 MRP of 2025
        # The validity starts on the filing day: sound then, though registration comes later.
        filed = await world.file(
            _leather(valid_from=dt.date(2025, 12, 31), valid_to=dt.date(2026, 6, 30))
        )
        assert filed.registered_at == datetime(2026, 1, 5, 9, 0, tzinfo=KZ_TIME)
        world.clock.set(filed.registered_at)
        app = await world.delivered(filed.number)
        assert app.outcome is Outcome.ISSUED, app.grounds
        assert app.completed_at <= filed.deadline


async def test_two_applications_for_the_whole_remaining_quota_one_issued_one_r5(
    world: World,
) -> None:
    await world.pay_fee(UNPAID, FEE_2026, reference="FEE-WHEAT-1")
    await world.pay_fee(UNPAID, FEE_2026, reference="FEE-WHEAT-2")
    [before] = [
        q for q in await world.ops_get("ELICENSE", "/ops/quotas") if q["codePrefix"] == "1001"
    ]
    assert before["remaining"] == "250000"
    first = await world.delivered((await world.file(_wheat("W-1"))).number)
    second = await world.delivered((await world.file(_wheat("W-2"))).number)
    assert (first.outcome, second.outcome) == (Outcome.ISSUED, Outcome.REFUSED)
    assert second.ground_codes == ("R5",)
    [after] = [
        q for q in await world.ops_get("ELICENSE", "/ops/quotas") if q["codePrefix"] == "1001"
    ]
    assert after["remaining"] == "0"
