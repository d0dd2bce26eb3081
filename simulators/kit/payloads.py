"""Reading and writing a simulator's own payload, the content of SHEP ``data``.

Every simulated system speaks one small XML contract (``xsd/<system>.xsd``): global elements in
its namespace, unqualified children, as in SHEP. ``PayloadSpec`` holds what differs between them
(namespace, prefix, schema file) and does the rest once:

- finding the request element in ``data``: SHEP clients differ (protocol sheet §7.4) — most wrap
  the payload element inside ``data``, JAXB-style clients type ``data`` itself with
  ``xsi:type="p:SomeRequest"`` and put the fields directly in it; both are accepted;
- reading required and optional fields, raising the one ``PayloadError``;
- building request and result elements (``resultCode``, ``resultMessage``);
- the compiled schema.

``read_payload`` turns a missing or unreadable ``data`` into the caller's
``Client.Schema.PayloadInvalid`` fault; ``request_element`` is the schema-first variant that the
providers answering several services from one endpoint (ELICENSE's customs queries, KGD's
customs-payment debit) use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from lxml import etree

from connectors import XSD_DIR, XSI, GatewayError, PayloadSchemas, SyncRequest, errors
from connectors.roster import RosterEntry
from connectors.soap.values import child
from simulators.kit.xml import add_fields

T = TypeVar("T")
_XSI_TYPE = f"{{{XSI}}}type"
_SCHEMAS = PayloadSchemas()  # compiles each schema once, on first use


class PayloadError(ValueError):
    """``data`` does not carry a readable request: a broken message, not a business answer."""


@dataclass(frozen=True)
class PayloadSpec:
    """One simulated system's payload contract."""

    namespace: str
    prefix: str
    xsd_file: str  # in the top-level xsd/ directory

    @classmethod
    def of(cls, system: RosterEntry) -> PayloadSpec:
        """The project's convention: ``http://kzgate.kz/simulators/<id>/v1`` in ``<id>.xsd``."""
        name = system.system_id.lower()
        return cls(f"http://kzgate.kz/simulators/{name}/v1", name, f"{name}.xsd")

    def tag(self, name: str) -> etree.QName:
        return etree.QName(self.namespace, name)

    def operation(self, name: str) -> tuple[etree.QName, etree.QName]:
        """An operation's request and response elements: ``<name>Request``, ``<name>Response``."""
        return self.tag(f"{name}Request"), self.tag(f"{name}Response")

    def element(self, name: str, fields: Iterable[tuple[str, str | None]] = ()) -> etree._Element:
        """The global element ``name`` with unqualified ``fields`` (a ``None`` value left out)."""
        element = etree.Element(self.tag(name), nsmap={self.prefix: self.namespace})
        return add_fields(element, fields)

    def result(self, name: str, code: str, message: str) -> etree._Element:
        """A response element that opens with ``resultCode`` and ``resultMessage``."""
        return self.element(name, (("resultCode", str(code)), ("resultMessage", message)))

    def find_request(
        self, data: etree._Element, names: Iterable[str], *, direct_field: str | None = None
    ) -> tuple[str, etree._Element]:
        """(which request, its element) in ``data``: wrapped in it, or ``data`` typed as it.

        ``direct_field``: a single-request contract also takes ``data`` that carries this field
        directly, without ``xsi:type`` (clients written before the contract named the type).
        """
        names = tuple(names)
        for name in names:
            wrapped = child(data, name)
            if wrapped is not None:
                return name, wrapped
        typed = (data.get(_XSI_TYPE) or "").rpartition(":")[2]
        if typed in names:
            return typed, data
        if direct_field is not None and child(data, direct_field) is not None:
            return names[0], data
        raise PayloadError(f"data carries none of {', '.join(names)}")

    def schema(self) -> etree.XMLSchema:
        """The payload schema, compiled once."""
        return _compiled(self.xsd_file)


@cache
def _compiled(xsd_file: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / xsd_file)))


def required(parent: etree._Element, name: str) -> str:
    """The stripped text of the unqualified child ``name``; ``PayloadError`` when absent."""
    value = optional(parent, name)
    if value is None:
        raise PayloadError(f"{etree.QName(parent).localname} has no {name} element")
    return value


def optional(parent: etree._Element, name: str) -> str | None:
    """The stripped text of the unqualified child ``name``; ``None`` when absent."""
    element = child(parent, name)
    return None if element is None else (element.text or "").strip()


def read_payload(request: SyncRequest, parse: Callable[[etree._Element], T]) -> T:
    """``parse`` applied to the request's ``data``; a missing or unreadable ``data`` is the
    caller's ``SCHEMA_PAYLOAD_INVALID`` with the reason."""
    if request.data is None:
        raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, "data is missing")
    try:
        return parse(request.data)
    except PayloadError as exc:
        raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, str(exc)) from exc


def read_for_service(
    request: SyncRequest, parse: Callable[[etree._Element], T], kinds: Mapping[str, type]
) -> T:
    """``read_payload``, refusing a request of a kind the called serviceId does not take
    (``kinds``: serviceId → the request type it takes; a serviceId not listed takes any)."""
    parsed = read_payload(request, parse)
    expected = kinds.get(request.service_id)
    if expected is not None and not isinstance(parsed, expected):
        raise GatewayError(
            errors.SCHEMA_PAYLOAD_INVALID,
            f"{request.service_id} takes a {expected.__name__}, got a {type(parsed).__name__}",
        )
    return parsed


def request_element(request: SyncRequest, xsd_file: str, *tags: etree.QName) -> etree._Element:
    """The element of ``tags`` in the request's ``data``, after ``xsd_file`` accepted ``data``."""
    if request.data is None:
        raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, "data is missing")
    try:
        _SCHEMAS.validate(request.data, xsd_file)
    except GatewayError as exc:
        raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, exc.detail or exc.message) from None
    wanted = {tag.text for tag in tags}
    for element in request.data.iterchildren(tag=etree.Element):
        if element.tag in wanted:
            return element
    names = " or ".join(tag.localname for tag in tags)
    raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, f"data carries no {names}")


def field_text(element: etree._Element | None, name: str) -> str:
    """The stripped text of the unqualified child ``name``; empty when it is absent."""
    found = None if element is None else child(element, name)
    return "" if found is None else (found.text or "").strip()
