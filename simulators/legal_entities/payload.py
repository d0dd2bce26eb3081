"""GBDUL's payload spec (``xsd/gbdul.xsd``): the look-up of a legal entity by BIN on the kit.

The kit (``simulators.kit.lookup``) reads the request, decides and writes the answer; this module
says what is GBDUL's own: its elements, its wording and how an ``Organization`` is written.
"""

from __future__ import annotations

from lxml import etree

from connectors.roster import roster_entry
from simulators.kit.lookup import LookupRegistry
from simulators.kit.xml import add_fields, add_group, address_fields
from simulators.legal_entities.models import Organization


def write_organization(element: etree._Element, org: Organization) -> None:
    """The ``organization`` element's children, in the order of the schema."""
    add_fields(
        element,
        (
            ("bin", org.bin),
            ("name", org.name),
            ("shortName", org.short_name),
            ("status", org.status.value),
            ("statusDate", org.status_date),
            ("registrationDate", org.registration_date),
            ("legalForm", org.legal_form),
            ("okedCode", org.oked_code),
        ),
    )
    add_group(element, "address", address_fields(org.address))
    add_group(element, "head", (("iin", org.head.iin), ("fullName", org.head.full_name)))


GBDUL = LookupRegistry(
    roster_entry("GBDUL"), Organization, "bin", "legal entity", write_organization
)
NAMESPACE = GBDUL.payload.namespace
# The registry's functions by name, for the systems that ask it (ELICENSE, KEDEN) and the tools.
build_request, default_store = GBDUL.build_request, GBDUL.default_store
