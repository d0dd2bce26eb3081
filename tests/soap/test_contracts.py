"""The SyncChannel WSDL/XSD: exact QNames, served with rewritten locations, usable by zeep."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import zeep
from lxml import etree
from zeep import xsd
from zeep.transports import Transport

from connectors import (
    WSDL_DIR,
    ContractNotFound,
    parse_sync_request,
    render_wsdl,
    render_xsd,
    split_envelope,
    validate_operation,
)
from connectors.soap.namespaces import SEND_MESSAGE

ADDRESS = "http://gateway.test:8080/sync"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
XS = "http://www.w3.org/2001/XMLSchema"
BINDING2 = "http://bip.bee.kz/SyncChannel/v10/Interfaces/Binding2"
INTERFACES = "http://bip.bee.kz/SyncChannel/v10/Interfaces"


class GatewayTransport(Transport):
    """Answers zeep's GETs the way the HTTP layer will: from render_wsdl / render_xsd."""

    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[str] = []

    def load(self, url: str) -> bytes:
        self.fetched.append(url)
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == ADDRESS, url
        query = parse_qs(parts.query, keep_blank_values=True)
        if "xsd" in query:
            return render_xsd(query["xsd"][0], ADDRESS)
        return render_wsdl(query["wsdl"][0], ADDRESS)


def request_values() -> dict:
    return {
        "requestInfo": {
            "messageId": "6d1c6d0e-3c54-4b0e-9b59-0c9a5e0d1f11",
            "serviceId": "TestService",
            "messageDate": datetime(2025, 1, 1, 12, 0),
            "sender": {"senderId": "smartbridge", "password": "pw"},
            "properties": [{"key": "CONNECTOR_CLIENT", "value": "true"}],
        },
        "requestData": {"data": xsd.AnyObject(xsd.String(), "hello")},
    }


def check_zeep_message(client: zeep.Client) -> None:
    envelope = client.create_message(client.service, "SendMessage", request=request_values())
    operation = split_envelope(envelope).operation
    assert operation.tag == SEND_MESSAGE
    # only the wrapper is qualified; every descendant is in no namespace (sheet §1)
    assert all(etree.QName(e).namespace is None for e in operation.iterdescendants())
    assert [e.tag for e in operation.find("request/requestInfo")] == [
        "messageId",
        "serviceId",
        "messageDate",
        "sender",
        "properties",
    ]
    validate_operation(operation)
    req = parse_sync_request(operation)
    assert (req.service_id, req.sender_id, req.password) == ("TestService", "smartbridge", "pw")
    assert req.data is not None and req.data.text == "hello"


def test_zeep_builds_a_valid_send_message_from_the_files():
    client = zeep.Client(str(WSDL_DIR / "SyncChannel.wsdl"))
    check_zeep_message(client)


def test_zeep_builds_a_valid_send_message_from_the_served_wsdl():
    transport = GatewayTransport()
    client = zeep.Client(f"{ADDRESS}?wsdl", transport=transport)
    check_zeep_message(client)
    service = client.wsdl.services["ISyncChannelHttpService"]
    port = service.ports["SyncChannelHttpPort"]
    assert port.binding.name.text == f"{{{BINDING2}}}SyncChannelHttpBinding"
    assert port.binding.port_type.name.text == f"{{{INTERFACES}}}ISyncChannel"
    assert port.binding_options["address"] == ADDRESS
    assert any("xsd=shep-common-v10.xsd" in url for url in transport.fetched)


def test_wsdl_names_are_exactly_the_sheet_s():
    binding = etree.fromstring(render_wsdl("", ADDRESS))
    interface = etree.fromstring(render_wsdl("ISyncChannel", ADDRESS))
    assert binding.get("targetNamespace") == BINDING2
    assert interface.get("targetNamespace") == INTERFACES
    messages = {
        m.get("name"): (m[0].get("name"), m[0].get("element"))
        for m in interface.iter(f"{{{WSDL}}}message")
    }
    assert messages == {
        "SendMessageRequestMsg": ("SendMessageParameters", "types:SendMessage"),
        "SendMessageResponseMsg": ("SendMessageResult", "types:SendMessageResponse"),
        "SendMessage_sendMessageFaultMsg": (
            "sendMessageFault",
            "types:SendMessageFault1_SendMessageFault",
        ),
    }
    fault = interface.find(f"{{{WSDL}}}portType/{{{WSDL}}}operation/{{{WSDL}}}fault")
    assert fault is not None and fault.get("name") == "sendMessageFault"
    soap_op = binding.find(
        f".//{{{WSDL}}}operation/{{http://schemas.xmlsoap.org/wsdl/soap/}}operation"
    )
    assert soap_op is not None and soap_op.get("soapAction") == ""
    service = binding.find(f"{{{WSDL}}}service")
    assert service is not None and service.get("name") == "ISyncChannelHttpService"
    assert service[0].get("name") == "SyncChannelHttpPort"


def test_served_locations_point_back_at_the_gateway():
    binding = etree.fromstring(render_wsdl("SyncChannel.wsdl", ADDRESS))
    imported = binding.find(f"{{{WSDL}}}import")
    assert imported is not None and imported.get("location") == f"{ADDRESS}?wsdl=ISyncChannel.wsdl"
    address = binding.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address is not None and address.get("location") == ADDRESS
    interface = etree.fromstring(render_wsdl("ISyncChannel.wsdl", ADDRESS))
    locations = [e.get("schemaLocation") for e in interface.iter(f"{{{XS}}}import")]
    assert locations == [f"{ADDRESS}?xsd=SyncChannel-v10-Types.xsd"]
    types = etree.fromstring(render_xsd("SyncChannel-v10-Types.xsd", ADDRESS))
    assert {e.get("schemaLocation") for e in types.iter(f"{{{XS}}}import")} == {
        f"{ADDRESS}?xsd=shep-common-v10.xsd",
        f"{ADDRESS}?xsd=SyncChannel-v10-Request.xsd",
        f"{ADDRESS}?xsd=SyncChannel-v10-Response.xsd",
    }


def test_channel_schemas_leave_children_unqualified():
    for name in ("shep-common-v10.xsd", "SyncChannel-v10-Types.xsd", "SyncChannel-v10-Request.xsd"):
        schema = etree.fromstring(render_xsd(name, ADDRESS))
        assert schema.get("elementFormDefault") is None


@pytest.mark.parametrize(
    "name",
    ["../pyproject.toml", "/etc/passwd", "..", "", "missing.xsd", "../wsdl/SyncChannel.wsdl"],
)
def test_names_outside_the_directory_are_refused(name: str):
    with pytest.raises(ContractNotFound):
        render_xsd(name, ADDRESS)


def test_unknown_wsdl_is_refused():
    with pytest.raises(ContractNotFound):
        render_wsdl("../xsd/shep-common-v10.xsd", ADDRESS)
    with pytest.raises(ContractNotFound):
        render_wsdl("Nope", ADDRESS)
