"""The contract's electronic copy travels with the application through the gateway [seed 002,
LR p.4(2)]: without it the application is refused under R1, and a contract E-licensing knows to
be terminated is a stopped basis document, R3 [LR p.7(3)]."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from simulators.elicensing import documents
from simulators.elicensing.forms import CONTRACT_COPY_LABEL, Contract
from simulators.elicensing.store import Outcome
from tests.licensing.world import World
from tests.simulators.elicensing.samples import applicant, contract_copy, export_application

SEMEY_TERI = "200640360888"  # ТОО «Семей Тері»; its contract ST-09/2025 is TERMINATED


async def _refusal_reasoning(world: World, form) -> tuple[tuple[str, ...], str]:
    await world.pay_fee(SEMEY_TERI, "43250.00", reference="FEE-COPY")
    app = await world.delivered((await world.file(form)).number)
    assert app.outcome is Outcome.REFUSED
    refusal = documents.parse_refusal(etree.fromstring(app.document_xml.encode()))
    return app.ground_codes, refusal.grounds[0].reasoning


async def test_an_application_without_the_contract_copy_is_refused_under_r1(world: World) -> None:
    form = export_application(number=None, applicant=applicant(SEMEY_TERI), contract_copy=None)
    codes, reasoning = await _refusal_reasoning(world, form)
    assert codes == ("R1",) and CONTRACT_COPY_LABEL in reasoning


async def test_a_terminated_contract_is_refused_under_r3(world: World) -> None:
    contract = Contract(number="ST-09/2025", date=dt.date(2025, 3, 1))
    form = export_application(
        number=None,
        applicant=applicant(SEMEY_TERI),
        contract=contract,
        contract_copy=contract_copy(contract.number),
    )
    codes, reasoning = await _refusal_reasoning(world, form)
    assert codes == ("R3",)
    assert "contract No. ST-09/2025 of 2025-03-01 is TERMINATED since 2026-06-30" in reasoning
