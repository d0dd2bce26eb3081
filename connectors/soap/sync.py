"""SyncChannel v10 ``SendMessage``: the request/response models, their parsing and envelopes.

Parsing is tolerant the way the sheet (§7) asks: children are found by local name, empty optional
elements count as absent, dates may carry any offset or none. It is not a validator; run
``schema.validate_operation`` first for a precise ``Client.Schema.Invalid``. The ``data`` payload
is never interpreted here: it is kept as the received element and copied byte-faithfully.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from connectors.errors import SCHEMA_INVALID, SOAP_UNKNOWN_OPERATION, GatewayError
from connectors.soap.fields import (
    envelope_skeleton,
    read_properties,
    required,
    required_date,
    required_text,
    wrapped,
)
from connectors.soap.namespaces import (
    SEND_MESSAGE,
    SEND_MESSAGE_RESPONSE,
    SYNC_TYPES,
)
from connectors.soap.values import (
    add_text,
    child,
    format_datetime,
    text_of,
)

SUCCESS_CODE = "SCSS001"
SUCCESS_MESSAGE = "Message has been processed successfully"

# Re-parsing our own serialisation of an already-checked subtree: no DTD can be in it.
_COPY_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, strip_cdata=False, huge_tree=True
)


@dataclass(kw_only=True)
class SyncRequest:
    """``SendMessage/request``: requestInfo fields (sheet order) and the untouched ``data``."""

    message_id: str
    correlation_id: str | None = None
    service_id: str
    message_date: datetime
    route_id: str | None = None
    sender_id: str
    password: str | None = field(default=None, repr=False)  # a secret: never in logs or repr
    properties: list[tuple[str, str]] = field(default_factory=list)
    session_id: str | None = None
    data: etree._Element | None = None


@dataclass(kw_only=True)
class SyncResponse:
    """``SendMessageResponse/response``: responseInfo fields (sheet order) and ``data``."""

    message_id: str
    correlation_id: str | None = None
    response_date: datetime
    status_code: str = SUCCESS_CODE
    status_message: str = SUCCESS_MESSAGE
    session_id: str | None = None
    data: etree._Element | None = None


def parse_sync_request(operation: etree._Element) -> SyncRequest:
    """Read a ``{…SyncChannel/v10/Types}SendMessage`` element into a ``SyncRequest``."""
    if operation.tag != SEND_MESSAGE:
        raise GatewayError(SOAP_UNKNOWN_OPERATION, f"the Body holds {operation.tag}")
    request = wrapped(operation, "request")
    info = required(request, "requestInfo", "request")
    sender = required(info, "sender", "requestInfo")
    password = child(sender, "password")
    return SyncRequest(
        message_id=required_text(info, "messageId", "requestInfo"),
        correlation_id=text_of(child(info, "correlationId")),
        service_id=required_text(info, "serviceId", "requestInfo"),
        message_date=required_date(info, "messageDate", "requestInfo"),
        route_id=text_of(child(info, "routeId")),
        sender_id=required_text(sender, "senderId", "sender"),
        password=(password.text or None) if password is not None else None,
        properties=read_properties(info),
        session_id=text_of(child(info, "sessionId")),
        data=_payload(request, "requestData"),
    )


def parse_sync_response(operation: etree._Element) -> SyncResponse:
    """Read a ``{…SyncChannel/v10/Types}SendMessageResponse`` element into a ``SyncResponse``.

    The gateway reading a provider's answer should re-raise these errors as
    ``PROVIDER_BAD_ANSWER``: here they describe the message, not who sent it.
    """
    if operation.tag != SEND_MESSAGE_RESPONSE:
        raise GatewayError(SOAP_UNKNOWN_OPERATION, f"the Body holds {operation.tag}")
    response = wrapped(operation, "response")
    info = required(response, "responseInfo", "response")
    status = required(info, "status", "responseInfo")
    return SyncResponse(
        message_id=required_text(info, "messageId", "responseInfo"),
        correlation_id=text_of(child(info, "correlationId")),
        response_date=required_date(info, "responseDate", "responseInfo"),
        status_code=required_text(status, "code", "status"),
        status_message=text_of(child(status, "message")) or "",
        session_id=text_of(child(info, "sessionId")),
        data=_payload(response, "responseData"),
    )


def forwarded_request(
    req: SyncRequest, *, session_id: str, extra_properties: Iterable[tuple[str, str]] = ()
) -> SyncRequest:
    """The copy the gateway forwards to a provider: no password, its sessionId, more properties."""
    return dataclasses.replace(
        req,
        password=None,
        session_id=session_id,
        properties=[*req.properties, *extra_properties],
    )


def build_request_envelope(req: SyncRequest, *, body_id: str | None = None) -> etree._Element:
    """A complete, unsigned SOAP envelope carrying ``req``; ``body_id`` is the Body's wsu:Id."""
    envelope, body = envelope_skeleton(body_id)
    request = etree.SubElement(
        etree.SubElement(body, SEND_MESSAGE, nsmap={"ns2": SYNC_TYPES}), "request"
    )
    info = etree.SubElement(request, "requestInfo")
    add_text(info, "messageId", req.message_id)
    add_text(info, "correlationId", req.correlation_id)
    add_text(info, "serviceId", req.service_id)
    add_text(info, "messageDate", format_datetime(req.message_date))
    add_text(info, "routeId", req.route_id)
    sender = etree.SubElement(info, "sender")
    add_text(sender, "senderId", req.sender_id)
    add_text(sender, "password", req.password)
    for key, value in req.properties:
        prop = etree.SubElement(info, "properties")
        add_text(prop, "key", key)
        add_text(prop, "value", value)
    add_text(info, "sessionId", req.session_id)
    _append_payload(etree.SubElement(request, "requestData"), req.data)
    return envelope


def build_response_envelope(resp: SyncResponse, *, body_id: str | None = None) -> etree._Element:
    """A complete, unsigned SOAP envelope carrying ``resp``."""
    envelope, body = envelope_skeleton(body_id)
    op = etree.SubElement(body, SEND_MESSAGE_RESPONSE, nsmap={"ns2": SYNC_TYPES})
    response = etree.SubElement(op, "response")
    info = etree.SubElement(response, "responseInfo")
    add_text(info, "messageId", resp.message_id)
    add_text(info, "correlationId", resp.correlation_id)
    add_text(info, "responseDate", format_datetime(resp.response_date))
    status = etree.SubElement(info, "status")
    add_text(status, "code", resp.status_code)
    add_text(status, "message", resp.status_message)
    add_text(info, "sessionId", resp.session_id)
    _append_payload(etree.SubElement(response, "responseData"), resp.data)
    return envelope


def copy_payload(data: etree._Element) -> etree._Element:
    """A detached copy of ``data`` with every in-scope namespace declaration kept on it.

    A plain deepcopy keeps only namespaces that element or attribute names use, and would drop
    a prefix used only inside an ``xsi:type`` value (declared on the wrapper or the Envelope,
    sheet §7.4). lxml serialises a subtree with all its ancestors' declarations, so a
    serialise/re-parse round trip keeps them, and the content bytes (CDATA included) as they were.
    """
    # UTF-8, not lxml's default ASCII: a non-ASCII name (<Атауы>) cannot be a character reference.
    return etree.fromstring(etree.tostring(data, with_tail=False, encoding="UTF-8"), _COPY_PARSER)


def _append_payload(container: etree._Element, data: etree._Element | None) -> None:
    if data is not None:
        container.append(copy_payload(data))


def _payload(parent: etree._Element, container_name: str) -> etree._Element | None:
    container = child(parent, container_name)
    if container is None:
        raise GatewayError(SCHEMA_INVALID, f"{container_name} is missing")
    return child(container, "data")
