"""GBDFL's payload spec (``xsd/gbdfl.xsd``): the look-up of a person by IIN on the kit.

The kit (``simulators.kit.lookup``) reads the request, decides and writes the answer; this module
says what is GBDFL's own: its elements, its wording and how a ``Person`` is written.
"""

from __future__ import annotations

from lxml import etree

from connectors.roster import roster_entry
from simulators.individuals.models import Person
from simulators.kit.lookup import LookupRegistry
from simulators.kit.payloads import PayloadSpec
from simulators.kit.xml import add_field


def write_person(element: etree._Element, person: Person) -> None:
    """The ``person`` element's children, in the order of the schema."""
    add_field(element, "iin", person.iin)
    add_field(element, "lastName", person.last_name)
    add_field(element, "firstName", person.first_name)
    add_field(element, "middleName", person.middle_name or None)
    for name, value in (
        ("fullName", person.full_name),
        ("birthDate", person.birth_date),
        ("sex", person.sex.value),
        ("citizenship", person.citizenship),
        ("status", person.status.value),
        ("statusDate", person.status_date),
    ):
        add_field(element, name, value)
    address = etree.SubElement(element, "address")
    for name, value in (
        ("region", person.address.region),
        ("city", person.address.city),
        ("street", person.address.street),
    ):
        add_field(address, name, value)
    if person.entrepreneur is not None:
        ie = etree.SubElement(element, "entrepreneur")
        for name, value in (
            ("tradeName", person.entrepreneur.trade_name),
            ("registeredOn", person.entrepreneur.registered_on),
            ("status", person.entrepreneur.status.value),
            ("statusDate", person.entrepreneur.status_date),
        ):
            add_field(ie, name, value)


GBDFL = LookupRegistry(
    system=roster_entry("GBDFL"),
    payload=PayloadSpec("http://kzgate.kz/simulators/gbdfl/v1", "gbdfl", "gbdfl.xsd"),
    request="PersonRequest",
    response="PersonResponse",
    key="iin",
    record_element="person",
    noun="person",
    model=Person,
    fixtures="persons.json",
    write_record=write_person,
)
NAMESPACE = GBDFL.payload.namespace
# The registry's functions by name, for the systems that ask it (ELICENSE, KEDEN) and the tools.
build_request, default_store = GBDFL.build_request, GBDFL.default_store
