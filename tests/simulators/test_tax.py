"""KGD: the MRP table and tax-debt fixtures (agreeing with GBDUL/GBDFL), the rules, the payload
contract, the provider endpoint, and both services end to end through the gateway."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import zeep
from lxml import etree

from connectors import TransportKey, errors
from simulators.individuals.payload import default_store as persons
from simulators.kit.identifiers import explain_invalid
from simulators.legal_entities.models import OrganizationStatus
from simulators.legal_entities.payload import default_store as organizations
from simulators.tax.fixtures import generate
from simulators.tax.payload import (
    NAMESPACE,
    MrpQuery,
    PayloadError,
    TaxDebtQuery,
    build_mrp_request,
    build_mrp_response,
    build_tax_debt_request,
    build_tax_debt_response,
    parse_request,
    schema,
)
from simulators.tax.rules import MrpResultCode, TaxDebtResultCode, mrp_of, tax_debt_of
from simulators.tax.service import MRP_SERVICE, TAX_DEBT_SERVICE, create_provider
from simulators.tax.store import (
    MRP_FILE_ENV,
    MRP_FIXTURES,
    TAX_DEBT_FIXTURES,
    default_debt_store,
    default_mrp_table,
    shipped_mrp_table,
)
from tests.simulators.registries import running_gateway_with_registries
from tests.simulators.sync_calls import call, client_app, fault_of

WSDL = Path(__file__).resolve().parents[2] / "wsdl" / "KGD.wsdl"
CLEAN_BIN = next(iter(organizations())).bin  # ТОО «Алтын Дала Агро», no debt


def debtor(short_name: str) -> str:
    return next(org.bin for org in organizations() if org.short_name == short_name)


# --- MRP ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("year", "amount"), [(2024, 3692), (2025, 3932), (2026, 4325)])
def test_mrp_of_each_year(year: int, amount: int) -> None:
    result = mrp_of(str(year), default_mrp_table())
    assert result.code is MrpResultCode.FOUND
    assert (result.rate.amount, result.rate.currency) == (amount, "KZT")


@pytest.mark.parametrize(
    ("year", "code"),
    [
        ("2031", MrpResultCode.NOT_FOUND),
        ("0000", MrpResultCode.INVALID_YEAR),
        ("26", MrpResultCode.INVALID_YEAR),
        ("２０２６", MrpResultCode.INVALID_YEAR),  # full-width digits are not a year
        ("", MrpResultCode.INVALID_YEAR),
    ],
)
def test_mrp_refusals(year: str, code: MrpResultCode) -> None:
    result = mrp_of(year, default_mrp_table())
    assert (result.code, result.rate) == (code, None)


def test_mrp_file_is_marked_configurable_and_can_be_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "CONFIGURABLE" in json.loads(MRP_FIXTURES.read_text(encoding="utf-8"))["note"]
    other = tmp_path / "mrp.json"
    other.write_text(json.dumps({"rates": [{"year": 2027, "amount": 4500, "basis": "test"}]}))
    monkeypatch.setenv(MRP_FILE_ENV, str(other))
    assert mrp_of("2027", default_mrp_table()).rate.amount == 4500
    assert mrp_of("2026", default_mrp_table()).code is MrpResultCode.NOT_FOUND
    assert shipped_mrp_table().find(2026).amount == 4325  # generators ignore the setting


# --- tax debts ------------------------------------------------------------------------------


def test_every_gbdul_company_and_gbdfl_person_has_a_record_under_its_name() -> None:
    debts = default_debt_store()
    for org in organizations():
        assert debts.find(org.bin).taxpayer_name == org.short_name
    for person in persons():
        assert debts.find(person.iin).taxpayer_name == person.full_name
    assert len(debts) == len(organizations()) + len(persons())
    assert all(explain_invalid(d.taxpayer_id) is None for d in debts)


def test_a_few_debtors_most_owe_nothing() -> None:
    debtors = [d for d in default_debt_store() if d.has_debt]
    assert 3 <= len(debtors) < len(default_debt_store()) / 4
    assert default_debt_store().find(debtor("ТОО «Береке Строй»")).amount == Decimal("56000000.00")
    # An active company with a debt exists, so the flow sees that debt does not mean inactive.
    active = {o.bin for o in organizations() if o.status is OrganizationStatus.ACTIVE}
    assert any(d.taxpayer_id in active for d in debtors)


def test_shipped_json_is_what_the_script_generates() -> None:
    shipped = json.loads(TAX_DEBT_FIXTURES.read_text(encoding="utf-8"))
    assert shipped == [d.model_dump(mode="json") for d in generate.generate()]


@pytest.mark.parametrize(
    ("taxpayer", "code", "has_debt"),
    [
        (CLEAN_BIN, TaxDebtResultCode.FOUND, False),
        (debtor("АО «Орал Металл»"), TaxDebtResultCode.FOUND, True),
        ("900101300007", TaxDebtResultCode.NOT_FOUND, None),
        ("900101300008", TaxDebtResultCode.INVALID_ID, None),
        ("abc", TaxDebtResultCode.INVALID_ID, None),
    ],
)
def test_tax_debt_codes(taxpayer: str, code: TaxDebtResultCode, has_debt: bool | None) -> None:
    result = tax_debt_of(taxpayer, default_debt_store())
    assert result.code is code
    assert (None if result.debt is None else result.debt.has_debt) == has_debt


# --- payload --------------------------------------------------------------------------------


def data_of(inner: str, xsi_type: str | None = None) -> etree._Element:
    typed = f' xsi:type="p:{xsi_type}"' if xsi_type else ""
    return etree.fromstring(
        f'<data xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:p="{NAMESPACE}"'
        f"{typed}>{inner}</data>"
    )


@pytest.mark.parametrize(
    ("data", "query"),
    [
        (data_of("<p:MrpRequest><year> 2026 </year></p:MrpRequest>"), MrpQuery("2026")),
        (data_of("<year>2025</year>", "MrpRequest"), MrpQuery("2025")),
        (
            data_of(f"<p:TaxDebtRequest><taxpayerId>{CLEAN_BIN}</taxpayerId></p:TaxDebtRequest>"),
            TaxDebtQuery(CLEAN_BIN),
        ),
        (
            data_of(f"<taxpayerId>{CLEAN_BIN}</taxpayerId>", "TaxDebtRequest"),
            TaxDebtQuery(CLEAN_BIN),
        ),
    ],
)
def test_parse_request(data: etree._Element, query: object) -> None:
    assert parse_request(data) == query


@pytest.mark.parametrize(
    "data",
    [data_of(""), data_of("<p:MrpRequest/>"), data_of("<year>2026</year>"), data_of("<p:X/>")],
)
def test_parse_rejects_data_without_a_request(data: etree._Element) -> None:
    with pytest.raises(PayloadError):
        parse_request(data)


def test_requests_and_every_answer_validate() -> None:
    schema().assertValid(build_mrp_request(2026))
    schema().assertValid(build_tax_debt_request(CLEAN_BIN))
    for year in ("2024", "2025", "2026", "2031", "0000"):
        schema().assertValid(build_mrp_response(mrp_of(year, default_mrp_table())))
    for debt in default_debt_store():
        schema().assertValid(
            build_tax_debt_response(tax_debt_of(debt.taxpayer_id, default_debt_store()))
        )
    schema().assertValid(build_tax_debt_response(tax_debt_of("123", default_debt_store())))


def test_tax_debt_answer_carries_amount_flag_and_date() -> None:
    owed = default_debt_store().find(debtor("ТОО «Семей Тері»"))
    answer = build_tax_debt_response(tax_debt_of(owed.taxpayer_id, default_debt_store()))
    element = answer.find("taxDebt")
    assert element.findtext("hasDebt") == "true"
    assert element.findtext("amount") == "125430.55"
    assert element.findtext("asOfDate") == owed.as_of.isoformat()
    assert all(etree.QName(e).namespace is None for e in element.iter())


def test_wsdl_is_a_sync_channel_provider_importing_the_payload() -> None:
    client = zeep.Client(str(WSDL))
    port = client.wsdl.services["KgdService"].ports["KgdPort"]
    assert port.binding.get("SendMessage").soapaction == ""
    assert client.get_element(f"{{{NAMESPACE}}}TaxDebtRequest") is not None


# --- provider and gateway -------------------------------------------------------------------


async def test_provider_dispatches_by_request_and_refuses_a_misrouted_one(
    pki: Path, gateway_key: TransportKey
) -> None:
    async with client_app(create_provider(pki).app()) as http:
        mrp = await call(http, MRP_SERVICE, build_mrp_request(2026), gateway_key)
        assert mrp.findtext("mrp/amount") == "4325"
        debt = await call(http, TAX_DEBT_SERVICE, build_tax_debt_request(CLEAN_BIN), gateway_key)
        assert debt.findtext("taxDebt/hasDebt") == "false"
        misrouted = await fault_of(
            http, MRP_SERVICE, build_tax_debt_request(CLEAN_BIN), gateway_key
        )
        assert misrouted == errors.SCHEMA_PAYLOAD_INVALID.code


async def test_mrp_and_tax_debt_through_the_gateway(pki: Path, tmp_path: Path, db_url: str) -> None:
    async with running_gateway_with_registries(pki, tmp_path, db_url) as gateway:
        client = gateway.client("ELICENSE")
        mrp = await client.send(MRP_SERVICE, build_mrp_request(2026))
        debt = await client.send(
            TAX_DEBT_SERVICE, build_tax_debt_request(debtor("ТОО «Береке Строй»"))
        )
    answer = mrp.response.data.find(f"{{{NAMESPACE}}}MrpResponse")
    assert (answer.findtext("resultCode"), answer.findtext("mrp/amount")) == ("FOUND", "4325")
    answer = debt.response.data.find(f"{{{NAMESPACE}}}TaxDebtResponse")
    assert answer.findtext("taxDebt/hasDebt") == "true"
    assert answer.findtext("taxDebt/amount") == "56000000.00"
