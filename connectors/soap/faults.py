"""SOAP 1.1 faults carrying a SHEP ``ErrorInfo`` (sheet §2.3, §3.6), built and read.

The gateway's own refusals become ``Client``/``Server`` faults whose detail holds the channel's
fault element; a provider's ErrorInfo travels nested in ``subError``. Clients must read the
detail, not faultcode/faultstring, so the detail is always complete and schema-valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from lxml import etree

from connectors.errors import GatewayError
from connectors.soap.namespaces import (
    ASYNC_TYPES,
    ASYNC_TYPES_CLIENT,
    SOAP_ENV,
    SYNC_FAULT,
    qname,
)
from connectors.soap.values import add_text, child, format_datetime, parse_datetime, text_of

Channel = Literal["sync", "async"]

_ASYNC_OPERATIONS = ("sendMessage", "getMessageStatus", "sendDeliveryNotification", "getMessages")
_ASYNC_CLIENT_OPERATIONS = ("changeMassageStatusNotification",)  # misspelt in the contract


@dataclass
class ErrorInfo:
    """SHEP's ErrorInfo: code, message, optional data and date, nested subError, sessionId."""

    error_code: str
    error_message: str
    error_data: str | None = None
    error_date: datetime | None = None
    sub_error: ErrorInfo | None = None
    session_id: str | None = None

    def to_element(self, tag: str, *, now: datetime) -> etree._Element:
        """This ErrorInfo as a new element ``tag`` (children unqualified)."""
        element = etree.Element(tag)
        self.fill(element, now=now)
        return element

    def fill(self, element: etree._Element, *, now: datetime) -> None:
        """Append the ErrorInfo children to ``element``; a missing date becomes ``now``.

        The XSD requires errorDate, and a relayed provider error may lack a readable one.
        """
        add_text(element, "errorCode", self.error_code)
        add_text(element, "errorMessage", self.error_message)
        add_text(element, "errorData", self.error_data)
        add_text(element, "errorDate", format_datetime(self.error_date or now))
        if self.sub_error is not None:
            self.sub_error.fill(etree.SubElement(element, "subError"), now=now)
        add_text(element, "sessionId", self.session_id)

    @classmethod
    def from_element(cls, element: etree._Element) -> ErrorInfo:
        """Read an ErrorInfo-typed element tolerantly (children by local name)."""
        sub = child(element, "subError")
        return cls(
            error_code=text_of(child(element, "errorCode")) or "",
            error_message=text_of(child(element, "errorMessage")) or "",
            error_data=text_of(child(element, "errorData")),
            error_date=_date_or_none(text_of(child(element, "errorDate"))),
            sub_error=cls.from_element(sub) if sub is not None else None,
            session_id=text_of(child(element, "sessionId")),
        )

    @classmethod
    def from_gateway_error(cls, error: GatewayError, *, now: datetime) -> ErrorInfo:
        """The ErrorInfo the gateway sends for one of its own refusals."""
        return cls(
            error_code=error.fault.code,
            error_message=error.message,
            error_data=error.fault.hint,
            error_date=now,
            sub_error=_as_error_info(error.sub_error, now=now),
        )


def fault_element_name(channel: Channel = "sync", operation: str = "sendMessage") -> str:
    """The detail element of a channel operation's fault, in Clark notation (sheet §2.3, §3.6)."""
    if channel == "sync":
        return SYNC_FAULT
    if operation in _ASYNC_OPERATIONS:
        return qname(ASYNC_TYPES, f"{operation}Fault1_{operation}Fault")
    if operation in _ASYNC_CLIENT_OPERATIONS:
        return qname(ASYNC_TYPES_CLIENT, f"{operation}Fault1_{operation}Fault")
    raise ValueError(f"no fault element for async operation {operation!r}")


def build_fault_envelope(
    error: GatewayError,
    *,
    channel: Channel = "sync",
    operation: str = "sendMessage",
    session_id: str | None = None,
    now: datetime,
) -> bytes:
    """The complete SOAP 1.1 fault response (UTF-8 bytes with XML declaration) for ``error``."""
    info = ErrorInfo.from_gateway_error(error, now=now)
    info.session_id = session_id
    tag = fault_element_name(channel, operation)
    envelope = etree.Element(qname(SOAP_ENV, "Envelope"), nsmap={"soap": SOAP_ENV})
    fault = etree.SubElement(
        etree.SubElement(envelope, qname(SOAP_ENV, "Body")), qname(SOAP_ENV, "Fault")
    )
    # faultcode is a QName; the "soap" prefix is declared on the Envelope above.
    add_text(fault, "faultcode", f"soap:{error.fault.side}")
    add_text(fault, "faultstring", error.message)
    detail = etree.SubElement(fault, "detail")
    entry = etree.SubElement(detail, tag, nsmap={"ns2": etree.QName(tag).namespace})
    info.fill(entry, now=now)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def parse_fault(root: etree._Element) -> ErrorInfo | None:
    """The ErrorInfo of a SOAP fault envelope, or None when ``root`` carries no Fault.

    A fault without an ErrorInfo detail (a plain stack's fault) still yields one, from faultcode
    and faultstring, so the gateway can always relay what the provider said.
    """
    fault = _find_fault(root)
    if fault is None:
        return None
    detail = child(fault, "detail")
    entry = next(detail.iterchildren(tag=etree.Element), None) if detail is not None else None
    if entry is not None and child(entry, "errorCode") is not None:
        return ErrorInfo.from_element(entry)
    return ErrorInfo(
        error_code=text_of(child(fault, "faultcode")) or "",
        error_message=text_of(child(fault, "faultstring")) or "",
        error_data=text_of(detail) if detail is not None else None,
    )


def _find_fault(root: etree._Element) -> etree._Element | None:
    if root.tag == qname(SOAP_ENV, "Fault"):
        return root
    body = root if root.tag == qname(SOAP_ENV, "Body") else root.find(qname(SOAP_ENV, "Body"))
    return body.find(qname(SOAP_ENV, "Fault")) if body is not None else None


def _as_error_info(sub_error: object, *, now: datetime) -> ErrorInfo | None:
    """Whatever a caller put into ``GatewayError.sub_error`` as an ErrorInfo (None if unusable)."""
    if isinstance(sub_error, ErrorInfo):
        return sub_error
    if isinstance(sub_error, GatewayError):
        return ErrorInfo.from_gateway_error(sub_error, now=now)
    if isinstance(sub_error, etree._Element):
        return ErrorInfo.from_element(sub_error)
    return None


def _date_or_none(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_datetime(text)
    except ValueError:
        return None
