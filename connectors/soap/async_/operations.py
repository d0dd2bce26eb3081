"""The gateway's four AsyncChannel operations (participant → SHEP, sheet §3.1): ``sendMessage``,
``getMessageStatus``, ``sendDeliveryNotification``, ``getMessages``; each has ``parse_<op>`` for
the received request, ``build_<op>_response`` for the answer, and, for participants,
``build_<op>envelope_skeleton`` and ``parse_<op>_response``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime

from lxml import etree

from connectors.soap.async_.messages import (
    add_message,
    add_sender,
    add_status,
    expect_operation,
    new_operation,
    read_message,
    read_optional_sender,
    read_sender,
    read_status,
)
from connectors.soap.async_.models import (
    GET_MESSAGE_STATUS,
    GET_MESSAGE_STATUS_RESPONSE,
    GET_MESSAGES,
    GET_MESSAGES_RESPONSE,
    SEND_DELIVERY_NOTIFICATION,
    SEND_DELIVERY_NOTIFICATION_RESPONSE,
    SEND_MESSAGE,
    SEND_MESSAGE_CLIENT,
    SEND_MESSAGE_RESPONSE,
    SEND_MESSAGE_RESPONSE_CLIENT,
    AsyncDeliveryNotificationRequest,
    AsyncDeliveryNotificationResponse,
    AsyncGetMessagesRequest,
    AsyncGetMessagesResponse,
    AsyncGetMessageStatusRequest,
    AsyncGetMessageStatusResponse,
    AsyncSendMessageRequest,
    AsyncSendMessageResponse,
    MessageState,
    ReceiveStatus,
    ResendMessage,
)
from connectors.soap.faults import ErrorInfo
from connectors.soap.fields import (
    add_properties,
    optional_date,
    optional_int,
    read_properties,
    required,
    required_date,
    required_enum,
    required_text,
    wrapped,
)
from connectors.soap.namespaces import ASYNC_TYPES, ASYNC_TYPES_CLIENT, qname
from connectors.soap.values import (
    add_text,
    child,
    children,
    format_datetime,
    text_of,
)

__all__ = [
    "build_delivery_notification_envelope",
    "build_delivery_notification_response",
    "build_get_message_status_envelope",
    "build_get_message_status_response",
    "build_get_messages_envelope",
    "build_get_messages_response",
    "build_send_message_envelope",
    "build_send_message_response",
    "delivered_message",
    "parse_delivery_notification",
    "parse_delivery_notification_response",
    "parse_get_message_status",
    "parse_get_message_status_response",
    "parse_get_messages",
    "parse_get_messages_response",
    "parse_send_message",
    "parse_send_message_response",
]


# --- sendMessage -------------------------------------------------------------------------------


def parse_send_message(operation: etree._Element) -> AsyncSendMessageRequest:
    """Read ``sendMessage`` in ``…/AsyncChannel/v10/Types`` or ``…/Types/Client`` (sheet §3.2)."""
    expect_operation(operation, SEND_MESSAGE, SEND_MESSAGE_CLIENT)
    return read_message(wrapped(operation, "request"), "request")


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
    envelope, request = new_operation(qname(namespace, "sendMessage"), "request", body_id)
    add_message(request, req)
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
    envelope, response = new_operation(qname(namespace, "sendMessageResponse"), "response", body_id)
    add_text(response, "messageId", message_id)
    add_text(response, "correlationId", correlation_id)
    add_text(response, "responseDate", format_datetime(response_date))
    add_text(response, "sessionId", session_id)
    return envelope


def parse_send_message_response(operation: etree._Element) -> AsyncSendMessageResponse:
    """Read ``sendMessageResponse`` (either namespace): SHEP's ids, or a participant's echo."""
    expect_operation(operation, SEND_MESSAGE_RESPONSE, SEND_MESSAGE_RESPONSE_CLIENT)
    response = wrapped(operation, "response")
    return AsyncSendMessageResponse(
        message_id=required_text(response, "messageId", "response"),
        correlation_id=text_of(child(response, "correlationId")),
        response_date=required_date(response, "responseDate", "response"),
        session_id=text_of(child(response, "sessionId")),
    )


# --- getMessageStatus --------------------------------------------------------------------------


def parse_get_message_status(operation: etree._Element) -> AsyncGetMessageStatusRequest:
    """Read ``getMessageStatus``."""
    expect_operation(operation, GET_MESSAGE_STATUS)
    request = wrapped(operation, "request")
    sender_id, password = read_sender(request)
    return AsyncGetMessageStatusRequest(
        message_id=required_text(request, "messageId", "request"),
        request_date=required_date(request, "requestDate", "request"),
        sender_id=sender_id,
        password=password,
        properties=read_properties(request),
    )


def build_get_message_status_envelope(
    req: AsyncGetMessageStatusRequest, *, body_id: str | None = None
) -> etree._Element:
    """What a participant sends to ask for a message's state."""
    envelope, request = new_operation(GET_MESSAGE_STATUS, "request", body_id)
    add_text(request, "messageId", req.message_id)
    add_text(request, "requestDate", format_datetime(req.request_date))
    add_sender(request, req.sender_id, req.password)
    add_properties(request, req.properties)
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
    envelope, response = new_operation(GET_MESSAGE_STATUS_RESPONSE, "response", body_id)
    add_text(response, "messageState", MessageState(state).value)
    add_status(response, status_code, status_message, status_date)
    add_text(response, "responseDate", format_datetime(response_date))
    add_text(response, "sessionId", session_id)
    return envelope


def parse_get_message_status_response(
    operation: etree._Element,
) -> AsyncGetMessageStatusResponse:
    """Read ``getMessageStatusResponse``."""
    expect_operation(operation, GET_MESSAGE_STATUS_RESPONSE)
    response = wrapped(operation, "response")
    code, message, date = read_status(response)
    return AsyncGetMessageStatusResponse(
        state=required_enum(response, "messageState", "response", MessageState),
        status_code=code,
        status_message=message,
        status_date=date,
        response_date=required_date(response, "responseDate", "response"),
        session_id=text_of(child(response, "sessionId")),
    )


# --- sendDeliveryNotification ------------------------------------------------------------------


def parse_delivery_notification(operation: etree._Element) -> AsyncDeliveryNotificationRequest:
    """Read ``sendDeliveryNotification``: the recipient's (non-)delivery report."""
    expect_operation(operation, SEND_DELIVERY_NOTIFICATION)
    request = wrapped(operation, "request")
    notification = required(request, "notification", "request")
    status = required(notification, "deliveryStatus", "notification")
    error = child(status, "error")
    sender_id, password = read_optional_sender(request)
    return AsyncDeliveryNotificationRequest(
        message_id=required_text(notification, "messageId", "notification"),
        service_id=required_text(notification, "serviceId", "notification"),
        notification_date=required_date(notification, "notificationDate", "notification"),
        receive_status=required_enum(status, "receiveStatus", "deliveryStatus", ReceiveStatus),
        status_date=required_date(status, "statusDate", "deliveryStatus"),
        resend_message=required_enum(status, "resendMessage", "deliveryStatus", ResendMessage),
        error=ErrorInfo.from_element(error) if error is not None else None,
        request_date=required_date(request, "requestDate", "request"),
        sender_id=sender_id,
        password=password,
    )


def build_delivery_notification_envelope(
    req: AsyncDeliveryNotificationRequest, *, body_id: str | None = None
) -> etree._Element:
    """What a recipient sends to report that it did (not) take a message."""
    envelope, request = new_operation(SEND_DELIVERY_NOTIFICATION, "request", body_id)
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
        add_sender(request, req.sender_id, req.password)
    return envelope


def build_delivery_notification_response(
    *,
    notification_id: str,
    response_date: datetime,
    session_id: str,
    body_id: str | None = None,
) -> etree._Element:
    """``sendDeliveryNotificationResponse``: the id SHEP gave the notification."""
    envelope, response = new_operation(SEND_DELIVERY_NOTIFICATION_RESPONSE, "response", body_id)
    add_text(response, "notificationId", notification_id)
    add_text(response, "responseDate", format_datetime(response_date))
    add_text(response, "sessionId", session_id)
    return envelope


def parse_delivery_notification_response(
    operation: etree._Element,
) -> AsyncDeliveryNotificationResponse:
    """Read ``sendDeliveryNotificationResponse``."""
    expect_operation(operation, SEND_DELIVERY_NOTIFICATION_RESPONSE)
    response = wrapped(operation, "response")
    return AsyncDeliveryNotificationResponse(
        notification_id=required_text(response, "notificationId", "response"),
        response_date=required_date(response, "responseDate", "response"),
        session_id=text_of(child(response, "sessionId")) or "",
    )


# --- getMessages -------------------------------------------------------------------------------


def parse_get_messages(operation: etree._Element) -> AsyncGetMessagesRequest:
    """Read ``getMessages``; empty ``requestDate``/``amount`` count as absent (sheet §7.5)."""
    expect_operation(operation, GET_MESSAGES)
    request = wrapped(operation, "request")
    sender_id, password = read_optional_sender(request)
    return AsyncGetMessagesRequest(
        message_id=text_of(child(request, "messageId")),
        correlation_id=text_of(child(request, "correlationId")),
        request_date=optional_date(request, "requestDate", "request"),
        service_id=required_text(request, "serviceId", "request"),
        sender_id=sender_id,
        password=password,
        amount=optional_int(request, "amount", "request"),
        properties=read_properties(request),
    )


def build_get_messages_envelope(
    req: AsyncGetMessagesRequest, *, body_id: str | None = None
) -> etree._Element:
    """What a participant in PULL mode sends to fetch its queued messages."""
    envelope, request = new_operation(GET_MESSAGES, "request", body_id)
    add_text(request, "messageId", req.message_id)
    add_text(request, "correlationId", req.correlation_id)
    if req.request_date is not None:
        add_text(request, "requestDate", format_datetime(req.request_date))
    add_text(request, "serviceId", req.service_id)
    if req.sender_id is not None:
        add_sender(request, req.sender_id, req.password)
    add_text(request, "amount", None if req.amount is None else str(req.amount))
    add_properties(request, req.properties)
    return envelope


def build_get_messages_response(
    *,
    messages: Iterable[AsyncSendMessageRequest],
    response_date: datetime,
    session_id: str,
    body_id: str | None = None,
) -> etree._Element:
    """``getMessagesResponse``: each message as ``messages{messageInfo, messageData}``."""
    envelope, response = new_operation(GET_MESSAGES_RESPONSE, "response", body_id)
    add_text(response, "responseDate", format_datetime(response_date))
    add_text(response, "sessionId", session_id)
    for message in messages:
        add_message(etree.SubElement(response, "messages"), message)
    return envelope


def parse_get_messages_response(operation: etree._Element) -> AsyncGetMessagesResponse:
    """Read ``getMessagesResponse`` (what a PULL participant receives)."""
    expect_operation(operation, GET_MESSAGES_RESPONSE)
    response = wrapped(operation, "response")
    return AsyncGetMessagesResponse(
        response_date=required_date(response, "responseDate", "response"),
        session_id=text_of(child(response, "sessionId")) or "",
        messages=[read_message(m, "messages") for m in children(response, "messages")],
    )
