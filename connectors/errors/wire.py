"""Fault codes of the bytes themselves (HTTP and XML) and of the SOAP envelope and the channel
contract.
"""

from __future__ import annotations

from connectors.errors.codes import declare

__all__ = [
    "HTTP_METHOD",
    "SCHEMA_INVALID",
    "SCHEMA_PAYLOAD_INVALID",
    "SOAP_MORE_THAN_ONE_OPERATION",
    "SOAP_MUST_UNDERSTAND",
    "SOAP_NOT_ENVELOPE",
    "SOAP_PROCESSING_INSTRUCTION",
    "SOAP_UNKNOWN_OPERATION",
    "XML_DOCTYPE",
    "XML_ENTITY_DECLARATION",
    "XML_EXTERNAL_ENTITY",
    "XML_MALFORMED",
    "XML_TEXT_TOO_LARGE",
    "XML_TOO_DEEP",
    "XML_TOO_LARGE",
    "XML_TOO_MANY_ATTRIBUTES",
    "XML_TOO_MANY_ELEMENTS",
    "XML_TOO_MANY_NAMESPACES",
]


# --- HTTP and XML: the bytes themselves -------------------------------------------------------
HTTP_METHOD = declare(
    "Client.Http.BadRequest",
    "The HTTP request is not a SOAP POST",
    "POST the SOAP 1.1 envelope with Content-Type text/xml; charset=UTF-8.",
)
XML_TOO_LARGE = declare(
    "Client.Xml.TooLarge",
    "The message is larger than the gateway accepts",
    "Send large documents in parts or by reference; the limit is in /health (maxMessageBytes).",
)
XML_TOO_DEEP = declare(
    "Client.Xml.TooDeep",
    "The XML nests deeper than the gateway accepts",
    "Flatten the payload; the nesting limit is in /health (maxXmlDepth).",
)
XML_MALFORMED = declare(
    "Client.Xml.Malformed",
    "The message is not well-formed XML",
    "Check the encoding (UTF-8), escaping and that every element is closed.",
    "SCE001",
)
XML_DOCTYPE = declare(
    "Client.Xml.DoctypeForbidden",
    "The message carries a DOCTYPE declaration",
    "SOAP messages must not contain a DTD; remove the <!DOCTYPE …> line.",
    "SCE001",
)
XML_EXTERNAL_ENTITY = declare(
    "Client.Xml.ExternalEntity",
    "The message declares an external entity (XXE)",
    "External entities are never resolved; remove the DTD and put the content inline.",
    "SCE001",
)
XML_ENTITY_DECLARATION = declare(
    "Client.Xml.EntityDeclaration",
    "The message declares internal entities (entity expansion)",
    "Entities are never expanded; remove the DTD and write the text out.",
    "SCE001",
)
XML_TOO_MANY_ATTRIBUTES = declare(
    "Client.Xml.TooManyAttributes",
    "An element carries more attributes than the gateway accepts",
    "No SOAP or payload element needs that many; the limit is in /health "
    "(maxAttributesPerElement).",
    "SCE001",
)
XML_TOO_MANY_NAMESPACES = declare(
    "Client.Xml.TooManyNamespaces",
    "The message declares more namespaces than the gateway accepts",
    "Declare each namespace once, near the root; the limit is in /health "
    "(maxNamespaceDeclarations).",
    "SCE001",
)
XML_TOO_MANY_ELEMENTS = declare(
    "Client.Xml.TooManyElements",
    "The message holds more elements than the gateway accepts",
    "Send large documents in parts; the limit is in /health (maxElements).",
    "SCE001",
)
XML_TEXT_TOO_LARGE = declare(
    "Client.Xml.TextTooLarge",
    "A text node is longer than the gateway accepts",
    "Send large binary content in parts or by reference; the limit is in /health (maxTextChars).",
    "SCE001",
)

# --- SOAP and the channel contract -------------------------------------------------------------
SOAP_NOT_ENVELOPE = declare(
    "Client.Soap.NotEnvelope",
    "The document is not a SOAP 1.1 envelope with one Body",
    "The root must be {http://schemas.xmlsoap.org/soap/envelope/}Envelope holding at most one "
    "Header and exactly one Body.",
    "SCE001",
)
SOAP_UNKNOWN_OPERATION = declare(
    "Client.Soap.UnknownOperation",
    "The Body does not hold an operation of this channel",
    "SyncChannel takes {http://bip.bee.kz/SyncChannel/v10/Types}SendMessage; see GET /sync?wsdl.",
    "SCE001",
)
SOAP_MORE_THAN_ONE_OPERATION = declare(
    "Client.Soap.MoreThanOneOperation",
    "The Body holds something besides its one operation",
    "Put exactly one operation element in the Body, with nothing (no text) before or after it.",
    "SCE001",
)
SOAP_PROCESSING_INSTRUCTION = declare(
    "Client.Soap.ProcessingInstruction",
    "The message carries an XML processing instruction",
    "SOAP 1.1 messages must not contain processing instructions (<?…?>); the XML declaration "
    "alone is allowed.",
    "SCE001",
)
SOAP_MUST_UNDERSTAND = declare(
    "Client.Soap.MustUnderstand",
    "A header marked mustUnderstand is not understood by the gateway",
    'Only wsse:Security may be marked mustUnderstand="1".',
)
SCHEMA_INVALID = declare(
    "Client.Schema.Invalid",
    "The message does not match the channel schema",
    "Validate against the XSD served with GET /sync?wsdl; the detail names the line and element.",
    "SCE001",
)
SCHEMA_PAYLOAD_INVALID = declare(
    "Client.Schema.PayloadInvalid",
    "The data does not match the service's schema",
    "Validate the content of <data> against the service's XSD (GET /services lists them).",
    "SCE001",
)
