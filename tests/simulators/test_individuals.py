"""GBDFL (ГБД ФЛ): fixtures agree with GBDUL, the look-up rules, the payload contract, the
provider endpoint, and one look-up end to end through the gateway."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import zeep
from lxml import etree
from pydantic import ValidationError

from connectors import TransportKey, errors
from simulators.individuals.fixtures import generate
from simulators.individuals.models import (
    EntrepreneurStatus,
    Person,
    PersonStatus,
    birth_date_of,
    sex_of,
)
from simulators.individuals.payload import GBDFL, build_request, default_store
from simulators.kit.identifiers import Sex, is_valid_iin
from simulators.kit.payloads import PayloadError
from simulators.legal_entities.payload import default_store as organizations
from tests.simulators.registries import running_gateway_with_registries
from tests.simulators.sync_calls import call, client_app, fault_of

parse_request, build_response, look_up = GBDFL.parse_request, GBDFL.build_response, GBDFL.look_up
schema = GBDFL.payload.schema
NAMESPACE = GBDFL.payload.namespace
FIXTURES = GBDFL.fixtures_path
SERVICE_ID = "GbdflInfoByIin_v1"
WSDL = Path(__file__).resolve().parents[2] / "wsdl" / "GBDFL.wsdl"
HEAD = next(iter(organizations())).head  # Садыков Нурлан Серикович, head of «Алтын Дала Агро»


@pytest.fixture(scope="module")
def persons() -> list[Person]:
    return list(default_store())


# --- fixtures -------------------------------------------------------------------------------


def test_enough_people_with_valid_unique_iins(persons: list[Person]) -> None:
    iins = [p.iin for p in persons]
    assert len(persons) >= 30
    assert all(is_valid_iin(i) for i in iins)
    assert len(set(iins)) == len(iins)


def test_every_head_of_a_gbdul_company_is_in_gbdfl_under_the_same_name() -> None:
    for org in organizations():
        person = default_store().find(org.head.iin)
        assert person is not None, org.head
        assert person.full_name == org.head.full_name
        assert person.status is PersonStatus.ALIVE


def test_birth_date_and_sex_agree_with_the_iin(persons: list[Person]) -> None:
    for person in persons:
        assert birth_date_of(person.iin) == person.birth_date
        assert sex_of(person.iin) is person.sex


def test_every_status_and_century_present(persons: list[Person]) -> None:
    assert set(Counter(p.status for p in persons)) == set(PersonStatus)
    assert {p.iin[6] for p in persons} >= {"3", "4", "5", "6"}  # 1900s and 2000s, both sexes
    assert any(p.middle_name is None for p in persons)
    assert any(p.citizenship != "KZ" for p in persons)


def test_the_ie_register_has_an_entrepreneur_in_every_state(persons: list[Person]) -> None:
    states = Counter(p.entrepreneur.status for p in persons if p.entrepreneur is not None)
    assert set(states) == set(EntrepreneurStatus)
    assert any(p.entrepreneur is None and p.status is PersonStatus.ALIVE for p in persons)


def test_an_entrepreneur_answer_carries_the_ie_registration_and_validates() -> None:
    [ended] = [p for p in default_store() if p.full_name == "Иванов Алексей Петрович"]
    response = build_response(look_up(ended.iin, default_store()))
    assert schema().validate(response), schema().error_log
    ie = response.find("person/entrepreneur")
    assert (ie.findtext("status"), ie.findtext("statusDate")) == ("TERMINATED", "2025-06-30")
    assert ie.findtext("tradeName") == "ИП Иванов Алексей Петрович"


def test_shipped_json_is_what_the_script_generates() -> None:
    shipped = json.loads(FIXTURES.read_text(encoding="utf-8"))
    assert shipped == [p.model_dump(mode="json") for p in generate.generate()]


def test_a_record_contradicting_its_iin_is_refused(persons: list[Person]) -> None:
    record = persons[0].model_dump()
    with pytest.raises(ValidationError, match="contradicts IIN"):
        Person(**{**record, "birth_date": date(1970, 1, 1)})
    other_sex = Sex.FEMALE if persons[0].sex is Sex.MALE else Sex.MALE
    with pytest.raises(ValidationError, match="contradicts IIN"):
        Person(**{**record, "sex": other_sex})
    with pytest.raises(ValidationError, match="check digit"):
        Person(**{**record, "iin": record["iin"][:-1] + str((int(record["iin"][-1]) + 1) % 10)})


def test_store_rejects_duplicate_iins(persons: list[Person]) -> None:
    with pytest.raises(ValueError, match="duplicate IIN"):
        GBDFL.index([persons[0], persons[0]])


# --- rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iin", "code"),
    [
        (HEAD.iin, "FOUND"),
        ("900101300007", "NOT_FOUND"),
        ("900101300008", "INVALID_IIN"),
        ("12345", "INVALID_IIN"),
        ("", "INVALID_IIN"),
    ],
)
def test_look_up_codes(iin: str, code: str) -> None:
    result = look_up(iin, default_store())
    assert result.code == code
    assert (result.record is not None) == (code == "FOUND")


def test_a_deceased_person_is_found_with_the_status(persons: list[Person]) -> None:
    deceased = next(p for p in persons if p.status is PersonStatus.DECEASED)
    result = look_up(deceased.iin, default_store())
    assert result.code == "FOUND"
    assert "DECEASED" in result.message


# --- payload --------------------------------------------------------------------------------


def data_of(inner: str) -> etree._Element:
    return etree.fromstring(
        f'<data xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:p="{NAMESPACE}">'
        f"{inner}</data>"
    )


@pytest.mark.parametrize(
    "inner",
    [
        f"<p:PersonRequest><iin>{HEAD.iin}</iin></p:PersonRequest>",
        f"<p:PersonRequest><iin> {HEAD.iin}\n</iin></p:PersonRequest>",
        f"<p:PersonRequest><p:iin>{HEAD.iin}</p:iin></p:PersonRequest>",
        f'<iin xmlns:q="x">{HEAD.iin}</iin>',  # JAXB style: data typed, iin directly inside
    ],
)
def test_parse_request(inner: str) -> None:
    assert parse_request(data_of(inner)) == HEAD.iin


@pytest.mark.parametrize("inner", ["", "<p:Other><iin>1</iin></p:Other>", "<p:PersonRequest/>"])
def test_parse_rejects_data_without_a_request(inner: str) -> None:
    with pytest.raises(PayloadError):
        parse_request(data_of(inner))


def test_request_validates_and_every_fixture_builds_a_valid_response(
    persons: list[Person],
) -> None:
    schema().assertValid(build_request(HEAD.iin))
    for person in persons:
        schema().assertValid(build_response(look_up(person.iin, default_store())))
    for iin in ("900101300007", "900101300008"):
        schema().assertValid(build_response(look_up(iin, default_store())))


def test_found_response_carries_the_registry_data(persons: list[Person]) -> None:
    person = default_store().find(HEAD.iin)
    found = build_response(look_up(HEAD.iin, default_store())).find("person")
    assert found.findtext("fullName") == HEAD.full_name
    assert found.findtext("birthDate") == person.birth_date.isoformat()
    assert found.findtext("sex") == person.sex.value
    assert found.findtext("address/city") == person.address.city
    # Children are unqualified, as in SHEP: only the root carries the namespace.
    assert all(etree.QName(e).namespace is None for e in found.iter())
    without_patronymic = next(p for p in persons if p.middle_name is None)
    answer = build_response(look_up(without_patronymic.iin, default_store()))
    assert answer.find("person/middleName") is None


def test_wsdl_is_a_sync_channel_provider_importing_the_payload() -> None:
    client = zeep.Client(str(WSDL))
    operation = client.wsdl.services["GbdflService"].ports["GbdflPort"].binding.get("SendMessage")
    assert operation.input.body.qname == etree.QName(
        "http://bip.bee.kz/SyncChannel/v10/Types", "SendMessage"
    )
    assert client.get_element(f"{{{NAMESPACE}}}PersonRequest") is not None


# --- provider and gateway -------------------------------------------------------------------


async def test_provider_answers_signed_requests_from_the_gateway(
    pki: Path, gateway_key: TransportKey
) -> None:
    async with client_app(GBDFL.provider(pki).app()) as http:
        answer = await call(http, SERVICE_ID, build_request(HEAD.iin), gateway_key)
        assert answer.findtext("resultCode") == "FOUND"
        broken = etree.Element(f"{{{NAMESPACE}}}PersonRequest")
        assert await fault_of(http, SERVICE_ID, broken, gateway_key) == (
            errors.SCHEMA_PAYLOAD_INVALID.code
        )


async def test_look_up_through_the_gateway(pki: Path, tmp_path: Path, db_url: str) -> None:
    async with running_gateway_with_registries(pki, tmp_path, db_url) as gateway:
        result = await gateway.client("ELICENSE").send(SERVICE_ID, build_request(HEAD.iin))
    answer = result.response.data.find(f"{{{NAMESPACE}}}PersonResponse")
    assert answer.findtext("resultCode") == "FOUND"
    assert answer.findtext("person/fullName") == HEAD.full_name
    assert result.response.status_code == "SCSS001"
