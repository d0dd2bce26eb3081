"""AsyncChannel v10: contracts (XSD, WSDL, zeep) and message models, round trips, sheet quirks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import zeep
from lxml import etree
from zeep import xsd
from zeep.transports import Transport

from connectors import (
    KZ_TZ,
    SOAP_ENV,
    WSDL_DIR,
    XSI,
    AsyncMessageInfo,
    AsyncSendMessageRequest,
    ErrorInfo,
    GatewayError,
    MessageState,
    MessageType,
    ReceiveStatus,
    ResendMessage,
    build_fault_envelope,
    errors,
    parse_fault,
    render_wsdl,
    render_xsd,
    split_envelope,
    validate_operation,
)
from connectors.soap import async_
from connectors.soap.async_ import (
    AsyncChangeStatusNotification,
    AsyncChangeStatusNotificationResponse,
    AsyncDeliveryNotificationRequest,
    AsyncDeliveryNotificationResponse,
    AsyncGetMessagesRequest,
    AsyncGetMessageStatusRequest,
    AsyncGetMessageStatusResponse,
    AsyncSendMessageResponse,
)
from connectors.soap.faults import fault_element_name
from connectors.soap.namespaces import ASYNC_TYPES, ASYNC_TYPES_CLIENT
from tests.soap.samples import parse

ADDRESS = "http://gateway.test:8080/async"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
XS = "http://www.w3.org/2001/XMLSchema"
INTERFACES = "http://bip.bee.kz/AsyncChannel/v10/Interfaces"
BINDING = "http://bip.bee.kz/AsyncChannel/v10/Interfaces/Binding"
INTERFACES_CLIENT = "http://bip.bee.kz/AsyncChannel/v10/Interfaces/Client"
GATEWAY_OPERATIONS = ("sendMessage", "getMessageStatus", "sendDeliveryNotification", "getMessages")

T0 = datetime(2025, 1, 1, 12, 0, 0, 123000, tzinfo=KZ_TZ)
T1 = datetime(2025, 1, 1, 7, 5, tzinfo=UTC)

# A participant's send as clients write it: empty optionals, a date without offset, xsi:type on data
# with its prefix declared on the Envelope only (sheet §3.7, §7.4, §7.5).
SEND = """<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:p="urn:test:payload">
 <soap:Body>
  <a:sendMessage xmlns:a="{ns}">
   <request>
    <messageInfo>
     <messageId/>
     <correlationId>chain-42</correlationId>
     <serviceId>ESEDO_UNIVERSAL_SERVICE</serviceId>
     <messageType>RESPONSE</messageType>
     <routeId/>
     <messageDate>2025-01-01T12:00:00</messageDate>
     <sender><senderId>smartbridge</senderId><password>s3cret-pw</password></sender>
     <properties/>
     <properties><key>CONNECTOR_CLIENT</key><value>true</value></properties>
     <sessionId/>
    </messageInfo>
    <messageData><data xsi:type="p:Doc"><p:id>7</p:id><![CDATA[<raw & text>]]></data></messageData>
   </request>
  </a:sendMessage>
 </soap:Body>
</soap:Envelope>"""


def operation_of(envelope: etree._Element | bytes) -> etree._Element:
    """The Body's operation as a receiver sees it: serialised, re-parsed, split."""
    xml = envelope if isinstance(envelope, bytes) else etree.tostring(envelope)
    return split_envelope(parse(xml)).operation


def send_xml(ns: str = ASYNC_TYPES) -> bytes:
    return SEND.format(ns=ns).encode()


def exclusive_c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True)


def sample_message(**info_changes: object) -> AsyncSendMessageRequest:
    info = AsyncMessageInfo(
        message_id="m-1",
        correlation_id="c-1",
        service_id="KDP_SERVICE",
        message_type=MessageType.REQUEST,
        route_id="r-1",
        message_date=T0,
        sender_id="smartbridge",
        password="pw",
        properties=[("CONNECTOR_CLIENT", "true"), ("k2", "")],
        session_id="{8d1c6d0e-3c54-4b0e-9b59-0c9a5e0d1f11}",
    )
    for name, value in info_changes.items():
        setattr(info, name, value)
    data = etree.fromstring(
        '<data xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:q="urn:q"'
        ' xsi:type="q:Payload"><q:a x="1">v</q:a></data>'
    )
    return AsyncSendMessageRequest(info=info, data=data)


def assert_same_message(got: AsyncSendMessageRequest, want: AsyncSendMessageRequest) -> None:
    assert got.info == want.info
    assert got.info.password == want.info.password
    assert exclusive_c14n(got.data) == exclusive_c14n(want.data)


def assert_unqualified_below(operation: etree._Element) -> None:
    """Only the wrapper is qualified; every descendant is in no namespace (sheet §1)."""
    assert etree.QName(operation).namespace in (ASYNC_TYPES, ASYNC_TYPES_CLIENT)
    for element in operation.iterdescendants(tag=etree.Element):
        if element.tag == "data":
            break
        assert etree.QName(element).namespace is None, element.tag


# --- sendMessage ---------------------------------------------------------------------------------


@pytest.mark.parametrize("namespace", [ASYNC_TYPES, ASYNC_TYPES_CLIENT])
def test_send_message_round_trips_in_both_namespaces(namespace: str):
    message = sample_message()
    op = operation_of(async_.build_send_message_envelope(message, namespace=namespace))
    assert op.tag == f"{{{namespace}}}sendMessage"
    assert_unqualified_below(op)
    validate_operation(op, "async")
    assert_same_message(async_.parse_send_message(op), message)


@pytest.mark.parametrize("namespace", [ASYNC_TYPES, ASYNC_TYPES_CLIENT])
def test_a_clients_send_parses_in_both_namespaces(namespace: str):
    op = operation_of(send_xml(namespace))
    validate_operation(op, "async")
    req = async_.parse_send_message(op)
    info = req.info
    assert info.message_id is None and info.route_id is None and info.session_id is None
    assert info.correlation_id == "chain-42" and info.message_type is MessageType.RESPONSE
    assert info.service_id == "ESEDO_UNIVERSAL_SERVICE"
    assert (info.sender_id, info.password) == ("smartbridge", "s3cret-pw")
    assert info.properties == [("CONNECTOR_CLIENT", "true")]
    assert info.message_date == datetime(2025, 1, 1, 12, 0, tzinfo=KZ_TZ)
    assert req.data.get(f"{{{XSI}}}type") == "p:Doc"


def test_client_namespace_send_also_validates_against_the_push_schema():
    validate_operation(operation_of(send_xml(ASYNC_TYPES_CLIENT)), "async-client")


def test_built_message_info_has_the_async_order():
    op = operation_of(async_.build_send_message_envelope(sample_message()))
    info = op.find("request/messageInfo")
    assert info is not None
    assert [e.tag for e in info] == [
        "messageId",
        "correlationId",
        "serviceId",
        "messageType",
        "routeId",  # before messageDate, unlike SyncMessageInfo (sheet §3.3)
        "messageDate",
        "sender",
        "properties",
        "properties",
        "sessionId",
    ]
    assert info.findtext("messageDate") == "2025-01-01T12:00:00.123+05:00"
    assert [e.tag for e in op.find("request")] == ["messageInfo", "messageData"]


def test_sync_order_of_route_id_is_refused_by_the_schema():
    xml = send_xml().replace(b"<routeId/>\n", b"").replace(b"<sender>", b"<routeId/><sender>")
    with pytest.raises(GatewayError) as caught:
        validate_operation(operation_of(xml), "async")
    assert caught.value.fault is errors.SCHEMA_INVALID


def test_unknown_message_type_is_schema_invalid_in_parser_and_schema():
    op = operation_of(send_xml().replace(b">RESPONSE<", b">ANSWER<"))
    for check in (lambda: validate_operation(op, "async"), lambda: async_.parse_send_message(op)):
        with pytest.raises(GatewayError) as caught:
            check()
        assert caught.value.fault is errors.SCHEMA_INVALID


def test_missing_data_is_schema_invalid():
    xml = re.sub(rb"<messageData>.*</messageData>", b"<messageData/>", send_xml())
    with pytest.raises(GatewayError) as caught:
        async_.parse_send_message(operation_of(xml))
    assert caught.value.fault is errors.SCHEMA_INVALID and "data" in caught.value.detail


def test_other_operations_are_not_send_message():
    with pytest.raises(GatewayError) as caught:
        async_.parse_send_message(operation_of(send_xml().replace(b"sendMessage", b"SendMessage")))
    assert caught.value.fault is errors.SOAP_UNKNOWN_OPERATION
    with pytest.raises(GatewayError) as caught:
        async_.parse_get_messages(operation_of(send_xml()))
    assert caught.value.fault is errors.SOAP_UNKNOWN_OPERATION


def test_password_never_appears_in_repr():
    req = async_.parse_send_message(operation_of(send_xml()))
    assert "s3cret-pw" not in repr(req) and "s3cret-pw" not in str(req.info)
    status = AsyncGetMessageStatusRequest(
        message_id="m", request_date=T0, sender_id="s", password="s3cret-pw"
    )
    assert "s3cret-pw" not in repr(status)


def test_delivered_message_keeps_data_verbatim_and_drops_the_password():
    received = async_.parse_send_message(operation_of(send_xml()))
    out = async_.delivered_message(
        received, message_id="shep-1", correlation_id="chain-42", session_id="{s}"
    )
    wire = etree.tostring(async_.build_send_message_envelope(out, body_id="id-1"))
    assert b"s3cret-pw" not in wire and received.info.password == "s3cret-pw"
    again = async_.parse_send_message(operation_of(wire))
    assert (again.info.message_id, again.info.session_id) == ("shep-1", "{s}")
    # the prefix p is declared only on the sender's Envelope and used only in xsi:type
    assert again.data.get(f"{{{XSI}}}type") == "p:Doc"
    assert again.data.nsmap["p"] == "urn:test:payload"
    assert exclusive_c14n(again.data) == exclusive_c14n(received.data)
    assert b"<![CDATA[<raw & text>]]>" in etree.tostring(again.data)


def test_send_message_response_round_trips_in_both_namespaces():
    for namespace in (ASYNC_TYPES, ASYNC_TYPES_CLIENT):
        envelope = async_.build_send_message_response(
            message_id="shep-1",
            correlation_id="chain-1",
            response_date=T0,
            session_id="{s}",
            namespace=namespace,
        )
        op = operation_of(envelope)
        assert op.tag == f"{{{namespace}}}sendMessageResponse"
        validate_operation(op, "async")
        assert async_.parse_send_message_response(op) == AsyncSendMessageResponse(
            message_id="shep-1", correlation_id="chain-1", response_date=T0, session_id="{s}"
        )


def test_send_message_is_only_declared_in_the_two_namespaces():
    with pytest.raises(ValueError):
        async_.build_send_message_envelope(sample_message(), namespace=INTERFACES)


# --- getMessageStatus ----------------------------------------------------------------------------


def test_get_message_status_round_trips():
    req = AsyncGetMessageStatusRequest(
        message_id="shep-1",
        request_date=T0,
        sender_id="smartbridge",
        password="pw",
        properties=[("a", "b")],
    )
    op = operation_of(async_.build_get_message_status_envelope(req))
    assert_unqualified_below(op)
    validate_operation(op, "async")
    assert async_.parse_get_message_status(op) == req

    fields = {
        "state": MessageState.DELIVERY_STOPPED,
        "status_code": "STOPPED",
        "status_message": "the recipient refused it",
        "status_date": T1,
        "response_date": T0,
        "session_id": "not-a-guid",  # typed xs:string here (sheet §3.3)
    }
    op = operation_of(async_.build_get_message_status_response(**fields))
    assert [e.tag for e in op.find("response")] == [
        "messageState",
        "status",
        "responseDate",
        "sessionId",
    ]
    validate_operation(op, "async")
    assert async_.parse_get_message_status_response(op) == AsyncGetMessageStatusResponse(**fields)


def test_every_message_state_is_in_the_contract():
    for state in MessageState:
        op = operation_of(
            async_.build_get_message_status_response(
                state=state, status_code="c", status_message="", status_date=T0, response_date=T0
            )
        )
        validate_operation(op, "async")
        assert async_.parse_get_message_status_response(op).state is state


# --- sendDeliveryNotification --------------------------------------------------------------------


def test_delivery_notification_round_trips_with_the_misspelt_status():
    req = AsyncDeliveryNotificationRequest(
        message_id="shep-1",
        service_id="KDP_SERVICE",
        notification_date=T0,
        receive_status=ReceiveStatus.MESSAGE_NOT_ACCTEPTED,
        status_date=T1,
        resend_message=ResendMessage.RESEND,
        error=ErrorInfo(
            error_code="E1",
            error_message="cannot read",
            error_date=T1,
            sub_error=ErrorInfo(error_code="E2", error_message="inner", error_date=T0),
        ),
        request_date=T0,
        sender_id="recipient",
        password="pw",
    )
    envelope = async_.build_delivery_notification_envelope(req)
    assert b"<receiveStatus>MESSAGE_NOT_ACCTEPTED</receiveStatus>" in etree.tostring(envelope)
    op = operation_of(envelope)
    validate_operation(op, "async")
    assert async_.parse_delivery_notification(op) == req

    minimal = AsyncDeliveryNotificationRequest(
        message_id="shep-1",
        service_id="S",
        notification_date=T0,
        receive_status=ReceiveStatus.MESSAGE_ACCEPTED,
        status_date=T0,
        resend_message=ResendMessage.NOT_RESEND,
        request_date=T0,
    )
    op = operation_of(async_.build_delivery_notification_envelope(minimal))
    validate_operation(op, "async")
    assert async_.parse_delivery_notification(op) == minimal


def test_the_correct_spelling_is_not_the_contract():
    envelope = async_.build_delivery_notification_envelope(
        AsyncDeliveryNotificationRequest(
            message_id="m",
            service_id="S",
            notification_date=T0,
            receive_status=ReceiveStatus.MESSAGE_NOT_ACCTEPTED,
            status_date=T0,
            resend_message=ResendMessage.RESEND,
            request_date=T0,
        )
    )
    xml = etree.tostring(envelope).replace(b"MESSAGE_NOT_ACCTEPTED", b"MESSAGE_NOT_ACCEPTED")
    for check in (validate_operation, async_.parse_delivery_notification):
        with pytest.raises(GatewayError) as caught:
            check(operation_of(xml))
        assert caught.value.fault is errors.SCHEMA_INVALID


def test_delivery_notification_response_round_trips():
    op = operation_of(
        async_.build_delivery_notification_response(
            notification_id="n-1", response_date=T0, session_id="{s}"
        )
    )
    validate_operation(op, "async")
    assert async_.parse_delivery_notification_response(op) == AsyncDeliveryNotificationResponse(
        notification_id="n-1", response_date=T0, session_id="{s}"
    )


# --- getMessages ---------------------------------------------------------------------------------


def test_get_messages_round_trips():
    req = AsyncGetMessagesRequest(
        correlation_id="chain-1",
        request_date=T0,
        service_id="KDP_SERVICE",
        sender_id="recipient",
        password="pw",
        amount=25,
        properties=[("x", "y")],
    )
    op = operation_of(async_.build_get_messages_envelope(req))
    assert [e.tag for e in op.find("request")] == [
        "correlationId",
        "requestDate",
        "serviceId",
        "sender",
        "amount",
        "properties",
    ]
    validate_operation(op, "async")
    parsed = async_.parse_get_messages(op)
    assert parsed == req and parsed.batch_size(100) == 25


def test_get_messages_with_empty_optionals_means_defaults():
    xml = f"""<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body>
      <a:getMessages xmlns:a="{ASYNC_TYPES}"><request>
        <messageId/><correlationId/><requestDate/><serviceId>S</serviceId>
        <sender><senderId>r</senderId></sender><amount/><properties/>
      </request></a:getMessages></s:Body></s:Envelope>""".encode()
    op = operation_of(xml)
    validate_operation(op, "async")
    req = async_.parse_get_messages(op)
    assert req == AsyncGetMessagesRequest(service_id="S", sender_id="r")
    assert req.batch_size(100) == 100
    zero = async_.parse_get_messages(operation_of(xml.replace(b"<amount/>", b"<amount>0</amount>")))
    assert zero.amount == 0 and zero.batch_size(100) == 100


def test_get_messages_amount_must_be_an_integer():
    req = AsyncGetMessagesRequest(service_id="S", amount=3)
    xml = etree.tostring(async_.build_get_messages_envelope(req)).replace(b">3<", b">many<")
    for check in (validate_operation, async_.parse_get_messages):
        with pytest.raises(GatewayError) as caught:
            check(operation_of(xml))
        assert caught.value.fault is errors.SCHEMA_INVALID


def test_get_messages_response_round_trips_every_message():
    first = sample_message()
    second = async_.parse_send_message(operation_of(send_xml()))
    op = operation_of(
        async_.build_get_messages_response(
            messages=[first, second], response_date=T0, session_id="{s}"
        )
    )
    assert [e.tag for e in op.find("response")] == [
        "responseDate",
        "sessionId",
        "messages",
        "messages",
    ]
    validate_operation(op, "async")
    got = async_.parse_get_messages_response(op)
    assert (got.response_date, got.session_id, len(got.messages)) == (T0, "{s}", 2)
    assert_same_message(got.messages[0], first)
    assert_same_message(got.messages[1], second)
    assert got.messages[1].data.get(f"{{{XSI}}}type") == "p:Doc"


def test_empty_get_messages_response_is_valid():
    op = operation_of(
        async_.build_get_messages_response(messages=[], response_date=T0, session_id="{s}")
    )
    validate_operation(op, "async")
    assert async_.parse_get_messages_response(op).messages == []


# --- changeMassageStatusNotification -------------------------------------------------------------


def test_change_status_notification_round_trips_and_keeps_the_misspelling():
    fields = {
        "notification_id": "n-1",
        "message_id": "shep-1",
        "notification_date": T0,
        "state": MessageState.NOT_DELIVERED,
        "status_code": "NOT_DELIVERED",
        "status_message": "recipient unreachable",
        "status_date": T1,
        "error": ErrorInfo(error_code="E", error_message="timeout", error_date=T1),
        "request_date": T0,
        "session_id": "{s}",
    }
    envelope = async_.build_change_status_notification(**fields)
    op = operation_of(envelope)
    assert op.tag == f"{{{ASYNC_TYPES_CLIENT}}}changeMassageStatusNotification"
    assert_unqualified_below(op)
    assert [e.tag for e in op.find("request/notification")] == [
        "notificationId",
        "messageId",
        "notificationDate",
        "messageState",
        "status",
        "error",
    ]
    validate_operation(op, "async-client")
    validate_operation(op, "async")
    assert async_.parse_change_status_notification(op) == AsyncChangeStatusNotification(**fields)


def test_change_status_notification_response_round_trips():
    op = operation_of(
        async_.build_change_status_notification_response(response_date=T0, session_id="{s}")
    )
    assert op.tag == f"{{{ASYNC_TYPES_CLIENT}}}changeMassageStatusNotificationResponse"
    validate_operation(op, "async-client")
    assert async_.parse_change_status_notification_response(
        op
    ) == AsyncChangeStatusNotificationResponse(response_date=T0, session_id="{s}")


# --- faults --------------------------------------------------------------------------------------

NOW = datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)


@pytest.mark.parametrize("operation", GATEWAY_OPERATIONS)
def test_each_gateway_operation_has_a_valid_fault(operation: str):
    tag = f"{{{ASYNC_TYPES}}}{operation}Fault1_{operation}Fault"
    assert fault_element_name("async", operation) == tag
    xml = build_fault_envelope(
        GatewayError(errors.SCHEMA_INVALID, "bad"),
        channel="async",
        operation=operation,
        session_id="{s}",
        now=NOW,
    )
    entry = parse(xml).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/detail/{tag}")
    assert entry is not None
    validate_operation(entry, "async")
    info = parse_fault(parse(xml))
    assert info is not None and info.error_code == errors.SCHEMA_INVALID.code


def test_push_fault_validates_against_the_client_schema():
    xml = build_fault_envelope(
        GatewayError(errors.INTERNAL),
        channel="async",
        operation="changeMassageStatusNotification",
        now=NOW,
    )
    tag = fault_element_name("async", "changeMassageStatusNotification")
    entry = parse(xml).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/detail/{tag}")
    assert entry is not None
    validate_operation(entry, "async-client")


# --- contracts and zeep --------------------------------------------------------------------------


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


SENDER = {"senderId": "smartbridge", "password": "pw"}
MESSAGE_VALUES = {
    "messageInfo": {
        "serviceId": "KDP_SERVICE",
        "messageType": "REQUEST",
        "messageDate": datetime(2025, 1, 1, 12, 0),
        "sender": SENDER,
        "properties": [{"key": "CONNECTOR_CLIENT", "value": "true"}],
    },
    "messageData": {"data": xsd.AnyObject(xsd.String(), "hello")},
}
ZEEP_REQUESTS = {
    "sendMessage": (MESSAGE_VALUES, async_.parse_send_message),
    "getMessageStatus": (
        {"messageId": "shep-1", "requestDate": datetime(2025, 1, 1), "sender": SENDER},
        async_.parse_get_message_status,
    ),
    "sendDeliveryNotification": (
        {
            "notification": {
                "messageId": "shep-1",
                "serviceId": "S",
                "notificationDate": datetime(2025, 1, 1),
                "deliveryStatus": {
                    "receiveStatus": "MESSAGE_NOT_ACCTEPTED",
                    "statusDate": datetime(2025, 1, 1),
                    "resendMessage": "NOT_RESEND",
                },
            },
            "requestDate": datetime(2025, 1, 1),
        },
        async_.parse_delivery_notification,
    ),
    "getMessages": (
        {"serviceId": "S", "sender": SENDER, "amount": 10},
        async_.parse_get_messages,
    ),
}


def zeep_operation(client: zeep.Client, name: str, values: dict) -> etree._Element:
    envelope = client.create_message(client.service, name, request=values)
    op = operation_of(envelope)
    assert_unqualified_below(op)
    return op


def check_gateway_client(client: zeep.Client) -> None:
    for name, (values, parser) in ZEEP_REQUESTS.items():
        op = zeep_operation(client, name, values)
        assert op.tag == f"{{{ASYNC_TYPES}}}{name}"
        validate_operation(op, "async")
        parser(op)
    sent = async_.parse_send_message(zeep_operation(client, "sendMessage", MESSAGE_VALUES))
    assert sent.info.message_type is MessageType.REQUEST and sent.data.text == "hello"


def test_zeep_builds_every_gateway_operation_from_the_files():
    check_gateway_client(zeep.Client(str(WSDL_DIR / "AsyncChannel.wsdl")))


def test_zeep_builds_every_gateway_operation_from_the_served_wsdl():
    transport = GatewayTransport()
    client = zeep.Client(f"{ADDRESS}?wsdl=AsyncChannel.wsdl", transport=transport)
    check_gateway_client(client)
    port = client.wsdl.services["AsyncChannelHttpService"].ports["AsyncChannelHttpPort"]
    assert port.binding.name.text == f"{{{BINDING}}}AsyncChannelHttpBinding"
    assert port.binding.port_type.name.text == f"{{{INTERFACES}}}IAsyncChannel"
    assert port.binding_options["address"] == ADDRESS
    assert any("xsd=AsyncChannel-v10-ITypes.xsd" in url for url in transport.fetched)
    assert any("xsd=shep-common-v10.xsd" in url for url in transport.fetched)


def test_zeep_builds_the_push_interface_from_the_served_wsdl():
    client = zeep.Client(f"{ADDRESS}?wsdl=AsyncChannelClient.wsdl", transport=GatewayTransport())
    port = client.wsdl.services["AsyncChannelClientHttpService"].ports["AsyncChannelClientHttpPort"]
    assert port.binding.port_type.name.text == f"{{{INTERFACES_CLIENT}}}IAsyncChannelClient"
    assert set(port.binding._operations) == {"sendMessage", "changeMassageStatusNotification"}
    pushed = zeep_operation(client, "sendMessage", MESSAGE_VALUES)
    assert pushed.tag == f"{{{ASYNC_TYPES}}}sendMessage"  # SHEP pushes the gateway's element
    async_.parse_send_message(pushed)
    notification = {
        "notification": {
            "notificationId": "n-1",
            "messageId": "shep-1",
            "notificationDate": datetime(2025, 1, 1),
            "messageState": "DELIVERED",
            "status": {
                "statusCode": "OK",
                "statusMessage": "delivered",
                "statusDate": datetime(2025, 1, 1),
            },
        },
        "requestDate": datetime(2025, 1, 1),
        "sessionId": "{s}",
    }
    op = zeep_operation(client, "changeMassageStatusNotification", notification)
    validate_operation(op, "async-client")
    assert async_.parse_change_status_notification(op).state is MessageState.DELIVERED


def wsdl_messages(definitions: etree._Element) -> dict[str, tuple[str, str]]:
    return {
        m.get("name"): (m[0].get("name"), m[0].get("element"))
        for m in definitions.iter(f"{{{WSDL}}}message")
    }


def expected_messages(operation: str, prefix: str, fault_prefix: str) -> dict:
    return {
        f"{operation}RequestMsg": (f"{operation}Parameters", f"{prefix}:{operation}"),
        f"{operation}ResponseMsg": (f"{operation}Result", f"{prefix}:{operation}Response"),
        f"{operation}_{operation}FaultMsg": (
            f"{operation}Fault",
            f"{fault_prefix}:{operation}Fault1_{operation}Fault",
        ),
    }


def test_gateway_wsdl_names_are_exactly_the_sheet_s():
    binding = etree.fromstring(render_wsdl("AsyncChannel", ADDRESS))
    interface = etree.fromstring(render_wsdl("IAsyncChannel", ADDRESS))
    assert binding.get("targetNamespace") == BINDING
    assert interface.get("targetNamespace") == INTERFACES
    want: dict = {}
    for op in GATEWAY_OPERATIONS:
        want |= expected_messages(op, "types", "types")
    assert wsdl_messages(interface) == want
    port_type = interface.find(f"{{{WSDL}}}portType")
    assert port_type is not None and port_type.get("name") == "IAsyncChannel"
    assert [o.get("name") for o in port_type] == list(GATEWAY_OPERATIONS)
    assert [o.find(f"{{{WSDL}}}fault").get("name") for o in port_type] == [
        f"{op}Fault" for op in GATEWAY_OPERATIONS
    ]
    actions = [e.get("soapAction") for e in binding.iter(f"{{{WSDL_SOAP}}}operation")]
    assert actions == [""] * 4
    assert {e.get("use") for e in binding.iter(f"{{{WSDL_SOAP}}}body")} == {"literal"}
    service = binding.find(f"{{{WSDL}}}service")
    assert service is not None and service.get("name") == "AsyncChannelHttpService"
    assert service[0].get("name") == "AsyncChannelHttpPort"
    imported = binding.find(f"{{{WSDL}}}import")
    assert imported is not None and imported.get("location") == f"{ADDRESS}?wsdl=IAsyncChannel.wsdl"


def test_push_wsdl_names():
    client = etree.fromstring(render_wsdl("AsyncChannelClient.wsdl", ADDRESS))
    assert client.get("targetNamespace") == INTERFACES_CLIENT
    op = "changeMassageStatusNotification"
    assert wsdl_messages(client) == expected_messages(
        "sendMessage", "types", "types"
    ) | expected_messages(op, "client", "client")
    assert client.nsmap["types"] == ASYNC_TYPES and client.nsmap["client"] == ASYNC_TYPES_CLIENT
    port_type = client.find(f"{{{WSDL}}}portType")
    assert port_type is not None and port_type.get("name") == "IAsyncChannelClient"
    locations = {e.get("schemaLocation") for e in client.iter(f"{{{XS}}}import")}
    assert locations == {
        f"{ADDRESS}?xsd=AsyncChannel-v10-Types.xsd",
        f"{ADDRESS}?xsd=AsyncChannel-v10-Types-Client.xsd",
    }


def test_async_schemas_are_unqualified_and_served_with_rewritten_imports():
    names = ("AsyncChannel-v10-Types.xsd", "AsyncChannel-v10-ITypes.xsd")
    for name in (*names, "AsyncChannel-v10-Types-Client.xsd"):
        schema = etree.fromstring(render_xsd(name, ADDRESS))
        assert schema.get("elementFormDefault") is None
        for imported in schema.iter(f"{{{XS}}}import"):
            assert imported.get("schemaLocation").startswith(f"{ADDRESS}?xsd=")
    itypes = etree.fromstring(render_xsd("AsyncChannel-v10-ITypes.xsd", ADDRESS))
    declared = {t.get("name") for t in itypes.iter(f"{{{XS}}}complexType")}
    assert {
        "AsyncMessageInfo",
        "AsyncMessage",
        "AsyncSendMessageRequest",
        "AsyncSendMessageResponse",
        "AsyncGetMessageStatusRequest",
        "AsyncGetMessageStatusResponse",
        "AsyncSendDeliveryNotificationRequest",
        "AsyncSendDeliveryNotificationResponse",
        "AsyncGetMessagesRequest",
        "AsyncGetMessagesResponse",
        "AsyncChangeStatusNotifyRequest",
        "AsyncChangeStatusNotifyResponse",
    } <= declared
