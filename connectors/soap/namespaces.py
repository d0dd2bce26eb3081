"""Namespace URIs of SOAP 1.1, WS-Security and the SHEP v10 channels (exact case, sheet §1)."""

from __future__ import annotations

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

COMMON_TYPES = "http://bip.bee.kz/common/v10/Types"
SYNC_TYPES = "http://bip.bee.kz/SyncChannel/v10/Types"
SYNC_REQUEST = "http://bip.bee.kz/SyncChannel/v10/Types/Request"
SYNC_RESPONSE = "http://bip.bee.kz/SyncChannel/v10/Types/Response"
SYNC_INTERFACES = "http://bip.bee.kz/SyncChannel/v10/Interfaces"
ASYNC_TYPES = "http://bip.bee.kz/AsyncChannel/v10/Types"
ASYNC_TYPES_CLIENT = "http://bip.bee.kz/AsyncChannel/v10/Types/Client"
ASYNC_ITYPES = "http://bip.bee.kz/AsyncChannel/v10/ITypes"
ASYNC_INTERFACES = "http://bip.bee.kz/AsyncChannel/v10/Interfaces"
ASYNC_INTERFACES_BINDING = "http://bip.bee.kz/AsyncChannel/v10/Interfaces/Binding"
ASYNC_INTERFACES_CLIENT = "http://bip.bee.kz/AsyncChannel/v10/Interfaces/Client"

SEND_MESSAGE = f"{{{SYNC_TYPES}}}SendMessage"
SEND_MESSAGE_RESPONSE = f"{{{SYNC_TYPES}}}SendMessageResponse"
SYNC_FAULT = f"{{{SYNC_TYPES}}}SendMessageFault1_SendMessageFault"


def qname(ns: str, local: str) -> str:
    """Clark notation ``{ns}local``."""
    return f"{{{ns}}}{local}"


def local_name(element: etree._Element) -> str:
    """The element's local name whatever its namespace ('' for comments and PIs)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]
