"""The SOAP 1.1 envelope: find Header, Body and the operation by namespace, never by prefix.

Only the shape ``Envelope(Header?, Body)`` is accepted. Anything else around the Body is refused
because a signature-wrapping attack hides a second Body or a moved one exactly there.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.errors import SOAP_MUST_UNDERSTAND, SOAP_NOT_ENVELOPE, GatewayError
from gateway.soap.namespaces import SOAP_ENV, WSSE, qname

ENVELOPE = qname(SOAP_ENV, "Envelope")
HEADER = qname(SOAP_ENV, "Header")
BODY = qname(SOAP_ENV, "Body")
MUST_UNDERSTAND = qname(SOAP_ENV, "mustUnderstand")
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"

# Headers the gateway processes itself; wsse:Security is the only one SHEP marks (sheet §5.1).
UNDERSTOOD_HEADERS = frozenset({qname(WSSE, "Security")})


@dataclass(frozen=True)
class Envelope:
    """A split SOAP envelope; ``operation`` is the Body's first element child."""

    root: etree._Element
    header: etree._Element | None
    body: etree._Element
    operation: etree._Element


def split_envelope(root: etree._Element) -> Envelope:
    """Split a parsed document into Header, Body and operation, or raise ``SOAP_NOT_ENVELOPE``.

    Header entries marked ``mustUnderstand`` that the gateway does not process raise
    ``SOAP_MUST_UNDERSTAND``.
    """
    _require_envelope_root(root)
    header, body = _header_and_body(root)
    operation = next(body.iterchildren(tag=etree.Element), None)
    if operation is None:
        raise GatewayError(SOAP_NOT_ENVELOPE, "the Body is empty")
    if header is not None:
        _check_must_understand(header)
    return Envelope(root=root, header=header, body=body, operation=operation)


def _require_envelope_root(root: etree._Element) -> None:
    if root.tag == ENVELOPE:
        return
    if root.tag == qname(SOAP12_ENV, "Envelope"):
        raise GatewayError(SOAP_NOT_ENVELOPE, "SOAP 1.2 envelopes are not accepted; use SOAP 1.1")
    raise GatewayError(SOAP_NOT_ENVELOPE, f"the root element is {root.tag}")


def _header_and_body(root: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    header: etree._Element | None = None
    body: etree._Element | None = None
    for element in root.iterchildren(tag=etree.Element):
        if element.tag == HEADER and header is None and body is None:
            header = element
        elif element.tag == BODY and body is None:
            body = element
        else:
            raise GatewayError(SOAP_NOT_ENVELOPE, _misplaced(element, header, body))
    if body is None:
        raise GatewayError(SOAP_NOT_ENVELOPE, "the Envelope has no Body")
    return header, body


def _misplaced(
    element: etree._Element, header: etree._Element | None, body: etree._Element | None
) -> str:
    if element.tag == BODY:
        return "the Envelope has more than one Body"
    if element.tag == HEADER:
        return "Header after Body" if body is not None else "more than one Header"
    where = "after the Body" if body is not None else "before the Body"
    return f"unexpected element {element.tag} {where}"


def _check_must_understand(header: etree._Element) -> None:
    for entry in header.iterchildren(tag=etree.Element):
        flag = (entry.get(MUST_UNDERSTAND) or "").strip()
        if flag in ("1", "true") and entry.tag not in UNDERSTOOD_HEADERS:
            raise GatewayError(SOAP_MUST_UNDERSTAND, f"header {entry.tag} is not understood")
