"""Permits (F2) meet the registry and the surveillance list [seed 002, permit rules]: the
applicant's registration is fetched (PR p.4 ¶2) and a liquidated or unknown applicant gets no
permit but a signed notice saying why; a draft for goods not under automatic licensing is
outside the service (PR p.2(4)); an issued permit labels fields 6–8 as the permit forms do."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from lxml import etree

from connectors import GatewayFault
from simulators.elicensing import documents
from simulators.elicensing.forms import CounterpartyRole, TradeCountryRole, TradeType
from simulators.elicensing.records import FIXTURES_DIR
from simulators.elicensing.store import Outcome
from simulators.kit.identifiers import make_bin
from simulators.legal_entities.payload import default_store as organizations
from tests.licensing.world import World, running_world
from tests.simulators.elicensing.samples import applicant, permit_draft

LIQUIDATED = "970740124019"  # ТОО «Петропавл Сүт», LIQUIDATED in GBDUL
UNKNOWN_BIN = make_bin(dt.date(2019, 5, 1), 4, 777)  # a well-formed BIN no registry knows


def _unknown_applicant():
    assert organizations().find(UNKNOWN_BIN) is None
    known = applicant("200640360888")
    return known.model_copy(update={"identifier": UNKNOWN_BIN, "name": "ТОО «Призрак»"})


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        (lambda: applicant(LIQUIDATED), f"{LIQUIDATED} in GBDUL is not active (status LIQUIDATED)"),
        (_unknown_applicant, f"{UNKNOWN_BIN} in GBDUL is not registered"),
    ],
    ids=["liquidated", "unknown-bin"],
)
async def test_a_permit_draft_of_no_operating_applicant_is_not_issued_and_says_why(
    world: World, who, reason: str
) -> None:
    draft = permit_draft(applicant=who())
    filed = await world.file(draft)
    app = await world.delivered(filed.number)
    assert app.outcome is Outcome.NOT_ISSUED and reason in app.reason
    [document] = await world.portal_documents()
    notice = documents.parse_permit_not_issued(document)
    assert (notice.application_number, notice.addressee.identifier) == (
        filed.number,
        draft.applicant.identifier,
    )
    assert reason in notice.reason
    status = await world.status(filed.number)
    assert (status["outcome"], status["reason"]) == ("NOT_ISSUED", app.reason)
    assert await world.keden_records_of(draft.applicant.identifier) == []  # nothing to customs
    assert sorted(await world.stages(filed.number)) == [
        "DELIVERED",
        "IN_WORK",
        "REFUSED",
        "REGISTERED",
    ]


async def test_a_permit_draft_for_goods_not_under_surveillance_is_rejected_at_filing(
    world: World,
) -> None:
    goods = permit_draft().goods.model_copy(update={"commodity_code": "8429511000"})
    with pytest.raises(GatewayFault) as fault:
        await world.file(permit_draft(goods=goods))
    provider = fault.value.info.sub_error  # the provider's own fault, under the gateway's
    assert provider is not None and provider.error_code == "Client.Schema.PayloadInvalid"
    assert "not under automatic licensing (surveillance) for EXPORT" in provider.error_message
    assert await world.harness.elicense.store.all() == []  # nothing registered


@pytest.mark.parametrize(
    ("trade_type", "country_role"),
    [
        (TradeType.EXPORT, TradeCountryRole.DISPATCH),
        (TradeType.IMPORT, TradeCountryRole.DESTINATION),
    ],
)
async def test_an_issued_permit_labels_fields_6_to_8_as_its_form(
    world: World, trade_type: TradeType, country_role: TradeCountryRole
) -> None:
    draft = permit_draft(type=trade_type)
    if trade_type is TradeType.IMPORT:  # sugar: under surveillance for import
        goods = draft.goods.model_copy(update={"commodity_code": "1701991000"})
        draft = draft.model_copy(update={"goods": goods})
    app = await world.delivered((await world.file(draft)).number)
    assert app.outcome is Outcome.ISSUED, app.reason
    permit = documents.parse_permit(etree.fromstring(app.document_xml.encode()))
    assert permit.counterparty.role is CounterpartyRole.SELLER  # «Сатушы» on PR-F4 and PR-F5
    assert permit.counterparty.name == draft.counterparty.name  # the value of the same slot
    assert permit.trade_country.role is country_role
    assert permit.trade_country.country == draft.trade_country.country
    record = await world.keden_record(permit.number)
    assert record.content.trade_country_role.value == country_role.value


async def test_the_surveillance_list_is_a_setting_not_code(
    licensing_pki: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = tmp_path / "records"
    shutil.copytree(FIXTURES_DIR, records)
    listed = json.loads((records / "surveillance_goods.json").read_text(encoding="utf-8"))
    listed["goods"].append({"code_prefix": "8429", "type": "EXPORT", "title": "Loaders"})
    (records / "surveillance_goods.json").write_text(json.dumps(listed), encoding="utf-8")
    monkeypatch.setenv("KZGATE_ELICENSE_RECORDS_DIR", str(records))
    async with running_world(licensing_pki, tmp_path) as world:
        goods = permit_draft().goods.model_copy(update={"commodity_code": "8429511000"})
        app = await world.delivered((await world.file(permit_draft(goods=goods))).number)
        assert app.outcome is Outcome.ISSUED
