"""XML ⇄ model mapping of the monitoring payload, the StageEvent inside SHEP ``data``.

Only the global element ``StageEvent`` is namespace-qualified; its children are unqualified, as
in SHEP. Reading validates against ``xsd/monitoring.xsd`` first, so a parsed event is a valid one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from lxml import etree

from connectors import GatewayError, PayloadSchemas, format_datetime, parse_datetime
from connectors.soap.values import child as _child
from simulators.kit.payloads import PayloadError as PayloadError  # the kit's one
from simulators.kit.xml import add_field as _add

NAMESPACE = "http://kzgate.kz/simulators/monitoring/v1"
STAGE_EVENT = etree.QName(NAMESPACE, "StageEvent")
XSD_FILE = "monitoring.xsd"
_NSMAP = {"mon": NAMESPACE}
_SCHEMAS = PayloadSchemas()  # compiles monitoring.xsd once, on first use


class Stage(StrEnum):
    """The stages of an application's life cycle (the schema's ``Stage`` enumeration)."""

    REGISTERED = "REGISTERED"
    IN_WORK = "IN_WORK"
    AWAITING_RESPONSE = "AWAITING_RESPONSE"
    SUSPENDED = "SUSPENDED"
    RESUMED = "RESUMED"
    ISSUED = "ISSUED"
    REFUSED = "REFUSED"
    DELIVERED = "DELIVERED"
    WITHDRAWN = "WITHDRAWN"
    TERMINATED = "TERMINATED"


@dataclass(frozen=True)
class StageEvent:
    """One stage an application reached, in which system, and when."""

    application_number: str
    stage: Stage
    system: str
    occurred_at: datetime
    comment: str | None = None


def build_stage_event(
    application_number: str,
    stage: Stage | str,
    system: str,
    occurred_at: datetime,
    comment: str | None = None,
) -> etree._Element:
    """A ``StageEvent`` element, to be placed inside ``data`` by the reporting system."""
    event = etree.Element(STAGE_EVENT, nsmap=_NSMAP)
    _add(event, "applicationNumber", application_number)
    _add(event, "stage", Stage(stage).value)
    _add(event, "system", system)
    _add(event, "occurredAt", format_datetime(occurred_at))
    if comment is not None:
        _add(event, "comment", comment)
    return event


def parse_stage_event(data: etree._Element) -> StageEvent:
    """The StageEvent in a SHEP ``data`` element, checked against the schema first."""
    try:
        _SCHEMAS.validate(data, XSD_FILE)
    except GatewayError as exc:
        raise PayloadError(exc.detail or exc.message) from None
    event = _find_event(data)
    comment = _child(event, "comment")
    return StageEvent(
        application_number=_text(event, "applicationNumber"),
        stage=Stage(_text(event, "stage")),
        system=_text(event, "system"),
        occurred_at=parse_datetime(_text(event, "occurredAt")),
        comment=(comment.text or "") if comment is not None else None,
    )


def _find_event(data: etree._Element) -> etree._Element:
    # Like GBDUL's payload: the element wrapped inside data, or (JAXB style, xsi:type on data)
    # its children directly in data. Both passed the schema above.
    for child in data.iterchildren(tag=etree.Element):
        if child.tag == STAGE_EVENT:
            return child
    if _child(data, "applicationNumber") is not None:
        return data
    raise PayloadError("data carries no StageEvent element")


def _text(parent: etree._Element, local_name: str) -> str:
    element = _child(parent, local_name)
    if element is None or not (element.text or "").strip():
        raise PayloadError(f"StageEvent has no {local_name}")
    return element.text.strip()
