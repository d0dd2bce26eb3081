"""The AsyncChannel's shared message parts, read and written alike by every operation: the
operation wrapper, an AsyncMessage (``messageInfo`` + ``messageData/data``), the sender and the
status.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from connectors.errors import SCHEMA_INVALID, SOAP_UNKNOWN_OPERATION, GatewayError
from connectors.soap.async_.models import (
    AsyncMessageInfo,
    AsyncSendMessageRequest,
    MessageType,
)
from connectors.soap.fields import (
    add_properties,
    envelope_skeleton,
    read_properties,
    required,
    required_date,
    required_enum,
    required_text,
)
from connectors.soap.sync import copy_payload
from connectors.soap.values import (
    add_text,
    child,
    format_datetime,
    text_of,
)

__all__ = [
    "add_message",
    "add_sender",
    "add_status",
    "expect_operation",
    "new_operation",
    "read_message",
    "read_message_info",
    "read_optional_sender",
    "read_sender",
    "read_status",
]


def expect_operation(operation: etree._Element, *tags: str) -> None:
    if operation.tag not in tags:
        raise GatewayError(SOAP_UNKNOWN_OPERATION, f"the Body holds {operation.tag}")


def new_operation(
    tag: str, wrapper: str, body_id: str | None
) -> tuple[etree._Element, etree._Element]:
    """A new envelope with ``<tag><wrapper/></tag>`` in the Body; returns envelope and wrapper."""
    envelope, body = envelope_skeleton(body_id)
    op = etree.SubElement(body, tag, nsmap={"ns2": etree.QName(tag).namespace})
    return envelope, etree.SubElement(op, wrapper)


def read_message(parent: etree._Element, where: str) -> AsyncSendMessageRequest:
    """An AsyncSendMessageRequest / AsyncMessage: ``messageInfo`` and ``messageData/data``."""
    info = required(parent, "messageInfo", where)
    container = required(parent, "messageData", where)
    data = child(container, "data")
    if data is None:
        raise GatewayError(SCHEMA_INVALID, "messageData/data is missing")
    return AsyncSendMessageRequest(info=read_message_info(info), data=data)


def read_message_info(info: etree._Element) -> AsyncMessageInfo:
    sender_id, password = read_sender(info)
    return AsyncMessageInfo(
        message_id=text_of(child(info, "messageId")),
        correlation_id=text_of(child(info, "correlationId")),
        service_id=required_text(info, "serviceId", "messageInfo"),
        message_type=required_enum(info, "messageType", "messageInfo", MessageType),
        route_id=text_of(child(info, "routeId")),
        message_date=required_date(info, "messageDate", "messageInfo"),
        sender_id=sender_id,
        password=password,
        properties=read_properties(info),
        session_id=text_of(child(info, "sessionId")),
    )


def add_message(parent: etree._Element, message: AsyncSendMessageRequest) -> None:
    info, out = message.info, etree.SubElement(parent, "messageInfo")
    add_text(out, "messageId", info.message_id)
    add_text(out, "correlationId", info.correlation_id)
    add_text(out, "serviceId", info.service_id)
    add_text(out, "messageType", MessageType(info.message_type).value)
    add_text(out, "routeId", info.route_id)
    add_text(out, "messageDate", format_datetime(info.message_date))
    add_sender(out, info.sender_id, info.password)
    add_properties(out, info.properties)
    add_text(out, "sessionId", info.session_id)
    etree.SubElement(parent, "messageData").append(copy_payload(message.data))


def read_sender(parent: etree._Element) -> tuple[str, str | None]:
    """The required ``sender``: senderId and password (its text kept exactly: a secret)."""
    sender = required(parent, "sender", etree.QName(parent).localname)
    password = child(sender, "password")
    return (
        required_text(sender, "senderId", "sender"),
        (password.text or None) if password is not None else None,
    )


def read_optional_sender(parent: etree._Element) -> tuple[str | None, str | None]:
    """An optional ``sender`` (0..1 in getMessages and sendDeliveryNotification)."""
    return read_sender(parent) if child(parent, "sender") is not None else (None, None)


def add_sender(parent: etree._Element, sender_id: str, password: str | None) -> None:
    sender = etree.SubElement(parent, "sender")
    add_text(sender, "senderId", sender_id)
    add_text(sender, "password", password)


def read_status(parent: etree._Element) -> tuple[str, str, datetime]:
    """MessageStatusInfo ``status``: statusCode, statusMessage (may be empty), statusDate."""
    status = required(parent, "status", etree.QName(parent).localname)
    return (
        required_text(status, "statusCode", "status"),
        text_of(child(status, "statusMessage")) or "",
        required_date(status, "statusDate", "status"),
    )


def add_status(parent: etree._Element, code: str, message: str, date: datetime) -> None:
    status = etree.SubElement(parent, "status")
    add_text(status, "statusCode", code)
    add_text(status, "statusMessage", message)
    add_text(status, "statusDate", format_datetime(date))
