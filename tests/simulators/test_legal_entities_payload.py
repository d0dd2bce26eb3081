"""GBDUL payload: request parsing from SHEP data, response building, XSD validation, WSDL."""

from pathlib import Path

import pytest
import zeep
from lxml import etree

from simulators.kit.payloads import PayloadError
from simulators.legal_entities.payload import GBDUL, build_request, default_store

parse_request, build_response, look_up = GBDUL.parse_request, GBDUL.build_response, GBDUL.look_up
schema = GBDUL.payload.schema
NAMESPACE = GBDUL.payload.namespace

WSDL = Path(__file__).resolve().parents[2] / "wsdl" / "GBDUL.wsdl"
KNOWN_BIN = next(iter(default_store())).bin


def data_of(inner: str) -> etree._Element:
    """The ``data`` element of a SHEP SendMessage request carrying ``inner``."""
    envelope = f"""
    <t:SendMessage xmlns:t="http://bip.bee.kz/SyncChannel/v10/Types">
      <request><requestData>
        <data xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
              xmlns:p="{NAMESPACE}">{inner}</data>
      </requestData></request>
    </t:SendMessage>"""
    return etree.fromstring(envelope).find("request/requestData/data")


@pytest.mark.parametrize(
    "inner",
    [
        f"<p:OrganizationRequest><bin>{KNOWN_BIN}</bin></p:OrganizationRequest>",
        f"<p:OrganizationRequest><bin>\n  {KNOWN_BIN} </bin></p:OrganizationRequest>",
        f"<p:OrganizationRequest><p:bin>{KNOWN_BIN}</p:bin></p:OrganizationRequest>",
    ],
)
def test_parse_wrapped_request(inner: str) -> None:
    assert parse_request(data_of(inner)) == KNOWN_BIN


def test_parse_jaxb_style_request_typed_data() -> None:
    data = data_of(f"<bin>{KNOWN_BIN}</bin>")
    data.set("{http://www.w3.org/2001/XMLSchema-instance}type", "p:OrganizationRequest")
    assert parse_request(data) == KNOWN_BIN


@pytest.mark.parametrize(
    "inner", ["", "<p:Other><bin>1</bin></p:Other>", "<p:OrganizationRequest/>"]
)
def test_parse_rejects_a_data_without_request(inner: str) -> None:
    with pytest.raises(PayloadError):
        parse_request(data_of(inner))


def test_built_request_validates_and_round_trips() -> None:
    request = build_request(KNOWN_BIN)
    schema().assertValid(request)
    data = data_of("")
    data.append(request)
    assert parse_request(data) == KNOWN_BIN


@pytest.mark.parametrize(
    ("bin", "code"),
    [
        (KNOWN_BIN, "FOUND"),
        ("050140000120", "NOT_FOUND"),
        ("050140000121", "INVALID_BIN"),
        ("123", "INVALID_BIN"),
    ],
)
def test_built_response_validates(bin: str, code: str) -> None:
    response = build_response(look_up(bin, default_store()))
    schema().assertValid(response)
    assert response.tag == f"{{{NAMESPACE}}}OrganizationResponse"
    assert response.findtext("resultCode") == code
    assert (response.find("organization") is not None) == (code == "FOUND")


def test_every_fixture_builds_a_valid_response() -> None:
    for org in default_store():
        schema().assertValid(build_response(look_up(org.bin, default_store())))


def test_found_response_carries_the_registry_data() -> None:
    org = default_store().find(KNOWN_BIN)
    assert org is not None
    found = build_response(look_up(KNOWN_BIN, default_store())).find("organization")
    assert found.findtext("bin") == org.bin
    assert found.findtext("shortName") == org.short_name
    assert found.findtext("registrationDate") == org.registration_date.isoformat()
    assert found.findtext("address/city") == org.address.city
    assert found.findtext("head/iin") == org.head.iin
    # Children are unqualified, as in SHEP: only the root carries the namespace.
    assert all(etree.QName(e).namespace is None for e in found.iter())


def test_schema_rejects_unknown_result_code() -> None:
    response = build_response(look_up(KNOWN_BIN, default_store()))
    response.find("resultCode").text = "MAYBE"
    assert not schema().validate(response)


def test_wsdl_is_a_sync_channel_provider() -> None:
    service = zeep.Client(str(WSDL)).wsdl.services["GbdulService"]
    port = service.ports["GbdulPort"]
    operation = port.binding.get("SendMessage")
    assert operation.input.body.qname == etree.QName(
        "http://bip.bee.kz/SyncChannel/v10/Types", "SendMessage"
    )
    assert operation.soapaction == ""
