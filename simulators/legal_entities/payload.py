"""XML ⇄ model mapping of the GBDUL payload, the content of SHEP ``data`` (``xsd/gbdul.xsd``).

Only the global elements are namespace-qualified; their children are unqualified, as in SHEP.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from connectors.soap.values import child as _child
from simulators.kit.xml import add_field as _add
from simulators.legal_entities.models import Organization
from simulators.legal_entities.rules import LookupResult

NAMESPACE = "http://kzgate.kz/simulators/gbdul/v1"
REQUEST = etree.QName(NAMESPACE, "OrganizationRequest")
RESPONSE = etree.QName(NAMESPACE, "OrganizationResponse")
_NSMAP = {"gbdul": NAMESPACE}
# Contracts live in the top-level xsd/ directory (ARCHITECTURE.md), two levels above this package.
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "xsd" / "gbdul.xsd"


class PayloadError(ValueError):
    """The ``data`` element does not carry a readable OrganizationRequest."""


def parse_request(data_element: etree._Element) -> str:
    """The requested BIN (whitespace-trimmed) from a SHEP ``data`` element.

    The BIN is not validated here: a malformed number is a business answer (INVALID_BIN with
    the reason), decided by ``rules.look_up``, not a broken message.
    """
    request = _find_request(data_element)
    bin_element = _child(request, "bin")
    if bin_element is None:
        raise PayloadError("OrganizationRequest has no bin element")
    return (bin_element.text or "").strip()


def build_request(bin: str) -> etree._Element:
    """An ``OrganizationRequest`` element, for clients and tests that call the simulator."""
    request = etree.Element(REQUEST, nsmap=_NSMAP)
    _add(request, "bin", bin)
    return request


def build_response(result: LookupResult) -> etree._Element:
    """The ``OrganizationResponse`` element for a look-up result, to be placed inside ``data``."""
    response = etree.Element(RESPONSE, nsmap=_NSMAP)
    _add(response, "resultCode", result.code.value)
    _add(response, "resultMessage", result.message)
    if result.organization is not None:
        _add_organization(response, result.organization)
    return response


@cache
def schema() -> etree.XMLSchema:
    """The payload schema, compiled once."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def _find_request(data_element: etree._Element) -> etree._Element:
    # SHEP clients differ (protocol sheet §7.4): most wrap the payload element inside data,
    # JAXB-style clients type data itself with xsi:type="p:OrganizationRequest" and put bin
    # directly in it. Both are accepted.
    wrapped = _child(data_element, REQUEST.localname)
    if wrapped is not None:
        return wrapped
    if _child(data_element, "bin") is not None:
        return data_element
    raise PayloadError("data carries no OrganizationRequest")


def _add_organization(parent: etree._Element, org: Organization) -> None:
    element = etree.SubElement(parent, "organization")
    for name, value in (
        ("bin", org.bin),
        ("name", org.name),
        ("shortName", org.short_name),
        ("status", org.status.value),
        ("statusDate", org.status_date),
        ("registrationDate", org.registration_date),
        ("legalForm", org.legal_form),
        ("okedCode", org.oked_code),
    ):
        _add(element, name, value)
    address = etree.SubElement(element, "address")
    for name, value in (
        ("region", org.address.region),
        ("city", org.address.city),
        ("street", org.address.street),
    ):
        _add(address, name, value)
    head = etree.SubElement(element, "head")
    _add(head, "iin", org.head.iin)
    _add(head, "fullName", org.head.full_name)
