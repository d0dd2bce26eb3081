"""Reading a simulator's own service request: the one known element in ``data``, schema-checked.

The providers that answer several services from one endpoint (ELICENSE's customs queries, KGD's
customs-payment debit) read requests the same way: validate ``data`` against their payload
schema — a bad one is the caller's ``Client.Schema.PayloadInvalid`` — then take the element.
"""

from __future__ import annotations

from lxml import etree

from connectors import GatewayError, PayloadSchemas, SyncRequest, errors
from connectors.soap.values import child

_SCHEMAS = PayloadSchemas()  # compiles each schema once, on first use


def request_element(request: SyncRequest, xsd_file: str, *tags: etree.QName) -> etree._Element:
    """The element of ``tags`` in the request's ``data``, after ``xsd_file`` accepted ``data``."""
    if request.data is None:
        raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, "data is missing")
    try:
        _SCHEMAS.validate(request.data, xsd_file)
    except GatewayError as exc:
        raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, exc.detail or exc.message) from None
    wanted = {tag.text for tag in tags}
    for element in request.data.iterchildren(tag=etree.Element):
        if element.tag in wanted:
            return element
    names = " or ".join(tag.localname for tag in tags)
    raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, f"data carries no {names}")


def field_text(element: etree._Element | None, name: str) -> str:
    """The stripped text of the unqualified child ``name``; empty when it is absent."""
    found = None if element is None else child(element, name)
    return "" if found is None else (found.text or "").strip()
