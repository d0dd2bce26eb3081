"""Channel XSD and payload XSD validation: precise refusals, no network, no mutation."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from connectors import GatewayError, PayloadSchemas, errors, split_envelope, validate_operation
from connectors.soap.schema import channel_schema
from tests.soap.samples import REQUEST_INFO, parse, request_xml

PAYLOAD_XSD = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
    targetNamespace="urn:test:payload" xmlns:p="urn:test:payload"
    elementFormDefault="qualified">
  <xs:include schemaLocation="payload-types.xsd"/>
  <xs:element name="bin" type="p:Bin"/>
  <xs:element name="lang" type="xs:string"/>
</xs:schema>"""

PAYLOAD_TYPES_XSD = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
    targetNamespace="urn:test:payload">
  <xs:simpleType name="Bin">
    <xs:restriction base="xs:string"><xs:pattern value="[0-9]{12}"/></xs:restriction>
  </xs:simpleType>
</xs:schema>"""


def operation_of(xml: bytes) -> etree._Element:
    return split_envelope(parse(xml)).operation


def line_of(xml: bytes, needle: bytes) -> int:
    return xml[: xml.index(needle)].count(b"\n") + 1


def schema_error(xml: bytes) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        validate_operation(operation_of(xml))
    assert caught.value.fault is errors.SCHEMA_INVALID
    return caught.value


def test_the_sample_request_is_valid():
    validate_operation(operation_of(request_xml()))


def test_missing_service_id_names_the_line():
    info = REQUEST_INFO.replace("<serviceId>GbdulInfoByBin_v2</serviceId>", "")
    xml = request_xml(info=info)
    error = schema_error(xml)
    # the line of the received message where serviceId was expected, i.e. messageDate's
    assert error.detail.startswith(f"line {line_of(xml, b'<messageDate>')}:")
    assert "serviceId" in error.detail


def test_wrong_order_is_refused():
    info = REQUEST_INFO.replace("<correlationId/>", "").replace(
        "<routeId/>", "<correlationId>c</correlationId>"
    )
    assert "correlationId" in schema_error(request_xml(info=info)).detail


def test_qualified_children_are_refused():
    xml = (
        request_xml().replace(b"<request>", b"<t:request>").replace(b"</request>", b"</t:request>")
    )
    schema_error(xml)


def test_empty_required_date_and_unknown_element_are_refused():
    schema_error(request_xml(info=REQUEST_INFO.replace("2025-01-01T12:00:00.000+05:00", "")))
    schema_error(request_xml(info=REQUEST_INFO.replace("<routeId/>", "<extra/>")))


def test_tolerated_session_id_shapes():
    for value in ("", "{0f8fad5b-d9cb-469f-a165-70867728950e}", "0f8fad5b", "12345"):
        info = REQUEST_INFO.replace("<sessionId/>", f"<sessionId>{value}</sessionId>")
        validate_operation(operation_of(request_xml(info=info)))


def test_payload_xsi_type_naming_a_foreign_type_is_not_a_channel_error():
    validate_operation(operation_of(request_xml(data='<data xsi:type="p:NoSuchType"><x/></data>')))
    validate_operation(
        operation_of(
            request_xml(
                data='<data xsi:type="xs:string" '
                'xmlns:xs="http://www.w3.org/2001/XMLSchema">'
                "<p:bin>1</p:bin></data>"
            )
        )
    )


def test_xsi_type_on_request_with_lowercase_types_namespace_is_accepted():
    xml = request_xml().replace(
        b"<request>",
        b'<request xmlns:lt="http://bip.bee.kz/SyncChannel/v10/types/Request" '
        b'xsi:type="lt:SyncSendMessageRequest">',
    )
    validate_operation(operation_of(xml))


def test_validation_never_mutates_the_tree():
    root = parse(request_xml())
    before = etree.tostring(root)
    lines = [e.sourceline for e in root.iter()]
    validate_operation(split_envelope(root).operation)
    assert etree.tostring(root) == before
    assert [e.sourceline for e in root.iter()] == lines


def test_channel_schema_is_compiled_once():
    assert channel_schema("sync") is channel_schema("sync")
    with pytest.raises(ValueError):
        channel_schema("nope")


@pytest.fixture
def payload_dir(tmp_path: Path) -> Path:
    (tmp_path / "payload.xsd").write_text(PAYLOAD_XSD)
    (tmp_path / "payload-types.xsd").write_text(PAYLOAD_TYPES_XSD)
    return tmp_path


def data_of(data: str) -> etree._Element:
    op = operation_of(request_xml(data=data))
    found = op.find("request/requestData/data")
    assert found is not None
    return found


def test_payload_valid_and_invalid(payload_dir: Path):
    schemas = PayloadSchemas(payload_dir)
    schemas.validate(
        data_of('<data xsi:type="p:R"><p:bin>123456789012</p:bin></data>'), "payload.xsd"
    )
    with pytest.raises(GatewayError) as caught:
        schemas.validate(data_of("<data>\n<p:bin>12</p:bin></data>"), "payload.xsd")
    assert caught.value.fault is errors.SCHEMA_PAYLOAD_INVALID
    line = line_of(request_xml(data="<data>\n<p:bin>"), b"<p:bin>")
    assert caught.value.detail.startswith(f"line {line}:")
    assert schemas.schema("payload.xsd") is schemas.schema("payload.xsd")


def test_payload_business_signature_child_is_skipped(payload_dir: Path):
    data = (
        '<data><p:lang>ru</p:lang><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
        "<ds:SignedInfo/></ds:Signature></data>"
    )
    PayloadSchemas(payload_dir).validate(data_of(data), "payload.xsd")


def test_escaped_payload_is_validated(payload_dir: Path):
    schemas = PayloadSchemas(payload_dir)
    ok = (
        '<data xsi:type="xs:string">'
        '&lt;bin xmlns="urn:test:payload"&gt;123456789012&lt;/bin&gt;</data>'
    )
    schemas.validate(data_of(ok), "payload.xsd")
    for bad in (
        "<data>just text</data>",
        "<data>&lt;bin xmlns='urn:test:payload'&gt;1&lt;/bin&gt;</data>",
    ):
        with pytest.raises(GatewayError) as caught:
            schemas.validate(data_of(bad), "payload.xsd")
        assert caught.value.fault is errors.SCHEMA_PAYLOAD_INVALID


def test_payload_validation_never_mutates(payload_dir: Path):
    data = data_of('<data xsi:type="p:R"><p:bin>123456789012</p:bin></data>')
    before = etree.tostring(data.getroottree())
    PayloadSchemas(payload_dir).validate(data, "payload.xsd")
    assert etree.tostring(data.getroottree()) == before


@pytest.mark.parametrize(
    "location",
    ["http://127.0.0.1:9/remote.xsd", "../outside.xsd", "/etc/passwd"],
)
def test_schema_imports_outside_the_directory_are_refused(tmp_path: Path, location: str):
    inside = tmp_path / "xsd"
    inside.mkdir()
    (tmp_path / "outside.xsd").write_text(PAYLOAD_TYPES_XSD)
    (inside / "evil.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:e">'
        f'<xs:import namespace="urn:test:payload" schemaLocation="{location}"/>'
        '<xs:element name="e" type="xs:string"/></xs:schema>'
    )
    with pytest.raises(GatewayError) as caught:
        PayloadSchemas(inside).schema("evil.xsd")
    assert caught.value.fault is errors.INTERNAL


def test_payload_schema_names_outside_the_directory_are_refused(payload_dir: Path):
    with pytest.raises(GatewayError) as caught:
        PayloadSchemas(payload_dir / "sub").schema("../payload.xsd")
    assert caught.value.fault is errors.INTERNAL


def test_payload_named_by_xsi_type_is_validated_as_that_type() -> None:
    from connectors import GatewayError, PayloadSchemas

    schemas = PayloadSchemas()
    typed = (
        '<data xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xmlns:g="http://kzgate.kz/simulators/gbdul/v1" xsi:type="g:{type}">'
        "<bin>{bin}</bin></data>"
    )
    schemas.validate(
        etree.fromstring(typed.format(type="OrganizationRequest", bin="170640582744")), "gbdul.xsd"
    )
    for type_name, bin_ in (("OrganizationRequest", "1706"), ("NoSuchType", "170640582744")):
        with pytest.raises(GatewayError) as refused:
            schemas.validate(etree.fromstring(typed.format(type=type_name, bin=bin_)), "gbdul.xsd")
        assert refused.value.fault.code == "Client.Schema.PayloadInvalid"


def test_non_ascii_names_are_validated_not_crashed_on():
    """Found by fuzzing: the validation copy was serialised as ASCII, where a Cyrillic element or
    attribute name cannot be written, and the message got Server.Internal."""
    xml = request_xml(data="<data><Атауы тіл='kk'>Алтын Дала</Атауы></data>")
    validate_operation(split_envelope(parse(xml)).operation)  # the payload is the service's
    bad = xml.replace(b"<sessionId/>", "<sessionId/><Ескерту/>".encode())
    with pytest.raises(GatewayError) as caught:
        validate_operation(split_envelope(parse(bad)).operation)
    assert caught.value.fault is errors.SCHEMA_INVALID
