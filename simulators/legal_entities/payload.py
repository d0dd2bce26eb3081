"""GBDUL's payload spec: a legal entity looked up by BIN, answered as in ``xsd/gbdul.xsd``."""

from __future__ import annotations

from connectors.roster import roster_entry
from simulators.kit.lookup import LookupRegistry
from simulators.kit.xml import ADDRESS, layout
from simulators.legal_entities.models import Organization

ORGANIZATION = layout(
    "bin name shortName status statusDate registrationDate legalForm okedCode",
    ADDRESS, ("head", layout("iin fullName")),
)  # fmt: skip
GBDUL = LookupRegistry(roster_entry("GBDUL"), Organization, "bin", "legal entity", ORGANIZATION)
# The registry's functions by name, for the systems that ask it (ELICENSE, KEDEN) and the tools.
build_request, default_store = GBDUL.build_request, GBDUL.default_store
