"""AsyncChannel v10's messages as values: the operations' qualified names, the enumerations of the
contract (message types, states, receive statuses) and one dataclass per request and answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from lxml import etree

from connectors.soap.faults import ErrorInfo
from connectors.soap.namespaces import ASYNC_TYPES, ASYNC_TYPES_CLIENT, qname

__all__ = [
    "CHANGE_STATUS_NOTIFICATION",
    "CHANGE_STATUS_NOTIFICATION_RESPONSE",
    "GET_MESSAGES",
    "GET_MESSAGES_RESPONSE",
    "GET_MESSAGE_STATUS",
    "GET_MESSAGE_STATUS_RESPONSE",
    "SEND_DELIVERY_NOTIFICATION",
    "SEND_DELIVERY_NOTIFICATION_RESPONSE",
    "SEND_MESSAGE",
    "SEND_MESSAGE_CLIENT",
    "SEND_MESSAGE_RESPONSE",
    "SEND_MESSAGE_RESPONSE_CLIENT",
    "AsyncChangeStatusNotification",
    "AsyncChangeStatusNotificationResponse",
    "AsyncDeliveryNotificationRequest",
    "AsyncDeliveryNotificationResponse",
    "AsyncGetMessageStatusRequest",
    "AsyncGetMessageStatusResponse",
    "AsyncGetMessagesRequest",
    "AsyncGetMessagesResponse",
    "AsyncMessageInfo",
    "AsyncSendMessageRequest",
    "AsyncSendMessageResponse",
    "MessageState",
    "MessageType",
    "ReceiveStatus",
    "ResendMessage",
]


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
