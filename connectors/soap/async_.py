"""AsyncChannel v10: message models of the gateway's four operations and of the PUSH interface.

Gateway side (participant → SHEP, sheet §3.1): ``sendMessage``, ``getMessageStatus``,
``sendDeliveryNotification``, ``getMessages``; each has ``parse_<op>`` for the received request,
``build_<op>_response`` for the answer, and, for participants (tests, the SDK),
``build_<op>_envelope`` and ``parse_<op>_response``.

PUSH side (SHEP → participant, sheet §3.2): ``build_send_message_envelope`` delivers a message,
``build_change_status_notification`` reports a state change; the participant's answers are read
with ``parse_send_message_response`` / ``parse_change_status_notification_response``.

Parsing is tolerant like ``sync``: children by local name, empty optional elements are absent,
dates with any offset or none. It does not validate: run ``schema.validate_operation(op, "async")``
first for a precise ``Client.Schema.Invalid``. ``data`` is kept as received and copied verbatim.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from lxml import etree

from connectors.errors import SCHEMA_INVALID, SOAP_UNKNOWN_OPERATION, GatewayError
from connectors.soap.faults import ErrorInfo
from connectors.soap.namespaces import ASYNC_TYPES, ASYNC_TYPES_CLIENT, qname

# The SyncChannel module's tolerant readers and envelope skeleton serve this channel unchanged, so
# both channels report a missing or unreadable field in the same words.
from connectors.soap.sync import (
    _envelope,
    _properties,
    _required,
    _required_date,
    _required_text,
    _wrapped,
    copy_payload,
)
from connectors.soap.values import (
    add_text,
    child,
    children,
    format_datetime,
    parse_datetime,
    text_of,
)

SEND_MESSAGE = qname(ASYNC_TYPES, "sendMessage")
SEND_MESSAGE_CLIENT = qname(ASYNC_TYPES_CLIENT, "sendMessage")  # the contract's second one (§3.2)
SEND_MESSAGE_RESPONSE = qname(ASYNC_TYPES, "sendMessageResponse")
SEND_MESSAGE_RESPONSE_CLIENT = qname(ASYNC_TYPES_CLIENT, "sendMessageResponse")
GET_MESSAGE_STATUS = qname(ASYNC_TYPES, "getMessageStatus")
GET_MESSAGE_STATUS_RESPONSE = qname(ASYNC_TYPES, "getMessageStatusResponse")
SEND_DELIVERY_NOTIFICATION = qname(ASYNC_TYPES, "sendDeliveryNotification")
SEND_DELIVERY_NOTIFICATION_RESPONSE = qname(ASYNC_TYPES, "sendDeliveryNotificationResponse")
GET_MESSAGES = qname(ASYNC_TYPES, "getMessages")
GET_MESSAGES_RESPONSE = qname(ASYNC_TYPES, "getMessagesResponse")
# "Massage" is the contract's spelling (sheet §3.2, §7.8).
CHANGE_STATUS_NOTIFICATION = qname(ASYNC_TYPES_CLIENT, "changeMassageStatusNotification")
CHANGE_STATUS_NOTIFICATION_RESPONSE = qname(
    ASYNC_TYPES_CLIENT, "changeMassageStatusNotificationResponse"
)


_E = TypeVar("_E", bound=StrEnum)


class MessageType(StrEnum):
    """``messageInfo/messageType`` (sheet §3.4)."""

    REQUEST = "REQUEST"
    NOTIFICATION = "NOTIFICATION"
    UPDATE = "UPDATE"
    RESPONSE = "RESPONSE"


class MessageState(StrEnum):
    """The delivery state of an async message (sheet §3.4)."""

    ON_DELIVERY = "ON_DELIVERY"
    DELIVERED = "DELIVERED"
    NOT_DELIVERED = "NOT_DELIVERED"
    DELIVERY_STOPPED = "DELIVERY_STOPPED"


class ReceiveStatus(StrEnum):
    """``deliveryStatus/receiveStatus``; the misspelt value is the contract's (sheet §7.8)."""

    MESSAGE_ACCEPTED = "MESSAGE_ACCEPTED"
    MESSAGE_NOT_ACCTEPTED = "MESSAGE_NOT_ACCTEPTED"


class ResendMessage(StrEnum):
    """``deliveryStatus/resendMessage``: whether the recipient wants the message again."""

    RESEND = "RESEND"
    NOT_RESEND = "NOT_RESEND"


@dataclass(kw_only=True)
class AsyncMessageInfo:
    """``messageInfo`` (sheet §3.3 order: routeId before messageDate).

    ``message_id`` and ``correlation_id`` are SHEP's to assign (§3.5) but senders may fill them.
    """

    message_id: str | None = None
    correlation_id: str | None = None
    service_id: str
    message_type: MessageType
    route_id: str | None = None
    message_date: datetime
    sender_id: str
    password: str | None = field(default=None, repr=False)  # a secret: never in logs or repr
    properties: list[tuple[str, str]] = field(default_factory=list)
    session_id: str | None = None


@dataclass(kw_only=True)
class AsyncSendMessageRequest:
    """``sendMessage/request`` (also each ``AsyncMessage`` of getMessages): info and ``data``."""

    info: AsyncMessageInfo
    data: etree._Element


@dataclass(kw_only=True)
class AsyncSendMessageResponse:
    """``sendMessageResponse/response``: the ids SHEP assigned (or the participant echoes)."""

    message_id: str
    correlation_id: str | None = None
    response_date: datetime
    session_id: str | None = None


@dataclass(kw_only=True)
class AsyncGetMessageStatusRequest:
    """``getMessageStatus/request``."""

    message_id: str
    request_date: datetime
    sender_id: str
    password: str | None = field(default=None, repr=False)
    properties: list[tuple[str, str]] = field(default_factory=list)


@dataclass(kw_only=True)
class AsyncGetMessageStatusResponse:
    """``getMessageStatusResponse/response``: state plus MessageStatusInfo."""

    state: MessageState
    status_code: str
    status_message: str
    status_date: datetime
    response_date: datetime
    session_id: str | None = None


@dataclass(kw_only=True)
class AsyncDeliveryNotificationRequest:
    """``sendDeliveryNotification/request``: DeliveryNotification flattened, then requestDate."""

    message_id: str
    service_id: str
    notification_date: datetime
    receive_status: ReceiveStatus
    status_date: datetime
    resend_message: ResendMessage
    error: ErrorInfo | None = None
    request_date: datetime
    sender_id: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(kw_only=True)
class AsyncDeliveryNotificationResponse:
    """``sendDeliveryNotificationResponse/response``."""

    notification_id: str
    response_date: datetime
    session_id: str


@dataclass(kw_only=True)
class AsyncGetMessagesRequest:
    """``getMessages/request``: PULL filters (sheet §3.3).

    The sheet's combinations are messageId, correlationId or neither, always with the recipient
    (``sender``) and serviceId. A request naming both ids is not refused here; the filters apply
    together.
    """

    message_id: str | None = None
    correlation_id: str | None = None
    request_date: datetime | None = None
    service_id: str
    sender_id: str | None = None
    password: str | None = field(default=None, repr=False)
    amount: int | None = None
    properties: list[tuple[str, str]] = field(default_factory=list)

    def batch_size(self, default: int) -> int:
        """How many messages to return: ``amount``, or ``default`` when absent, 0 or negative."""
        return self.amount if self.amount is not None and self.amount > 0 else default


@dataclass(kw_only=True)
class AsyncGetMessagesResponse:
    """``getMessagesResponse/response``: the queued messages, oldest first as given."""

    response_date: datetime
    session_id: str
    messages: list[AsyncSendMessageRequest] = field(default_factory=list)


@dataclass(kw_only=True)
class AsyncChangeStatusNotification:
    """``changeMassageStatusNotification/request``: ChangeStatusNotification flattened."""

    notification_id: str
    message_id: str
    notification_date: datetime
    state: MessageState
    status_code: str
    status_message: str
    status_date: datetime
    error: ErrorInfo | None = None
    request_date: datetime
    session_id: str | None = None


@dataclass(kw_only=True)
class AsyncChangeStatusNotificationResponse:
    """``changeMassageStatusNotificationResponse/response``; sessionId echoes the request's."""

    response_date: datetime
    session_id: str | None = None


# --- sendMessage -------------------------------------------------------------------------------


def parse_send_message(operation: etree._Element) -> AsyncSendMessageRequest:
    """Read ``sendMessage`` in ``…/AsyncChannel/v10/Types`` or ``…/Types/Client`` (sheet §3.2)."""
    _expect(operation, SEND_MESSAGE, SEND_MESSAGE_CLIENT)
    return _message(_wrapped(operation, "request"), "request")


def delivered_message(
    req: AsyncSendMessageRequest, *, message_id: str, correlation_id: str, session_id: str
) -> AsyncSendMessageRequest:
    """The copy SHEP hands the recipient: its assigned ids, its sessionId, and no password."""
    info = dataclasses.replace(
        req.info,
        message_id=message_id,
        correlation_id=correlation_id,
        session_id=session_id,
        password=None,
    )
    return AsyncSendMessageRequest(info=info, data=req.data)


def build_send_message_envelope(
    req: AsyncSendMessageRequest, *, namespace: str = ASYNC_TYPES, body_id: str | None = None
) -> etree._Element:
    """An unsigned envelope with ``sendMessage``: SHEP's PUSH, or a participant's send.

    SHEP pushes the element of ``…/Types`` (sheet §3.2); ``namespace`` exists for the contract's
    second declaration in ``…/Types/Client``.
    """
    if namespace not in (ASYNC_TYPES, ASYNC_TYPES_CLIENT):
        raise ValueError(f"sendMessage is not declared in {namespace!r}")
    envelope, request = _operation(qname(namespace, "sendMessage"), "request", body_id)
    _add_message(request, req)
    return envelope


def build_send_message_response(
    *,
    message_id: str,
    correlation_id: str,
    response_date: datetime,
    session_id: str | None = None,
    namespace: str = ASYNC_TYPES,
    body_id: str | None = None,
) -> etree._Element:
    """``sendMessageResponse``: SHEP's answer to a send, or a participant's answer to a PUSH."""
    if namespace not in (ASYNC_TYPES, ASYNC_TYPES_CLIENT):
        raise ValueError(f"sendMessageResponse is not declared in {namespace!r}")
    envelope, response = _operation(qname(namespace, "sendMessageResponse"), "response", body_id)
    add_text(response, "messageId", message_id)
    add_text(response, "correlationId", correlation_id)
    add_text(response, "responseDate", format_datetime(response_date))
    add_text(response, "sessionId", session_id)
    return envelope


def parse_send_message_response(operation: etree._Element) -> AsyncSendMessageResponse:
    """Read ``sendMessageResponse`` (either namespace): SHEP's ids, or a participant's echo."""
    _expect(operation, SEND_MESSAGE_RESPONSE, SEND_MESSAGE_RESPONSE_CLIENT)
    response = _wrapped(operation, "response")
    return AsyncSendMessageResponse(
        message_id=_required_text(response, "messageId", "response"),
        correlation_id=text_of(child(response, "correlationId")),
        response_date=_required_date(response, "responseDate", "response"),
        session_id=text_of(child(response, "sessionId")),
    )


# --- getMessageStatus --------------------------------------------------------------------------


def parse_get_message_status(operation: etree._Element) -> AsyncGetMessageStatusRequest:
    """Read ``getMessageStatus``."""
    _expect(operation, GET_MESSAGE_STATUS)
    request = _wrapped(operation, "request")
    sender_id, password = _sender(request)
    return AsyncGetMessageStatusRequest(
        message_id=_required_text(request, "messageId", "request"),
        request_date=_required_date(request, "requestDate", "request"),
        sender_id=sender_id,
        password=password,
        properties=_properties(request),
    )


def build_get_message_status_envelope(
    req: AsyncGetMessageStatusRequest, *, body_id: str | None = None
) -> etree._Element:
    """What a participant sends to ask for a message's state."""
    envelope, request = _operation(GET_MESSAGE_STATUS, "request", body_id)
    add_text(request, "messageId", req.message_id)
    add_text(request, "requestDate", format_datetime(req.request_date))
    _add_sender(request, req.sender_id, req.password)
    _add_properties(request, req.properties)
    return envelope


def build_get_message_status_response(
    *,
    state: MessageState,
    status_code: str,
    status_message: str,
    status_date: datetime,
    response_date: datetime,
    session_id: str | None = None,
    body_id: str | None = None,
) -> etree._Element:
    """``getMessageStatusResponse``: the message's state and its MessageStatusInfo."""
    envelope, response = _operation(GET_MESSAGE_STATUS_RESPONSE, "response", body_id)
    add_text(response, "messageState", MessageState(state).value)
    _add_status(response, status_code, status_message, status_date)
    add_text(response, "responseDate", format_datetime(response_date))
    add_text(response, "sessionId", session_id)
    return envelope


def parse_get_message_status_response(
    operation: etree._Element,
) -> AsyncGetMessageStatusResponse:
    """Read ``getMessageStatusResponse``."""
    _expect(operation, GET_MESSAGE_STATUS_RESPONSE)
    response = _wrapped(operation, "response")
    code, message, date = _status(response)
    return AsyncGetMessageStatusResponse(
        state=_required_enum(response, "messageState", "response", MessageState),
        status_code=code,
        status_message=message,
        status_date=date,
        response_date=_required_date(response, "responseDate", "response"),
        session_id=text_of(child(response, "sessionId")),
    )


# --- sendDeliveryNotification ------------------------------------------------------------------


def parse_delivery_notification(operation: etree._Element) -> AsyncDeliveryNotificationRequest:
    """Read ``sendDeliveryNotification``: the recipient's (non-)delivery report."""
    _expect(operation, SEND_DELIVERY_NOTIFICATION)
    request = _wrapped(operation, "request")
    notification = _required(request, "notification", "request")
    status = _required(notification, "deliveryStatus", "notification")
    error = child(status, "error")
    sender_id, password = _optional_sender(request)
    return AsyncDeliveryNotificationRequest(
        message_id=_required_text(notification, "messageId", "notification"),
        service_id=_required_text(notification, "serviceId", "notification"),
        notification_date=_required_date(notification, "notificationDate", "notification"),
        receive_status=_required_enum(status, "receiveStatus", "deliveryStatus", ReceiveStatus),
        status_date=_required_date(status, "statusDate", "deliveryStatus"),
        resend_message=_required_enum(status, "resendMessage", "deliveryStatus", ResendMessage),
        error=ErrorInfo.from_element(error) if error is not None else None,
        request_date=_required_date(request, "requestDate", "request"),
        sender_id=sender_id,
        password=password,
    )


def build_delivery_notification_envelope(
    req: AsyncDeliveryNotificationRequest, *, body_id: str | None = None
) -> etree._Element:
    """What a recipient sends to report that it did (not) take a message."""
    envelope, request = _operation(SEND_DELIVERY_NOTIFICATION, "request", body_id)
    notification = etree.SubElement(request, "notification")
    add_text(notification, "messageId", req.message_id)
    add_text(notification, "serviceId", req.service_id)
    add_text(notification, "notificationDate", format_datetime(req.notification_date))
    status = etree.SubElement(notification, "deliveryStatus")
    add_text(status, "receiveStatus", ReceiveStatus(req.receive_status).value)
    add_text(status, "statusDate", format_datetime(req.status_date))
    add_text(status, "resendMessage", ResendMessage(req.resend_message).value)
    if req.error is not None:
        req.error.fill(etree.SubElement(status, "error"), now=req.status_date)
    add_text(request, "requestDate", format_datetime(req.request_date))
    if req.sender_id is not None:
        _add_sender(request, req.sender_id, req.password)
    return envelope


def build_delivery_notification_response(
    *,
    notification_id: str,
    response_date: datetime,
    session_id: str,
    body_id: str | None = None,
) -> etree._Element:
    """``sendDeliveryNotificationResponse``: the id SHEP gave the notification."""
    envelope, response = _operation(SEND_DELIVERY_NOTIFICATION_RESPONSE, "response", body_id)
    add_text(response, "notificationId", notification_id)
    add_text(response, "responseDate", format_datetime(response_date))
    add_text(response, "sessionId", session_id)
    return envelope


def parse_delivery_notification_response(
    operation: etree._Element,
) -> AsyncDeliveryNotificationResponse:
    """Read ``sendDeliveryNotificationResponse``."""
    _expect(operation, SEND_DELIVERY_NOTIFICATION_RESPONSE)
    response = _wrapped(operation, "response")
    return AsyncDeliveryNotificationResponse(
        notification_id=_required_text(response, "notificationId", "response"),
        response_date=_required_date(response, "responseDate", "response"),
        session_id=text_of(child(response, "sessionId")) or "",
    )


# --- getMessages -------------------------------------------------------------------------------


def parse_get_messages(operation: etree._Element) -> AsyncGetMessagesRequest:
    """Read ``getMessages``; empty ``requestDate``/``amount`` count as absent (sheet §7.5)."""
    _expect(operation, GET_MESSAGES)
    request = _wrapped(operation, "request")
    sender_id, password = _optional_sender(request)
    return AsyncGetMessagesRequest(
        message_id=text_of(child(request, "messageId")),
        correlation_id=text_of(child(request, "correlationId")),
        request_date=_optional_date(request, "requestDate", "request"),
        service_id=_required_text(request, "serviceId", "request"),
        sender_id=sender_id,
        password=password,
        amount=_optional_int(request, "amount", "request"),
        properties=_properties(request),
    )


def build_get_messages_envelope(
    req: AsyncGetMessagesRequest, *, body_id: str | None = None
) -> etree._Element:
    """What a participant in PULL mode sends to fetch its queued messages."""
    envelope, request = _operation(GET_MESSAGES, "request", body_id)
    add_text(request, "messageId", req.message_id)
    add_text(request, "correlationId", req.correlation_id)
    if req.request_date is not None:
        add_text(request, "requestDate", format_datetime(req.request_date))
    add_text(request, "serviceId", req.service_id)
    if req.sender_id is not None:
        _add_sender(request, req.sender_id, req.password)
    add_text(request, "amount", None if req.amount is None else str(req.amount))
    _add_properties(request, req.properties)
    return envelope


def build_get_messages_response(
    *,
    messages: Iterable[AsyncSendMessageRequest],
    response_date: datetime,
    session_id: str,
    body_id: str | None = None,
) -> etree._Element:
    """``getMessagesResponse``: each message as ``messages{messageInfo, messageData}``."""
    envelope, response = _operation(GET_MESSAGES_RESPONSE, "response", body_id)
    add_text(response, "responseDate", format_datetime(response_date))
    add_text(response, "sessionId", session_id)
    for message in messages:
        _add_message(etree.SubElement(response, "messages"), message)
    return envelope


def parse_get_messages_response(operation: etree._Element) -> AsyncGetMessagesResponse:
    """Read ``getMessagesResponse`` (what a PULL participant receives)."""
    _expect(operation, GET_MESSAGES_RESPONSE)
    response = _wrapped(operation, "response")
    return AsyncGetMessagesResponse(
        response_date=_required_date(response, "responseDate", "response"),
        session_id=text_of(child(response, "sessionId")) or "",
        messages=[_message(m, "messages") for m in children(response, "messages")],
    )


# --- changeMassageStatusNotification (PUSH to the sender) --------------------------------------


def build_change_status_notification(
    *,
    notification_id: str,
    message_id: str,
    notification_date: datetime,
    state: MessageState,
    status_code: str,
    status_message: str,
    status_date: datetime,
    error: ErrorInfo | None = None,
    request_date: datetime,
    session_id: str | None = None,
    body_id: str | None = None,
) -> etree._Element:
    """What SHEP sends a sender when the state of its message ``message_id`` changes."""
    envelope, request = _operation(CHANGE_STATUS_NOTIFICATION, "request", body_id)
    notification = etree.SubElement(request, "notification")
    add_text(notification, "notificationId", notification_id)
    add_text(notification, "messageId", message_id)
    add_text(notification, "notificationDate", format_datetime(notification_date))
    add_text(notification, "messageState", MessageState(state).value)
    _add_status(notification, status_code, status_message, status_date)
    if error is not None:
        error.fill(etree.SubElement(notification, "error"), now=notification_date)
    add_text(request, "requestDate", format_datetime(request_date))
    add_text(request, "sessionId", session_id)
    return envelope


def parse_change_status_notification(operation: etree._Element) -> AsyncChangeStatusNotification:
    """Read ``changeMassageStatusNotification`` (the participant's side)."""
    _expect(operation, CHANGE_STATUS_NOTIFICATION)
    request = _wrapped(operation, "request")
    notification = _required(request, "notification", "request")
    code, message, date = _status(notification)
    error = child(notification, "error")
    return AsyncChangeStatusNotification(
        notification_id=_required_text(notification, "notificationId", "notification"),
        message_id=_required_text(notification, "messageId", "notification"),
        notification_date=_required_date(notification, "notificationDate", "notification"),
        state=_required_enum(notification, "messageState", "notification", MessageState),
        status_code=code,
        status_message=message,
        status_date=date,
        error=ErrorInfo.from_element(error) if error is not None else None,
        request_date=_required_date(request, "requestDate", "request"),
        session_id=text_of(child(request, "sessionId")),
    )


def build_change_status_notification_response(
    *, response_date: datetime, session_id: str, body_id: str | None = None
) -> etree._Element:
    """The participant's answer; ``session_id`` echoes the notification's (sheet §3.2)."""
    envelope, response = _operation(CHANGE_STATUS_NOTIFICATION_RESPONSE, "response", body_id)
    add_text(response, "responseDate", format_datetime(response_date))
    add_text(response, "sessionId", session_id)
    return envelope


def parse_change_status_notification_response(
    operation: etree._Element,
) -> AsyncChangeStatusNotificationResponse:
    """Read the participant's ``changeMassageStatusNotificationResponse``."""
    _expect(operation, CHANGE_STATUS_NOTIFICATION_RESPONSE)
    response = _wrapped(operation, "response")
    return AsyncChangeStatusNotificationResponse(
        response_date=_required_date(response, "responseDate", "response"),
        session_id=text_of(child(response, "sessionId")),
    )


# --- shared pieces -----------------------------------------------------------------------------


def _expect(operation: etree._Element, *tags: str) -> None:
    if operation.tag not in tags:
        raise GatewayError(SOAP_UNKNOWN_OPERATION, f"the Body holds {operation.tag}")


def _operation(
    tag: str, wrapper: str, body_id: str | None
) -> tuple[etree._Element, etree._Element]:
    """A new envelope with ``<tag><wrapper/></tag>`` in the Body; returns envelope and wrapper."""
    envelope, body = _envelope(body_id)
    op = etree.SubElement(body, tag, nsmap={"ns2": etree.QName(tag).namespace})
    return envelope, etree.SubElement(op, wrapper)


def _message(parent: etree._Element, where: str) -> AsyncSendMessageRequest:
    """An AsyncSendMessageRequest / AsyncMessage: ``messageInfo`` and ``messageData/data``."""
    info = _required(parent, "messageInfo", where)
    container = _required(parent, "messageData", where)
    data = child(container, "data")
    if data is None:
        raise GatewayError(SCHEMA_INVALID, "messageData/data is missing")
    return AsyncSendMessageRequest(info=_message_info(info), data=data)


def _message_info(info: etree._Element) -> AsyncMessageInfo:
    sender_id, password = _sender(info)
    return AsyncMessageInfo(
        message_id=text_of(child(info, "messageId")),
        correlation_id=text_of(child(info, "correlationId")),
        service_id=_required_text(info, "serviceId", "messageInfo"),
        message_type=_required_enum(info, "messageType", "messageInfo", MessageType),
        route_id=text_of(child(info, "routeId")),
        message_date=_required_date(info, "messageDate", "messageInfo"),
        sender_id=sender_id,
        password=password,
        properties=_properties(info),
        session_id=text_of(child(info, "sessionId")),
    )


def _add_message(parent: etree._Element, message: AsyncSendMessageRequest) -> None:
    info, out = message.info, etree.SubElement(parent, "messageInfo")
    add_text(out, "messageId", info.message_id)
    add_text(out, "correlationId", info.correlation_id)
    add_text(out, "serviceId", info.service_id)
    add_text(out, "messageType", MessageType(info.message_type).value)
    add_text(out, "routeId", info.route_id)
    add_text(out, "messageDate", format_datetime(info.message_date))
    _add_sender(out, info.sender_id, info.password)
    _add_properties(out, info.properties)
    add_text(out, "sessionId", info.session_id)
    etree.SubElement(parent, "messageData").append(copy_payload(message.data))


def _sender(parent: etree._Element) -> tuple[str, str | None]:
    """The required ``sender``: senderId and password (its text kept exactly: a secret)."""
    sender = _required(parent, "sender", etree.QName(parent).localname)
    password = child(sender, "password")
    return (
        _required_text(sender, "senderId", "sender"),
        (password.text or None) if password is not None else None,
    )


def _optional_sender(parent: etree._Element) -> tuple[str | None, str | None]:
    """An optional ``sender`` (0..1 in getMessages and sendDeliveryNotification)."""
    return _sender(parent) if child(parent, "sender") is not None else (None, None)


def _add_sender(parent: etree._Element, sender_id: str, password: str | None) -> None:
    sender = etree.SubElement(parent, "sender")
    add_text(sender, "senderId", sender_id)
    add_text(sender, "password", password)


def _add_properties(parent: etree._Element, properties: Iterable[tuple[str, str]]) -> None:
    for key, value in properties:
        prop = etree.SubElement(parent, "properties")
        add_text(prop, "key", key)
        add_text(prop, "value", value)


def _status(parent: etree._Element) -> tuple[str, str, datetime]:
    """MessageStatusInfo ``status``: statusCode, statusMessage (may be empty), statusDate."""
    status = _required(parent, "status", etree.QName(parent).localname)
    return (
        _required_text(status, "statusCode", "status"),
        text_of(child(status, "statusMessage")) or "",
        _required_date(status, "statusDate", "status"),
    )


def _add_status(parent: etree._Element, code: str, message: str, date: datetime) -> None:
    status = etree.SubElement(parent, "status")
    add_text(status, "statusCode", code)
    add_text(status, "statusMessage", message)
    add_text(status, "statusDate", format_datetime(date))


def _required_enum(parent: etree._Element, name: str, where: str, enum: type[_E]) -> _E:
    text = _required_text(parent, name, where)
    try:
        return enum(text)
    except ValueError:
        raise GatewayError(SCHEMA_INVALID, f"{where}/{name}: unknown value {text[:40]!r}") from None


def _optional_date(parent: etree._Element, name: str, where: str) -> datetime | None:
    text = text_of(child(parent, name))
    if text is None:
        return None
    try:
        return parse_datetime(text)
    except ValueError as exc:
        raise GatewayError(SCHEMA_INVALID, f"{where}/{name}: {exc}") from None


def _optional_int(parent: etree._Element, name: str, where: str) -> int | None:
    text = text_of(child(parent, name))
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise GatewayError(SCHEMA_INVALID, f"{where}/{name}: not an integer") from None
