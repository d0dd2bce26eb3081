"""The PUSH side of the AsyncChannel (SHEP → participant, sheet §3.2): the state-change
notification to the sender and the participant's answer to it.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from connectors.soap.async_.messages import (
    add_status,
    expect_operation,
    new_operation,
    read_status,
)
from connectors.soap.async_.models import (
    CHANGE_STATUS_NOTIFICATION,
    CHANGE_STATUS_NOTIFICATION_RESPONSE,
    AsyncChangeStatusNotification,
    AsyncChangeStatusNotificationResponse,
    MessageState,
)
from connectors.soap.faults import ErrorInfo
from connectors.soap.fields import (
    required,
    required_date,
    required_enum,
    required_text,
    wrapped,
)
from connectors.soap.values import (
    add_text,
    child,
    format_datetime,
    text_of,
)

__all__ = [
    "build_change_status_notification",
    "build_change_status_notification_response",
    "parse_change_status_notification",
    "parse_change_status_notification_response",
]


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
    envelope, request = new_operation(CHANGE_STATUS_NOTIFICATION, "request", body_id)
    notification = etree.SubElement(request, "notification")
    add_text(notification, "notificationId", notification_id)
    add_text(notification, "messageId", message_id)
    add_text(notification, "notificationDate", format_datetime(notification_date))
    add_text(notification, "messageState", MessageState(state).value)
    add_status(notification, status_code, status_message, status_date)
    if error is not None:
        error.fill(etree.SubElement(notification, "error"), now=notification_date)
    add_text(request, "requestDate", format_datetime(request_date))
    add_text(request, "sessionId", session_id)
    return envelope


def parse_change_status_notification(operation: etree._Element) -> AsyncChangeStatusNotification:
    """Read ``changeMassageStatusNotification`` (the participant's side)."""
    expect_operation(operation, CHANGE_STATUS_NOTIFICATION)
    request = wrapped(operation, "request")
    notification = required(request, "notification", "request")
    code, message, date = read_status(notification)
    error = child(notification, "error")
    return AsyncChangeStatusNotification(
        notification_id=required_text(notification, "notificationId", "notification"),
        message_id=required_text(notification, "messageId", "notification"),
        notification_date=required_date(notification, "notificationDate", "notification"),
        state=required_enum(notification, "messageState", "notification", MessageState),
        status_code=code,
        status_message=message,
        status_date=date,
        error=ErrorInfo.from_element(error) if error is not None else None,
        request_date=required_date(request, "requestDate", "request"),
        session_id=text_of(child(request, "sessionId")),
    )


def build_change_status_notification_response(
    *, response_date: datetime, session_id: str, body_id: str | None = None
) -> etree._Element:
    """The participant's answer; ``session_id`` echoes the notification's (sheet §3.2)."""
    envelope, response = new_operation(CHANGE_STATUS_NOTIFICATION_RESPONSE, "response", body_id)
    add_text(response, "responseDate", format_datetime(response_date))
    add_text(response, "sessionId", session_id)
    return envelope


def parse_change_status_notification_response(
    operation: etree._Element,
) -> AsyncChangeStatusNotificationResponse:
    """Read the participant's ``changeMassageStatusNotificationResponse``."""
    expect_operation(operation, CHANGE_STATUS_NOTIFICATION_RESPONSE)
    response = wrapped(operation, "response")
    return AsyncChangeStatusNotificationResponse(
        response_date=required_date(response, "responseDate", "response"),
        session_id=text_of(child(response, "sessionId")),
    )
