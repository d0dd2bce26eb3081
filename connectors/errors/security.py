"""Fault codes of the transport signature (көліктік қолтаңба, sheet §5.1) and of the
business-data signature inside ``<data>`` (sheet §5.2).
"""

from __future__ import annotations

from connectors.errors.codes import declare

__all__ = [
    "CERT_EXPIRED",
    "CERT_NOT_SENDER",
    "CERT_REVOKED",
    "CERT_UNTRUSTED",
    "MESSAGE_STALE",
    "PAYLOAD_CERT_INVALID",
    "PAYLOAD_SIG_INVALID",
    "PAYLOAD_SIG_MISSING",
    "REPLAY",
    "SIG_ALGORITHM",
    "SIG_AMBIGUOUS",
    "SIG_BODY_NOT_SIGNED",
    "SIG_DIGEST_MISMATCH",
    "SIG_INVALID",
    "SIG_KEYINFO",
    "SIG_MALFORMED",
    "SIG_MISSING",
    "SIG_WRAPPING",
    "TIMESTAMP_DUPLICATED",
    "TIMESTAMP_EXPIRED",
    "TIMESTAMP_MISSING",
]


# --- Transport signature (көліктік қолтаңба) ---------------------------------------------------
SIG_MISSING = declare(
    "Client.Security.Unsigned",
    "The message carries no transport signature",
    "Sign the Body with the system's transport key (WS-Security, exclusive C14N, RSA-SHA256).",
    "SCE007",
)
SIG_MALFORMED = declare(
    "Client.Security.SignatureMalformed",
    "The transport signature is not a well-formed XML-DSig signature",
    "The ds:Signature needs SignedInfo, SignatureValue and KeyInfo, each once.",
    "SCE006",
)
SIG_AMBIGUOUS = declare(
    "Client.Security.SignatureAmbiguous",
    "The message carries more than one transport signature",
    "Put exactly one ds:Signature in the wsse:Security header.",
    "SCE006",
)
SIG_ALGORITHM = declare(
    "Client.Security.AlgorithmNotAllowed",
    "The signature uses an algorithm the gateway does not accept",
    "Use RSA-SHA256 or ECDSA-SHA256 with a SHA-256 digest and exclusive C14N; SHA-1 is refused.",
    "SCE006",
)
SIG_BODY_NOT_SIGNED = declare(
    "Client.Security.BodyNotSigned",
    "The signature does not cover the SOAP Body",
    'Reference the Body by its wsu:Id in the signature (URI="#id-…").',
    "SCE006",
)
SIG_WRAPPING = declare(
    "Client.Security.SignatureWrapping",
    "The signed element is not the Body the message delivers",
    "Send one Body, directly under Envelope, with an Id no other element shares.",
    "SCE006",
)
SIG_DIGEST_MISMATCH = declare(
    "Client.Security.DigestMismatch",
    "A signed element was changed after signing",
    "Sign last: nothing may touch the Body (not even whitespace) after the signature is made.",
    "SCE006",
)
SIG_INVALID = declare(
    "Client.Security.SignatureInvalid",
    "The signature value does not verify with the certificate",
    "Sign with the private key that belongs to the certificate in KeyInfo.",
    "SCE006",
)
SIG_KEYINFO = declare(
    "Client.Security.CertificateMissing",
    "The signature does not identify a usable certificate",
    "Put the certificate in KeyInfo (wsse:KeyIdentifier X509v3, a BinarySecurityToken reference, "
    "ds:X509Data, or an X509IssuerSerial the gateway knows).",
    "SCE006",
)
CERT_UNTRUSTED = declare(
    "Client.Security.CertificateUntrusted",
    "The certificate is not issued by a trusted CA",
    "Use the transport certificate issued to the system by the national CA configured here.",
    "SCE005",
)
CERT_EXPIRED = declare(
    "Client.Security.CertificateExpired",
    "The certificate is outside its validity period",
    "Renew the transport certificate.",
    "SCE005",
)
CERT_REVOKED = declare(
    "Client.Security.CertificateRevoked",
    "The certificate has been revoked",
    "The CA's CRL lists this certificate; obtain a new one.",
    "SCE005",
)
CERT_NOT_SENDER = declare(
    "Client.Security.CertificateNotSender",
    "The certificate belongs to another system than the senderId",
    "Sign with the transport key registered for this senderId.",
    "SCE005",
)
TIMESTAMP_MISSING = declare(
    "Client.Security.TimestampMissing",
    "The security policy requires a signed wsu:Timestamp",
    "Add wsu:Timestamp (Created, Expires) to wsse:Security and sign it with the Body.",
)
TIMESTAMP_DUPLICATED = declare(
    "Client.Security.TimestampDuplicated",
    "The security header holds more than one wsu:Timestamp",
    "Put one wsu:Timestamp in wsse:Security (or none, under the shep policy).",
)
TIMESTAMP_EXPIRED = declare(
    "Client.Security.TimestampExpired",
    "The message's timestamp is outside the freshness window",
    "Send messages as they are made and keep the system clock on time (NTP).",
)
MESSAGE_STALE = declare(
    "Client.Security.MessageStale",
    "The messageDate is outside the freshness window",
    "Set messageDate to the time of sending, with its UTC offset, and keep the clock on time.",
)
REPLAY = declare(
    "Client.Security.Replay",
    "This messageId was already received from this sender",
    "Generate a new messageId (a UUID) for every message; never resend a signed envelope as is.",
)

# --- Business-data signature (the enveloped ds:Signature inside <data>, sheet §5.2) ------------
PAYLOAD_SIG_MISSING = declare(
    "Client.Security.PayloadUnsigned",
    "The business data carries no signature",
    "This service needs an enveloped ds:Signature on the payload in <data>; sign it first, then "
    "apply the transport signature.",
    "SCE017",
)
PAYLOAD_SIG_INVALID = declare(
    "Client.Security.PayloadSignatureInvalid",
    "The business-data signature does not verify",
    'The detail names the reason; sign the whole payload root (URI="", enveloped-signature and '
    "C14N transforms, RSA-SHA256, SHA-256) and change nothing after signing.",
    "SCE016",
)
PAYLOAD_CERT_INVALID = declare(
    "Client.Security.PayloadCertificateInvalid",
    "The business-data signing certificate is untrusted, expired or revoked",
    "Sign the payload with a current certificate issued by the national CA configured here.",
    "SCE015",
)
