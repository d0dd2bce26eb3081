"""GBDFL's payload spec: who a person is by IIN, as ``xsd/gbdfl.xsd`` writes it."""

from __future__ import annotations

from connectors.roster import roster_entry
from simulators.individuals.models import Person
from simulators.kit.lookup import LookupRegistry
from simulators.kit.xml import ADDRESS, layout

# A sole trader (ИП) is a person with an entrepreneur record: written when there is one.
ENTREPRENEUR = ("entrepreneur", layout("tradeName registeredOn status statusDate"))
PERSON = layout(
    "iin lastName firstName middleName fullName birthDate sex citizenship status statusDate",
    ADDRESS, ENTREPRENEUR,
)  # fmt: skip
GBDFL = LookupRegistry(roster_entry("GBDFL"), Person, "iin", "person", PERSON)
# The registry's functions by name, for the systems that ask it (ELICENSE, KEDEN) and the tools.
build_request, default_store = GBDFL.build_request, GBDFL.default_store
