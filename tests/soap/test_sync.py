"""SyncChannel SendMessage: tolerant parsing (sheet §7), builders, byte-faithful relay of data."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from connectors import (
    KZ_TZ,
    WSU,
    GatewayError,
    SyncRequest,
    SyncResponse,
    build_request_envelope,
    build_response_envelope,
    errors,
    format_datetime,
    new_session_id,
    parse_datetime,
    parse_sync_request,
    parse_sync_response,
    split_envelope,
    validate_operation,
)
from connectors.soap.namespaces import SEND_MESSAGE_RESPONSE
from connectors.soap.sync import forwarded_request
from tests.soap.samples import REQUEST_INFO, parse, request_xml, response_xml

XSI = "http://www.w3.org/2001/XMLSchema-instance"


def operation_of(xml: bytes) -> etree._Element:
    return split_envelope(parse(xml)).operation


def relayed(envelope: etree._Element) -> bytes:
    """What goes on the wire, parsed back as a receiver would."""
    return etree.tostring(envelope)


def test_request_fields_and_empty_optionals_are_absent():
    req = parse_sync_request(operation_of(request_xml()))
    assert req.message_id == "6d1c6d0e-3c54-4b0e-9b59-0c9a5e0d1f11"
    assert req.service_id == "GbdulInfoByBin_v2"
    assert req.sender_id == "smartbridge" and req.password == "s3cret-pw"
    assert req.correlation_id is None and req.route_id is None and req.session_id is None
    assert req.properties == [("CONNECTOR_CLIENT", "true")]
    assert req.message_date == datetime(2025, 1, 1, 7, 0, tzinfo=UTC)
    assert req.data is not None and req.data.get(f"{{{XSI}}}type") == "p:GbdulRequest"


def test_password_never_appears_in_repr():
    req = parse_sync_request(operation_of(request_xml()))
    assert "s3cret-pw" not in repr(req) and "s3cret-pw" not in str(req)


@pytest.mark.parametrize(
    ("text", "expected_offset"),
    [
        ("2023-05-01T09:30:00.123+06:00", timedelta(hours=6)),
        ("2025-01-01T12:00:00Z", timedelta(0)),
        ("2025-01-01T12:00:00", timedelta(hours=5)),
        ("2025-01-01T12:00:00.123456789", timedelta(hours=5)),
        ("2025-01-01T12:00:00.5-03:00", timedelta(hours=-3)),
    ],
)
def test_message_dates_with_any_offset_or_none(text: str, expected_offset: timedelta):
    info = REQUEST_INFO.replace("2025-01-01T12:00:00.000+05:00", text)
    req = parse_sync_request(operation_of(request_xml(info=info)))
    assert req.message_date.utcoffset() == expected_offset
    validate_operation(operation_of(request_xml(info=info)))  # the XSD accepts them too


def test_dates_are_emitted_in_kazakhstan_time_with_millis():
    assert (
        format_datetime(datetime(2025, 1, 1, 7, 0, tzinfo=UTC)) == "2025-01-01T12:00:00.000+05:00"
    )
    assert format_datetime(parse_datetime("2023-05-01T09:30:00.123+06:00")) == (
        "2023-05-01T08:30:00.123+05:00"
    )
    with pytest.raises(ValueError):
        parse_datetime("01.01.2025 12:00")


def test_unparseable_message_date_is_schema_invalid():
    info = REQUEST_INFO.replace("2025-01-01T12:00:00.000+05:00", "yesterday")
    with pytest.raises(GatewayError) as caught:
        parse_sync_request(operation_of(request_xml(info=info)))
    assert caught.value.fault is errors.SCHEMA_INVALID


def test_unknown_operation():
    xml = request_xml().replace(b"t:SendMessage", b"t:sendMessage")
    with pytest.raises(GatewayError) as caught:
        parse_sync_request(operation_of(xml))
    assert caught.value.fault is errors.SOAP_UNKNOWN_OPERATION
    async_ns = request_xml().replace(b"SyncChannel/v10/Types", b"AsyncChannel/v10/Types")
    with pytest.raises(GatewayError) as caught:
        parse_sync_request(operation_of(async_ns))
    assert caught.value.fault is errors.SOAP_UNKNOWN_OPERATION


def test_missing_required_field_is_schema_invalid_even_without_validation():
    info = REQUEST_INFO.replace("<serviceId>GbdulInfoByBin_v2</serviceId>", "<serviceId/>")
    with pytest.raises(GatewayError) as caught:
        parse_sync_request(operation_of(request_xml(info=info)))
    assert caught.value.fault is errors.SCHEMA_INVALID and "serviceId" in caught.value.detail


def test_data_qualified_in_another_namespace_is_found_by_local_name():
    data = (
        '<i:data xmlns:i="http://bip.bee.kz/SyncChannel/v10/Interfaces" xsi:type="p:X">'
        "<p:bin>1</p:bin></i:data>"
    )
    op = operation_of(request_xml(data=data))
    validate_operation(op)
    req = parse_sync_request(op)
    assert req.data is not None
    assert req.data.tag == "{http://bip.bee.kz/SyncChannel/v10/Interfaces}data"


def test_xsi_type_declared_on_the_envelope_survives_relay_byte_for_byte():
    # q is declared only on the Envelope and used only inside the xsi:type value.
    xml = request_xml(data='<data xsi:type="q:Payload"><item>1</item></data>').replace(
        b'xmlns:p="urn:test:payload"', b'xmlns:q="urn:test:only-in-xsi-type"'
    )
    req = parse_sync_request(operation_of(xml))
    out = build_request_envelope(forwarded_request(req, session_id=new_session_id()))
    received = parse_sync_request(operation_of(relayed(out)))
    assert received.data is not None
    assert received.data.get(f"{{{XSI}}}type") == "q:Payload"
    assert received.data.nsmap["q"] == "urn:test:only-in-xsi-type"
    assert etree.QName(received.data.nsmap["q"], "Payload").text == (
        "{urn:test:only-in-xsi-type}Payload"
    )


def test_data_content_is_relayed_byte_for_byte():
    data = (
        '<data xsi:type="p:GbdulRequest">\n  <p:bin a="1"  b="2">12</p:bin><!-- c -->'
        "<![CDATA[<raw & text>]]>\n  <p:x>&lt;&amp;</p:x>\n</data>"
    )
    original = parse_sync_request(operation_of(request_xml(data=data))).data
    out = build_request_envelope(forwarded_request(original_request(data), session_id="{s}"))
    copy = parse_sync_request(operation_of(relayed(out))).data
    assert original is not None and copy is not None
    inner = re.compile(rb">.*</data>", re.DOTALL)
    first, second = inner.search(etree.tostring(original)), inner.search(etree.tostring(copy))
    assert first is not None and second is not None
    assert first.group(0) == second.group(0)
    # Exclusive C14N (the transport signature's) is context-free, so it must match exactly.
    exclusive = {"method": "c14n", "exclusive": True}
    assert etree.tostring(original, **exclusive) == etree.tostring(copy, **exclusive)


def original_request(data: str) -> SyncRequest:
    return parse_sync_request(operation_of(request_xml(data=data)))


def test_building_does_not_touch_the_received_tree():
    root = parse(request_xml())
    before = etree.tostring(root, method="c14n")
    req = parse_sync_request(split_envelope(root).operation)
    build_request_envelope(forwarded_request(req, session_id="{s}"))
    assert etree.tostring(root, method="c14n") == before


def test_forwarded_request_drops_password_sets_session_and_appends_properties():
    req = parse_sync_request(operation_of(request_xml()))
    session = new_session_id()
    fwd = forwarded_request(req, session_id=session, extra_properties=[("SENDER", "smartbridge")])
    assert fwd.password is None and req.password == "s3cret-pw"
    assert fwd.properties == [("CONNECTOR_CLIENT", "true"), ("SENDER", "smartbridge")]
    out = build_request_envelope(fwd, body_id="id-123")
    assert b"s3cret-pw" not in etree.tostring(out)
    body = split_envelope(out).body
    assert body.get(f"{{{WSU}}}Id") == "id-123"
    validate_operation(split_envelope(out).operation)
    again = parse_sync_request(split_envelope(parse(etree.tostring(out))).operation)
    assert again.session_id == session and again.properties == fwd.properties
    assert again.message_date == req.message_date


def test_built_request_has_the_sheet_shape():
    req = SyncRequest(
        message_id="m-1",
        service_id="TestService",
        message_date=datetime(2025, 1, 1, 12, 0, tzinfo=KZ_TZ),
        sender_id="smartbridge",
        password="pw",
        correlation_id="c-1",
    )
    out = build_request_envelope(req)
    info = out.find(".//requestInfo")
    assert info is not None
    assert [e.tag for e in info] == [
        "messageId",
        "correlationId",
        "serviceId",
        "messageDate",
        "sender",
    ]
    assert info.findtext("messageDate") == "2025-01-01T12:00:00.000+05:00"
    assert out.find(".//requestData") is not None and out.find(".//data") is None
    body = split_envelope(out).body
    assert body.nsmap["wsu"] == WSU


def test_new_session_id_is_a_braced_guid():
    assert re.fullmatch(r"\{[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\}", new_session_id())
    assert new_session_id() != new_session_id()


def test_response_parses_and_round_trips():
    resp = parse_sync_response(operation_of(response_xml()))
    assert resp.message_id == "resp-1" and resp.status_code == "SCSS001"
    assert resp.response_date.utcoffset() == timedelta(hours=6)
    assert resp.correlation_id is None
    assert resp.data is not None and resp.data.findtext("answer") == "ok"
    out = build_response_envelope(resp)
    op = split_envelope(parse(etree.tostring(out))).operation
    assert op.tag == SEND_MESSAGE_RESPONSE
    validate_operation(op)
    again = parse_sync_response(op)
    assert again.response_date == resp.response_date
    assert again.data is not None and again.data.findtext("answer") == "ok"
    assert out.findtext(".//responseDate") == "2023-05-01T08:30:00.123+05:00"


def test_response_without_data_is_fine():
    resp = parse_sync_response(operation_of(response_xml(data="")))
    assert resp.data is None
    built = SyncResponse(
        message_id="r", response_date=datetime(2025, 1, 1, tzinfo=UTC), session_id="{s}"
    )
    op = split_envelope(build_response_envelope(built)).operation
    validate_operation(op)
    assert parse_sync_response(op).status_code == "SCSS001"


def test_request_is_not_a_response():
    with pytest.raises(GatewayError) as caught:
        parse_sync_response(operation_of(request_xml()))
    assert caught.value.fault is errors.SOAP_UNKNOWN_OPERATION


def test_a_payload_with_non_ascii_names_is_forwarded_as_it_came():
    """Found by fuzzing: copy_payload serialised as ASCII and failed on <Атауы>."""
    from connectors.soap.sync import copy_payload

    data = etree.fromstring("<r><data><Атауы тіл='kk'>Алтын Дала</Атауы></data></r>".encode())[0]
    copied = copy_payload(data)
    assert copied[0].tag == "Атауы" and copied[0].get("тіл") == "kk"
    assert copied[0].text == "Алтын Дала"
