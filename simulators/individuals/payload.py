"""GBDFL's payload spec: who a person is by IIN, as ``xsd/gbdfl.xsd`` writes it."""

from __future__ import annotations

from connectors.roster import roster_entry
from simulators.individuals.models import Person
from simulators.kit.lookup import LookupRegistry
from simulators.kit.xml import layout

PERSON = layout(
    "iin lastName firstName middleName fullName birthDate sex citizenship status statusDate",
    ("address", layout("region city street")),
    ("entrepreneur", layout("tradeName registeredOn status statusDate")),
)
GBDFL = LookupRegistry(roster_entry("GBDFL"), Person, "iin", "person", PERSON)
NAMESPACE = GBDFL.payload.namespace
# The registry's functions by name, for the systems that ask it (ELICENSE, KEDEN) and the tools.
build_request, default_store = GBDFL.build_request, GBDFL.default_store
