"""Writing the simulators' payload elements: one helper for the unqualified SHEP-style children.

Reading uses ``connectors.soap.values.child`` (match on local name: qualification of payload
children varies between clients).
"""

from __future__ import annotations

from datetime import date

from lxml import etree


def add_field(parent: etree._Element, name: str, value: str | date | None) -> None:
    """Append ``<name>value</name>`` in no namespace (children are unqualified, as in SHEP).

    Dates are written as xs:date; an absent optional value is left out, never written empty.
    """
    if value is None:
        return
    etree.SubElement(parent, name).text = value.isoformat() if isinstance(value, date) else value
