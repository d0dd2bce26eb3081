"""GBDUL's payload spec (``xsd/gbdul.xsd``): the look-up of a legal entity by BIN on the kit.

The kit (``simulators.kit.lookup``) reads the request, decides and writes the answer; this module
says what is GBDUL's own: its elements, its wording and how an ``Organization`` is written.
"""

from __future__ import annotations

from lxml import etree

from connectors.roster import roster_entry
from simulators.kit.lookup import LookupRegistry
from simulators.kit.payloads import PayloadSpec
from simulators.kit.xml import add_field
from simulators.legal_entities.models import Organization


def write_organization(element: etree._Element, org: Organization) -> None:
    """The ``organization`` element's children, in the order of the schema."""
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
        add_field(element, name, value)
    address = etree.SubElement(element, "address")
    for name, value in (
        ("region", org.address.region),
        ("city", org.address.city),
        ("street", org.address.street),
    ):
        add_field(address, name, value)
    head = etree.SubElement(element, "head")
    add_field(head, "iin", org.head.iin)
    add_field(head, "fullName", org.head.full_name)


GBDUL = LookupRegistry(
    system=roster_entry("GBDUL"),
    payload=PayloadSpec("http://kzgate.kz/simulators/gbdul/v1", "gbdul", "gbdul.xsd"),
    request="OrganizationRequest",
    response="OrganizationResponse",
    key="bin",
    record_element="organization",
    noun="legal entity",
    model=Organization,
    fixtures="organizations.json",
    write_record=write_organization,
)
NAMESPACE = GBDUL.payload.namespace
# The registry's functions by name, for the systems that ask it (ELICENSE, KEDEN) and the tools.
build_request, default_store = GBDUL.build_request, GBDUL.default_store
