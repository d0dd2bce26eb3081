"""XML ⇄ model mapping of the GBDFL payload, the content of SHEP ``data`` (``xsd/gbdfl.xsd``).

Only the global elements are namespace-qualified; their children are unqualified, as in SHEP.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from connectors.soap.values import child as _child
from simulators.individuals.models import Person
from simulators.individuals.rules import LookupResult
from simulators.kit.xml import add_field as _add

NAMESPACE = "http://kzgate.kz/simulators/gbdfl/v1"
REQUEST = etree.QName(NAMESPACE, "PersonRequest")
RESPONSE = etree.QName(NAMESPACE, "PersonResponse")
_NSMAP = {"gbdfl": NAMESPACE}
# Contracts live in the top-level xsd/ directory, two levels above this package.
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "xsd" / "gbdfl.xsd"


class PayloadError(ValueError):
    """The ``data`` element does not carry a readable PersonRequest."""


def parse_request(data_element: etree._Element) -> str:
    """The requested IIN (whitespace-trimmed) from a SHEP ``data`` element.

    The IIN is not validated here: a malformed number is a business answer (INVALID_IIN with
    the reason), decided by ``rules.look_up``, not a broken message.
    """
    request = _find_request(data_element)
    iin_element = _child(request, "iin")
    if iin_element is None:
        raise PayloadError("PersonRequest has no iin element")
    return (iin_element.text or "").strip()


def build_request(iin: str) -> etree._Element:
    """A ``PersonRequest`` element, for clients and tests that call the simulator."""
    request = etree.Element(REQUEST, nsmap=_NSMAP)
    _add(request, "iin", iin)
    return request


def build_response(result: LookupResult) -> etree._Element:
    """The ``PersonResponse`` element for a look-up result, to be placed inside ``data``."""
    response = etree.Element(RESPONSE, nsmap=_NSMAP)
    _add(response, "resultCode", result.code.value)
    _add(response, "resultMessage", result.message)
    if result.person is not None:
        _add_person(response, result.person)
    return response


@cache
def schema() -> etree.XMLSchema:
    """The payload schema, compiled once."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def _find_request(data_element: etree._Element) -> etree._Element:
    # Most SHEP clients wrap the payload element inside data; JAXB-style clients type data
    # itself with xsi:type="p:PersonRequest" and put iin directly in it. Both are accepted.
    wrapped = _child(data_element, REQUEST.localname)
    if wrapped is not None:
        return wrapped
    if _child(data_element, "iin") is not None:
        return data_element
    raise PayloadError("data carries no PersonRequest")


def _add_person(parent: etree._Element, person: Person) -> None:
    element = etree.SubElement(parent, "person")
    _add(element, "iin", person.iin)
    _add(element, "lastName", person.last_name)
    _add(element, "firstName", person.first_name)
    if person.middle_name:
        _add(element, "middleName", person.middle_name)
    for name, value in (
        ("fullName", person.full_name),
        ("birthDate", person.birth_date),
        ("sex", person.sex.value),
        ("citizenship", person.citizenship),
        ("status", person.status.value),
        ("statusDate", person.status_date),
    ):
        _add(element, name, value)
    address = etree.SubElement(element, "address")
    for name, value in (
        ("region", person.address.region),
        ("city", person.address.city),
        ("street", person.address.street),
    ):
        _add(address, name, value)
    if person.entrepreneur is not None:
        ie = etree.SubElement(element, "entrepreneur")
        for name, value in (
            ("tradeName", person.entrepreneur.trade_name),
            ("registeredOn", person.entrepreneur.registered_on),
            ("status", person.entrepreneur.status.value),
            ("statusDate", person.entrepreneur.status_date),
        ):
            _add(ie, name, value)
