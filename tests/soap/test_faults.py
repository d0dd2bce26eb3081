"""Fault envelopes: SOAP 1.1 shape, ErrorInfo detail valid against the XSD, parse round trip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from connectors import (
    KZ_TZ,
    SOAP_ENV,
    ErrorInfo,
    GatewayError,
    build_fault_envelope,
    errors,
    parse_fault,
    split_envelope,
    validate_operation,
)
from connectors.soap.faults import fault_element_name
from connectors.soap.namespaces import SYNC_FAULT
from tests.soap.samples import parse, response_xml

NOW = datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)


def fault_of(xml: bytes) -> etree._Element:
    fault = parse(xml).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None
    return fault


def test_client_fault_shape_and_detail_order():
    xml = build_fault_envelope(
        GatewayError(errors.XML_MALFORMED, "line 1, column 2: boom"), session_id="{s}", now=NOW
    )
    assert xml.startswith(b"<?xml")
    fault = fault_of(xml)
    assert [e.tag for e in fault] == ["faultcode", "faultstring", "detail"]
    assert fault.findtext("faultcode") == "soap:Client"
    assert fault.findtext("faultstring") == (
        "The message is not well-formed XML: line 1, column 2: boom"
    )
    entry = fault.find(f"detail/{SYNC_FAULT}")
    assert entry is not None and entry.tag == SYNC_FAULT
    assert [e.tag for e in entry] == [
        "errorCode",
        "errorMessage",
        "errorData",
        "errorDate",
        "sessionId",
    ]
    assert entry.findtext("errorCode") == "Client.Xml.Malformed"
    assert entry.findtext("errorData") == errors.XML_MALFORMED.hint
    assert entry.findtext("errorDate") == "2025-03-04T10:06:07.890+05:00"
    validate_operation(entry)


def test_server_fault_code():
    fault = fault_of(build_fault_envelope(GatewayError(errors.PROVIDER_TIMEOUT), now=NOW))
    assert fault.findtext("faultcode") == "soap:Server"
    # the faultcode QName's prefix must resolve to the SOAP envelope namespace
    assert fault.nsmap["soap"] == SOAP_ENV


def test_fault_round_trips_with_nested_provider_errors():
    provider = ErrorInfo(
        error_code="SCE909",
        error_message="provider broke",
        error_date=datetime(2025, 1, 1, 12, 0, tzinfo=KZ_TZ),
        sub_error=ErrorInfo(error_code="DB", error_message="deadlock"),
        session_id="not-a-guid",
    )
    error = GatewayError(errors.PROVIDER_FAULT, "SCE909", sub_error=provider)
    xml = build_fault_envelope(error, session_id="{abc}", now=NOW)
    entry = fault_of(xml).find(f"detail/{SYNC_FAULT}")
    assert entry is not None
    validate_operation(entry)
    info = parse_fault(parse(xml))
    assert info is not None
    assert info.error_code == "Server.Provider.Fault"
    assert info.error_message == error.message
    assert info.error_data == errors.PROVIDER_FAULT.hint
    assert info.error_date == NOW
    assert info.session_id == "{abc}"
    assert info.sub_error is not None and info.sub_error.error_code == "SCE909"
    assert info.sub_error.error_date == provider.error_date
    assert info.sub_error.session_id == "not-a-guid"
    deepest = info.sub_error.sub_error
    assert deepest is not None and deepest.error_message == "deadlock"
    assert deepest.error_date == NOW  # the XSD needs a date; a missing one becomes "now"


def test_sub_error_may_be_a_gateway_error_or_an_element():
    inner = GatewayError(errors.SIG_DIGEST_MISMATCH, "Body digest differs")
    outer = GatewayError(errors.PROVIDER_BAD_SIGNATURE, sub_error=inner)
    info = parse_fault(parse(build_fault_envelope(outer, now=NOW)))
    assert info is not None and info.sub_error is not None
    assert info.sub_error.error_code == "Client.Security.DigestMismatch"

    element = etree.fromstring(
        "<x><errorCode>P1</errorCode><errorMessage>m</errorMessage>"
        "<errorDate>2025-01-01T00:00:00Z</errorDate></x>"
    )
    relayed = GatewayError(errors.PROVIDER_FAULT, sub_error=element)
    info = parse_fault(parse(build_fault_envelope(relayed, now=NOW)))
    assert info is not None and info.sub_error is not None
    assert info.sub_error.error_code == "P1"


@pytest.mark.parametrize(
    ("operation", "tag"),
    [
        (
            "sendMessage",
            "{http://bip.bee.kz/AsyncChannel/v10/Types}sendMessageFault1_sendMessageFault",
        ),
        (
            "getMessages",
            "{http://bip.bee.kz/AsyncChannel/v10/Types}getMessagesFault1_getMessagesFault",
        ),
        (
            "changeMassageStatusNotification",
            "{http://bip.bee.kz/AsyncChannel/v10/Types/Client}"
            "changeMassageStatusNotificationFault1_changeMassageStatusNotificationFault",
        ),
    ],
)
def test_async_fault_elements(operation: str, tag: str):
    assert fault_element_name("async", operation) == tag
    xml = build_fault_envelope(
        GatewayError(errors.INTERNAL), channel="async", operation=operation, now=NOW
    )
    info = parse_fault(parse(xml))
    assert fault_of(xml).find(f"detail/{tag}") is not None
    assert info is not None and info.error_code == "Server.Internal"


def test_unknown_async_operation_has_no_fault_element():
    with pytest.raises(ValueError):
        fault_element_name("async", "SendMessage")


def test_sync_fault_ignores_the_operation_name():
    assert fault_element_name("sync", "anything") == SYNC_FAULT


def test_parse_fault_of_a_normal_response_is_none():
    assert parse_fault(parse(response_xml())) is None


def test_plain_fault_without_error_info_still_yields_one():
    xml = (
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><soap:Fault>'
        "<faultcode>soap:Server</faultcode><faultstring>NullPointerException</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()
    info = parse_fault(parse(xml))
    assert info is not None
    assert (info.error_code, info.error_message) == ("soap:Server", "NullPointerException")


def test_fault_envelope_is_a_valid_envelope():
    xml = build_fault_envelope(GatewayError(errors.SCHEMA_INVALID), now=NOW)
    assert split_envelope(parse(xml)).operation.tag == f"{{{SOAP_ENV}}}Fault"
