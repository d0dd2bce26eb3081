"""Writing the simulators' payload elements: unqualified SHEP-style children, one at a time
(``add_field``), in groups (``add_fields``, ``add_group``) or from a model by a layout
(``write_model``: the registries' records).

Reading uses ``connectors.soap.values.child`` (match on local name: qualification of payload
children varies between clients).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from enum import Enum

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


# How a model is written: element names in schema order, each read from the model's attribute of
# the same name in snake_case (``shortName`` ← ``short_name``); a (name, layout) pair is a group
# written from the attribute ``name`` (left out when it is None).
Layout = Sequence["str | tuple[str, Layout]"]


def layout(names: str, *groups: tuple[str, Layout]) -> Layout:
    """A layout from space-separated element names, then groups: ``layout("bin name", head)``."""
    return (*names.split(), *groups)


# The registries write an address the same way: region, city, street.
ADDRESS = ("address", layout("region city street"))


def write_model(parent: etree._Element, model: object, fields: Layout) -> etree._Element:
    """``model``'s values as ``parent``'s children, in the order of ``fields``; returns ``parent``.

    Enumerations are written by value, dates as xs:date; an attribute that is None is left out.
    """
    for item in fields:
        if isinstance(item, tuple):
            name, inner = item
            value = getattr(model, _attribute(name))
            if value is not None:
                write_model(etree.SubElement(parent, name), value, inner)
        else:
            add_field(parent, item, _text(getattr(model, _attribute(item))))
    return parent


def _attribute(element_name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", element_name).lower()


def _text(value: object) -> str | date | None:
    if value is None or isinstance(value, date):
        return value
    return str(value.value) if isinstance(value, Enum) else str(value)
