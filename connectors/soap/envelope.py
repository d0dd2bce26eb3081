"""The SOAP 1.1 envelope: find Header, Body and the operation by namespace, never by prefix.

Only the shape ``Envelope(Header?, Body(operation))`` is accepted. Anything else around the Body is
refused because a signature-wrapping attack hides a second Body or a moved one exactly there; and
anything beside the operation inside the Body is refused because the gateway would otherwise check
one operation and silently drop the rest (a second SendMessage for a service the sender may not
call). Processing instructions are refused anywhere: SOAP 1.1 (§3) forbids them, and one inside
``data`` would travel on to a provider whose parser may act on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from connectors.errors import (
    SOAP_MORE_THAN_ONE_OPERATION,
    SOAP_MUST_UNDERSTAND,
    SOAP_NOT_ENVELOPE,
    SOAP_PROCESSING_INSTRUCTION,
    GatewayError,
)
from connectors.soap.namespaces import SOAP_ENV, WSSE, qname

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
    _refuse_processing_instructions(root)
    header, body = _header_and_body(root)
    operation = _single_operation(body)
    if header is not None:
        _check_must_understand(header)
    return Envelope(root=root, header=header, body=body, operation=operation)


# One C-level walk; the parser's limits have already bounded the document it walks.
_COUNT_PIS = etree.XPath("count(//processing-instruction())")


def _refuse_processing_instructions(root: etree._Element) -> None:
    found = int(_COUNT_PIS(root.getroottree()))
    if found:
        raise GatewayError(SOAP_PROCESSING_INSTRUCTION, f"{found} processing instruction(s)")


def _single_operation(body: etree._Element) -> etree._Element:
    """The Body's one element child; text (other than whitespace) or a second element refused."""
    operations = list(body.iterchildren(tag=etree.Element))
    if not operations:
        raise GatewayError(SOAP_NOT_ENVELOPE, "the Body is empty")
    if len(operations) > 1:
        names = ", ".join(etree.QName(op).localname for op in operations[:5])
        raise GatewayError(
            SOAP_MORE_THAN_ONE_OPERATION, f"the Body holds {len(operations)} elements: {names}"
        )
    operation = operations[0]
    if (body.text or "").strip() or (operation.tail or "").strip():
        raise GatewayError(SOAP_MORE_THAN_ONE_OPERATION, "the Body holds text beside the operation")
    return operation


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
