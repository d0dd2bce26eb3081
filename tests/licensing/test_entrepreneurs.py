"""An individual entrepreneur applies: E-licensing fetches the IE registration (state
registration / start of activity) from GBDFL through the gateway and refuses under R1, with the
reason, unless the activity is registered and running [seed 002, LR p.4 ¶2, p.7(1)]."""

from __future__ import annotations

import pytest
from lxml import etree

from simulators.elicensing import documents
from simulators.elicensing.forms import Applicant, ApplicantKind
from simulators.elicensing.store import Outcome
from simulators.individuals.payload import default_store
from tests.licensing.world import World
from tests.simulators.elicensing.samples import export_application


def _entrepreneur(full_name: str):
    [person] = [p for p in default_store() if p.full_name == full_name]
    applicant = Applicant(
        kind=ApplicantKind.INDIVIDUAL_ENTREPRENEUR,
        identifier=person.iin,
        name=f"ИП {full_name}",
        address=f"{person.address.city}, {person.address.street}",
    )
    return person.iin, export_application(number=None, applicant=applicant)


async def test_an_active_entrepreneur_is_issued_a_licence(world: World) -> None:
    iin, form = _entrepreneur("Нурланов Асхат Ермекович")
    await world.pay_fee(iin, "43250.00", reference="FEE-IE-1")
    app = await world.delivered((await world.file(form)).number)
    assert app.outcome is Outcome.ISSUED, app.grounds


@pytest.mark.parametrize(
    ("full_name", "reason"),
    [
        ("Иванов Алексей Петрович", "individual entrepreneur TERMINATED since 2025-06-30"),
        ("Касымова Асель Ермековна", "individual entrepreneur SUSPENDED since 2026-02-02"),
        ("Ахметова Динара Болатовна", "not registered as an individual entrepreneur"),
    ],
    ids=["terminated", "suspended", "never-registered"],
)
async def test_an_entrepreneur_not_trading_is_refused_under_r1_with_the_reason(
    world: World, full_name: str, reason: str
) -> None:
    iin, form = _entrepreneur(full_name)
    await world.pay_fee(iin, "43250.00", reference="FEE-IE-2")  # the fee is not the defect
    app = await world.delivered((await world.file(form)).number)
    assert app.outcome is Outcome.REFUSED and app.ground_codes == ("R1",)
    refusal = documents.parse_refusal(etree.fromstring(app.document_xml.encode()))
    assert f"is not active (status {reason})" in refusal.grounds[0].reasoning
