"""Writing the simulators' payload elements: one helper for the unqualified SHEP-style children.

Reading uses ``connectors.soap.values.child`` (match on local name: qualification of payload
children varies between clients).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Protocol

from lxml import etree


def add_field(parent: etree._Element, name: str, value: str | date | None) -> None:
    """Append ``<name>value</name>`` in no namespace (children are unqualified, as in SHEP).

    Dates are written as xs:date; an absent optional value is left out, never written empty.
    """
    if value is None:
        return
    etree.SubElement(parent, name).text = value.isoformat() if isinstance(value, date) else value


Fields = Iterable[tuple[str, str | date | None]]


def add_fields(parent: etree._Element, fields: Fields) -> etree._Element:
    """``add_field`` for each (name, value), in order; returns ``parent``."""
    for name, value in fields:
        add_field(parent, name, value)
    return parent


def add_group(parent: etree._Element, name: str, fields: Fields) -> etree._Element:
    """A child ``<name>`` holding ``fields``; returns it."""
    return add_fields(etree.SubElement(parent, name), fields)


class PostalAddress(Protocol):
    region: str
    city: str
    street: str


def address_fields(address: PostalAddress) -> Fields:
    """An address as the registries' schemas write it: region, city, street."""
    return (("region", address.region), ("city", address.city), ("street", address.street))
