"""Tolerant readers and writers of channel fields, shared by SyncChannel and AsyncChannel so both
report a missing or unreadable field in the same words (``Client.Schema.Invalid`` naming the
field's path): children by local name, empty optional elements absent, dates with any offset or
none; and the envelope skeleton every built message starts from.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from lxml import etree

from connectors.errors import SCHEMA_INVALID, GatewayError
from connectors.soap.namespaces import (
    SOAP_ENV,
    WSU,
    XSI,
    qname,
)
from connectors.soap.values import (
    add_text,
    child,
    children,
    parse_datetime,
    text_of,
)

__all__ = [
    "add_properties",
    "envelope_skeleton",
    "optional_date",
    "optional_int",
    "read_properties",
    "required",
    "required_date",
    "required_enum",
    "required_text",
    "wrapped",
]


_E = TypeVar("_E", bound=StrEnum)


# The skeleton is parsed rather than made with etree.Element. lxml gives a parsed document an ID
# table with a dictionary of its own, freed with the document; a document made with etree.Element
# keeps the IDs that xmlsec registers (a signature's wsu:Id, unique in every message) in the
# thread's name dictionary for as long as the thread lives: ~70 bytes a signed message, forever
# (issue 12's soak). An empty Header so a signer has the place for wsse:Security; wsu is declared
# on the Body so the signer can add wsu:Id without touching namespaces inside the signed subtree.
_SKELETON = (
    f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Header/>'
    f'<soap:Body xmlns:wsu="{WSU}"/></soap:Envelope>'
).encode()


def envelope_skeleton(body_id: str | None) -> tuple[etree._Element, etree._Element]:
    """A new, empty SOAP envelope and its Body (with ``wsu:Id`` = ``body_id`` when given)."""
    envelope = etree.fromstring(_SKELETON)
    body = envelope[1]
    if body_id is not None:
        body.set(qname(WSU, "Id"), body_id)
    return envelope, body


def wrapped(operation: etree._Element, name: str) -> etree._Element:
    element = required(operation, name, etree.QName(operation).localname)
    if element.get(qname(XSI, "nil"), "").strip() in ("true", "1"):
        raise GatewayError(SCHEMA_INVALID, f"{name} is nil")
    return element


def required(parent: etree._Element, name: str, where: str) -> etree._Element:
    element = child(parent, name)
    if element is None:
        raise GatewayError(SCHEMA_INVALID, f"{where}/{name} is missing")
    return element


def required_text(parent: etree._Element, name: str, where: str) -> str:
    value = text_of(child(parent, name))
    if value is None:
        raise GatewayError(SCHEMA_INVALID, f"{where}/{name} is missing or empty")
    return value


def required_date(parent: etree._Element, name: str, where: str) -> datetime:
    text = required_text(parent, name, where)
    try:
        return parse_datetime(text)
    except ValueError as exc:
        raise GatewayError(SCHEMA_INVALID, f"{where}/{name}: {exc}") from None


def read_properties(info: etree._Element) -> list[tuple[str, str]]:
    pairs = []
    for prop in children(info, "properties"):
        key = text_of(child(prop, "key"))
        if key is not None:  # an empty <properties/> is common and means nothing (sheet §7.5)
            value = child(prop, "value")
            pairs.append((key, (value.text or "") if value is not None else ""))
    return pairs


def add_properties(parent: etree._Element, properties: Iterable[tuple[str, str]]) -> None:
    for key, value in properties:
        prop = etree.SubElement(parent, "properties")
        add_text(prop, "key", key)
        add_text(prop, "value", value)


def required_enum(parent: etree._Element, name: str, where: str, enum: type[_E]) -> _E:
    text = required_text(parent, name, where)
    try:
        return enum(text)
    except ValueError:
        raise GatewayError(SCHEMA_INVALID, f"{where}/{name}: unknown value {text[:40]!r}") from None


def optional_date(parent: etree._Element, name: str, where: str) -> datetime | None:
    text = text_of(child(parent, name))
    if text is None:
        return None
    try:
        return parse_datetime(text)
    except ValueError as exc:
        raise GatewayError(SCHEMA_INVALID, f"{where}/{name}: {exc}") from None


def optional_int(parent: etree._Element, name: str, where: str) -> int | None:
    text = text_of(child(parent, name))
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise GatewayError(SCHEMA_INVALID, f"{where}/{name}: not an integer") from None
