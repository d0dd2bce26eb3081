"""The fault taxonomy: every way the gateway can refuse or fail, with a stable code.

Each code is a contract with client developers: it never changes meaning once published. The
codes are grouped like X-Road's ``Server.ClientProxy.*`` family — ``Client.*`` when the caller must
fix something, ``Server.*`` when the gateway or a provider failed. ``legacy`` names the nearest
SmartBridge provider code (``SCE…``) for clients that already map those.

The README's fault table is printed from this module (``kzgate faults``), so the two cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class FaultCode:
    """One refusal ground: a stable ``code``, a human ``title`` and a ``hint`` for the fix."""

    code: str
    title: str
    hint: str
    legacy: str = ""

    @property
    def side(self) -> Literal["Client", "Server"]:
        return "Client" if self.code.startswith("Client.") else "Server"


_ALL: dict[str, FaultCode] = {}


def _fault(code: str, title: str, hint: str, legacy: str = "") -> FaultCode:
    fault = FaultCode(code, title, hint, legacy)
    if code in _ALL:
        raise ValueError(f"fault code {code} declared twice")
    _ALL[code] = fault
    return fault


def by_code(code: str) -> FaultCode:
    """The declared fault with this code (KeyError for an unknown one)."""
    return _ALL[code]


def all_faults() -> list[FaultCode]:
    """Every declared fault code, in declaration order."""
    return list(_ALL.values())


class GatewayError(Exception):
    """A refusal or failure that becomes a SOAP fault carrying ``fault``'s ErrorInfo.

    ``detail`` says what exactly was wrong with this message (never secrets, never a stack trace);
    ``sub_error`` carries a provider's own ErrorInfo when the gateway relays its fault.
    """

    def __init__(self, fault: FaultCode, detail: str = "", *, sub_error: object | None = None):
        super().__init__(f"{fault.code}: {detail or fault.title}")
        self.fault = fault
        self.detail = detail
        self.sub_error = sub_error

    @property
    def message(self) -> str:
        return f"{self.fault.title}: {self.detail}" if self.detail else self.fault.title


# --- HTTP and XML: the bytes themselves -------------------------------------------------------
HTTP_METHOD = _fault(
    "Client.Http.BadRequest",
    "The HTTP request is not a SOAP POST",
    "POST the SOAP 1.1 envelope with Content-Type text/xml; charset=UTF-8.",
)
XML_TOO_LARGE = _fault(
    "Client.Xml.TooLarge",
    "The message is larger than the gateway accepts",
    "Send large documents in parts or by reference; the limit is in /health (maxMessageBytes).",
)
XML_TOO_DEEP = _fault(
    "Client.Xml.TooDeep",
    "The XML nests deeper than the gateway accepts",
    "Flatten the payload; the nesting limit is in /health (maxXmlDepth).",
)
XML_MALFORMED = _fault(
    "Client.Xml.Malformed",
    "The message is not well-formed XML",
    "Check the encoding (UTF-8), escaping and that every element is closed.",
    "SCE001",
)
XML_DOCTYPE = _fault(
    "Client.Xml.DoctypeForbidden",
    "The message carries a DOCTYPE declaration",
    "SOAP messages must not contain a DTD; remove the <!DOCTYPE …> line.",
    "SCE001",
)
XML_EXTERNAL_ENTITY = _fault(
    "Client.Xml.ExternalEntity",
    "The message declares an external entity (XXE)",
    "External entities are never resolved; remove the DTD and put the content inline.",
    "SCE001",
)
XML_ENTITY_DECLARATION = _fault(
    "Client.Xml.EntityDeclaration",
    "The message declares internal entities (entity expansion)",
    "Entities are never expanded; remove the DTD and write the text out.",
    "SCE001",
)
XML_TOO_MANY_ATTRIBUTES = _fault(
    "Client.Xml.TooManyAttributes",
    "An element carries more attributes than the gateway accepts",
    "No SOAP or payload element needs that many; the limit is in /health "
    "(maxAttributesPerElement).",
    "SCE001",
)
XML_TOO_MANY_NAMESPACES = _fault(
    "Client.Xml.TooManyNamespaces",
    "The message declares more namespaces than the gateway accepts",
    "Declare each namespace once, near the root; the limit is in /health "
    "(maxNamespaceDeclarations).",
    "SCE001",
)
XML_TOO_MANY_ELEMENTS = _fault(
    "Client.Xml.TooManyElements",
    "The message holds more elements than the gateway accepts",
    "Send large documents in parts; the limit is in /health (maxElements).",
    "SCE001",
)
XML_TEXT_TOO_LARGE = _fault(
    "Client.Xml.TextTooLarge",
    "A text node is longer than the gateway accepts",
    "Send large binary content in parts or by reference; the limit is in /health (maxTextChars).",
    "SCE001",
)

# --- SOAP and the channel contract -------------------------------------------------------------
SOAP_NOT_ENVELOPE = _fault(
    "Client.Soap.NotEnvelope",
    "The document is not a SOAP 1.1 envelope with one Body",
    "The root must be {http://schemas.xmlsoap.org/soap/envelope/}Envelope holding at most one "
    "Header and exactly one Body.",
    "SCE001",
)
SOAP_UNKNOWN_OPERATION = _fault(
    "Client.Soap.UnknownOperation",
    "The Body does not hold an operation of this channel",
    "SyncChannel takes {http://bip.bee.kz/SyncChannel/v10/Types}SendMessage; see GET /sync?wsdl.",
    "SCE001",
)
SOAP_MORE_THAN_ONE_OPERATION = _fault(
    "Client.Soap.MoreThanOneOperation",
    "The Body holds something besides its one operation",
    "Put exactly one operation element in the Body, with nothing (no text) before or after it.",
    "SCE001",
)
SOAP_PROCESSING_INSTRUCTION = _fault(
    "Client.Soap.ProcessingInstruction",
    "The message carries an XML processing instruction",
    "SOAP 1.1 messages must not contain processing instructions (<?…?>); the XML declaration "
    "alone is allowed.",
    "SCE001",
)
SOAP_MUST_UNDERSTAND = _fault(
    "Client.Soap.MustUnderstand",
    "A header marked mustUnderstand is not understood by the gateway",
    'Only wsse:Security may be marked mustUnderstand="1".',
)
SCHEMA_INVALID = _fault(
    "Client.Schema.Invalid",
    "The message does not match the channel schema",
    "Validate against the XSD served with GET /sync?wsdl; the detail names the line and element.",
    "SCE001",
)
SCHEMA_PAYLOAD_INVALID = _fault(
    "Client.Schema.PayloadInvalid",
    "The data does not match the service's schema",
    "Validate the content of <data> against the service's XSD (GET /services lists them).",
    "SCE001",
)

# --- Transport signature (көліктік қолтаңба) ---------------------------------------------------
SIG_MISSING = _fault(
    "Client.Security.Unsigned",
    "The message carries no transport signature",
    "Sign the Body with the system's transport key (WS-Security, exclusive C14N, RSA-SHA256).",
    "SCE007",
)
SIG_MALFORMED = _fault(
    "Client.Security.SignatureMalformed",
    "The transport signature is not a well-formed XML-DSig signature",
    "The ds:Signature needs SignedInfo, SignatureValue and KeyInfo, each once.",
    "SCE006",
)
SIG_AMBIGUOUS = _fault(
    "Client.Security.SignatureAmbiguous",
    "The message carries more than one transport signature",
    "Put exactly one ds:Signature in the wsse:Security header.",
    "SCE006",
)
SIG_ALGORITHM = _fault(
    "Client.Security.AlgorithmNotAllowed",
    "The signature uses an algorithm the gateway does not accept",
    "Use RSA-SHA256 or ECDSA-SHA256 with a SHA-256 digest and exclusive C14N; SHA-1 is refused.",
    "SCE006",
)
SIG_BODY_NOT_SIGNED = _fault(
    "Client.Security.BodyNotSigned",
    "The signature does not cover the SOAP Body",
    'Reference the Body by its wsu:Id in the signature (URI="#id-…").',
    "SCE006",
)
SIG_WRAPPING = _fault(
    "Client.Security.SignatureWrapping",
    "The signed element is not the Body the message delivers",
    "Send one Body, directly under Envelope, with an Id no other element shares.",
    "SCE006",
)
SIG_DIGEST_MISMATCH = _fault(
    "Client.Security.DigestMismatch",
    "A signed element was changed after signing",
    "Sign last: nothing may touch the Body (not even whitespace) after the signature is made.",
    "SCE006",
)
SIG_INVALID = _fault(
    "Client.Security.SignatureInvalid",
    "The signature value does not verify with the certificate",
    "Sign with the private key that belongs to the certificate in KeyInfo.",
    "SCE006",
)
SIG_KEYINFO = _fault(
    "Client.Security.CertificateMissing",
    "The signature does not identify a usable certificate",
    "Put the certificate in KeyInfo (wsse:KeyIdentifier X509v3, a BinarySecurityToken reference, "
    "ds:X509Data, or an X509IssuerSerial the gateway knows).",
    "SCE006",
)
CERT_UNTRUSTED = _fault(
    "Client.Security.CertificateUntrusted",
    "The certificate is not issued by a trusted CA",
    "Use the transport certificate issued to the system by the national CA configured here.",
    "SCE005",
)
CERT_EXPIRED = _fault(
    "Client.Security.CertificateExpired",
    "The certificate is outside its validity period",
    "Renew the transport certificate.",
    "SCE005",
)
CERT_REVOKED = _fault(
    "Client.Security.CertificateRevoked",
    "The certificate has been revoked",
    "The CA's CRL lists this certificate; obtain a new one.",
    "SCE005",
)
CERT_NOT_SENDER = _fault(
    "Client.Security.CertificateNotSender",
    "The certificate belongs to another system than the senderId",
    "Sign with the transport key registered for this senderId.",
    "SCE005",
)
TIMESTAMP_MISSING = _fault(
    "Client.Security.TimestampMissing",
    "The security policy requires a signed wsu:Timestamp",
    "Add wsu:Timestamp (Created, Expires) to wsse:Security and sign it with the Body.",
)
TIMESTAMP_DUPLICATED = _fault(
    "Client.Security.TimestampDuplicated",
    "The security header holds more than one wsu:Timestamp",
    "Put one wsu:Timestamp in wsse:Security (or none, under the shep policy).",
)
TIMESTAMP_EXPIRED = _fault(
    "Client.Security.TimestampExpired",
    "The message's timestamp is outside the freshness window",
    "Send messages as they are made and keep the system clock on time (NTP).",
)
MESSAGE_STALE = _fault(
    "Client.Security.MessageStale",
    "The messageDate is outside the freshness window",
    "Set messageDate to the time of sending, with its UTC offset, and keep the clock on time.",
)
REPLAY = _fault(
    "Client.Security.Replay",
    "This messageId was already received from this sender",
    "Generate a new messageId (a UUID) for every message; never resend a signed envelope as is.",
)

# --- Business-data signature (the enveloped ds:Signature inside <data>, sheet §5.2) ------------
PAYLOAD_SIG_MISSING = _fault(
    "Client.Security.PayloadUnsigned",
    "The business data carries no signature",
    "This service needs an enveloped ds:Signature on the payload in <data>; sign it first, then "
    "apply the transport signature.",
    "SCE017",
)
PAYLOAD_SIG_INVALID = _fault(
    "Client.Security.PayloadSignatureInvalid",
    "The business-data signature does not verify",
    'The detail names the reason; sign the whole payload root (URI="", enveloped-signature and '
    "C14N transforms, RSA-SHA256, SHA-256) and change nothing after signing.",
    "SCE016",
)
PAYLOAD_CERT_INVALID = _fault(
    "Client.Security.PayloadCertificateInvalid",
    "The business-data signing certificate is untrusted, expired or revoked",
    "Sign the payload with a current certificate issued by the national CA configured here.",
    "SCE015",
)

# --- Who may call what -------------------------------------------------------------------------
UNKNOWN_SENDER = _fault(
    "Client.Auth.UnknownSender",
    "The senderId is not registered",
    "Use the senderId issued to your system when it was registered with the gateway.",
)
WRONG_PASSWORD = _fault(
    "Client.Auth.WrongPassword",
    "The sender's password is wrong or missing",
    "Send the password issued with the senderId in requestInfo/sender/password.",
)
SERVICE_NOT_ALLOWED = _fault(
    "Client.Auth.ServiceNotAllowed",
    "This sender may not call this service",
    "Ask the service's owner to grant your system access in the gateway registry.",
)
AUTH_BACKOFF = _fault(
    "Client.Auth.TooManyAttempts",
    "Too many wrong passwords for this sender: wait before trying again",
    "The detail says how many seconds to wait; each further wrong password doubles it. Check the "
    "password issued with the senderId.",
)
UNKNOWN_SERVICE = _fault(
    "Client.Routing.UnknownService",
    "No service is registered under this serviceId",
    "serviceId is case-sensitive; GET /services lists the catalogue.",
    "SCE004",
)
WRONG_CHANNEL = _fault(
    "Client.Routing.WrongChannel",
    "The service is not offered on this channel",
    "Call asynchronous services through the AsyncChannel; GET /services gives each one's mode.",
    "SCE004",
)

# --- The AsyncChannel ----------------------------------------------------------------------------
ASYNC_MESSAGE_ID_REUSED = _fault(
    "Client.Async.MessageIdReused",
    "This messageId was already used for a different message",
    "Resending the same message under its messageId is safe; a new message needs a new id "
    "(or leave messageId empty and the gateway assigns one).",
)
ASYNC_CORRELATION_REQUIRED = _fault(
    "Client.Async.CorrelationRequired",
    "A NOTIFICATION, UPDATE or RESPONSE must carry the correlationId of its REQUEST",
    "Copy correlationId from the sendMessage answer of the original REQUEST.",
)
ASYNC_UNKNOWN_MESSAGE = _fault(
    "Client.Async.UnknownMessage",
    "No message with this messageId was sent by or to this sender",
    "Use the messageId returned by sendMessage; only its sender and receiver may ask after it.",
)
ASYNC_NOT_RECEIVER = _fault(
    "Client.Async.NotReceiver",
    "Only the receiving system may fetch or acknowledge these messages",
    "getMessages and sendDeliveryNotification are for the system that provides the service.",
)
BROKER_UNAVAILABLE = _fault(
    "Server.Broker.Unavailable",
    "The message broker did not confirm the message; it was not accepted",
    "Send the same message again (same messageId): it will be accepted once.",
)

# --- Providers and the gateway itself ----------------------------------------------------------
PROVIDER_UNREACHABLE = _fault(
    "Server.Provider.Unreachable",
    "The provider's system could not be reached",
    "Retry later; the provider is down or its endpoint is misconfigured.",
    "SCE004",
)
PROVIDER_TIMEOUT = _fault(
    "Server.Provider.Timeout",
    "The provider did not answer in time",
    "Retry later; the timeout is in /health (providerTimeoutSeconds).",
)
PROVIDER_FAULT = _fault(
    "Server.Provider.Fault",
    "The provider answered with a fault",
    "See subError for the provider's own code and message.",
    "SCE909",
)
PROVIDER_BAD_ANSWER = _fault(
    "Server.Provider.InvalidAnswer",
    "The provider's answer is malformed or breaks the channel schema",
    "The provider must answer a signed SendMessageResponse; report it to its owner.",
    "SCE909",
)
PROVIDER_BAD_SIGNATURE = _fault(
    "Server.Provider.SignatureRejected",
    "The provider's answer failed transport-signature verification",
    "subError gives the exact reason; the provider must sign with its registered key.",
    "SCE006",
)
DEADLINE = _fault(
    "Server.Gateway.Deadline",
    "The gateway could not finish checking the message within its deadline",
    "Retry later; a message refused this way every time is too heavy to check: make it smaller. "
    "The deadline is in /health (requestDeadlineSeconds).",
)
INTERNAL = _fault(
    "Server.Internal",
    "The gateway failed while handling the message",
    "Retry; if it persists, report the sessionId to the gateway operator.",
    "SCE909",
)
