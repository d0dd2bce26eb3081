"""GBDFL's payload spec (``xsd/gbdfl.xsd``): the look-up of a person by IIN on the kit.

The kit (``simulators.kit.lookup``) reads the request, decides and writes the answer; this module
says what is GBDFL's own: its elements, its wording and how a ``Person`` is written.
"""

from __future__ import annotations

from lxml import etree

from connectors.roster import roster_entry
from simulators.individuals.models import Person
from simulators.kit.lookup import LookupRegistry
from simulators.kit.xml import add_fields, add_group, address_fields


def write_person(element: etree._Element, person: Person) -> None:
    """The ``person`` element's children, in the order of the schema."""
    add_fields(
        element,
        (
            ("iin", person.iin),
            ("lastName", person.last_name),
            ("firstName", person.first_name),
            ("middleName", person.middle_name or None),
            ("fullName", person.full_name),
            ("birthDate", person.birth_date),
            ("sex", person.sex.value),
            ("citizenship", person.citizenship),
            ("status", person.status.value),
            ("statusDate", person.status_date),
        ),
    )
    add_group(element, "address", address_fields(person.address))
    business = person.entrepreneur
    if business is not None:
        add_group(
            element,
            "entrepreneur",
            (
                ("tradeName", business.trade_name),
                ("registeredOn", business.registered_on),
                ("status", business.status.value),
                ("statusDate", business.status_date),
            ),
        )


GBDFL = LookupRegistry(roster_entry("GBDFL"), Person, "iin", "person", write_person)
NAMESPACE = GBDFL.payload.namespace
# The registry's functions by name, for the systems that ask it (ELICENSE, KEDEN) and the tools.
build_request, default_store = GBDFL.build_request, GBDFL.default_store
