"""The WS-Security transport signature: sign an envelope's Body, and verify one without trusting
anything the message says about where its parts are.

Verification locates Envelope/Header/Body by position, refuses algorithms outside the allow-list
before any crypto, resolves every reference over the whole document (an id carried twice is a
wrapping attempt) and requires that the element actually signed is the very Body delivered.

A ``wsu:Timestamp`` is reported in ``VerifiedSignature.timestamp`` only when the signature covers
it and it sits next to the signature; an unsigned Timestamp is ignored (anyone could have written
it), so a policy that needs one sees ``None``.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.etree as etree
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from connectors import errors
from connectors.errors import GatewayError
from connectors.soap.namespaces import SOAP_ENV as SOAP
from connectors.soap.namespaces import WSSE, WSU
from connectors.wsse import dsig
from connectors.wsse.dsig import DS, DS_SIGNATURE, WSU_ID
from connectors.wsse.tokens import (
    BASE64_BINARY,
    WSSE_KEY_IDENTIFIER,
    WSSE_STR,
    X509V3,
    certificate_from_key_info,
)
from connectors.wsse.trust import TrustStore

__all__ = [
    "SOAP_BODY",
    "SOAP_ENVELOPE",
    "SOAP_HEADER",
    "WSSE_SECURITY",
    "WSU_TIMESTAMP",
    "TransportKey",
    "VerifiedSignature",
    "find_transport_signature",
    "sign_envelope",
    "verify_envelope",
]

SOAP_ENVELOPE, SOAP_HEADER, SOAP_BODY = (f"{{{SOAP}}}{n}" for n in ("Envelope", "Header", "Body"))
WSSE_SECURITY = f"{{{WSSE}}}Security"
WSU_TIMESTAMP = f"{{{WSU}}}Timestamp"

# When lxml must declare these namespaces itself (wsu:Id on a Body), use the customary prefixes
# instead of ns0/ns1 — some hand-rolled SHEP verifiers search for the literal "wsu:Id".
etree.register_namespace("wsu", WSU)
etree.register_namespace("wsse", WSSE)
etree.register_namespace("ds", DS)


class TransportKey:
    """A system's transport certificate and private key, loaded into xmlsec once for reuse."""

    def __init__(self, cert_pem: bytes, key_pem: bytes) -> None:
        self.certificate = x509.load_pem_x509_certificate(cert_pem)
        private = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(private, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError("transport keys must be RSA or EC")
        if _spki(private.public_key()) != _spki(self.certificate.public_key()):
            raise ValueError("the private key does not belong to the certificate")
        self.is_ec = isinstance(private, ec.EllipticCurvePrivateKey)
        # Private key only: xmlsec copies the key into every context, and a certificate attached
        # to it would be copied too (KeyInfo is written by us, not by xmlsec).
        self.xmlsec_key = xmlsec.Key.from_memory(key_pem, xmlsec.KeyFormat.PEM)
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        self.certificate_base64 = base64.b64encode(der).decode("ascii")

    @classmethod
    def from_pem(cls, cert_pem: bytes, key_pem: bytes) -> TransportKey:
        return cls(cert_pem, key_pem)

    @classmethod
    def from_files(cls, cert_path: Path, key_path: Path) -> TransportKey:
        return cls(Path(cert_path).read_bytes(), Path(key_path).read_bytes())

    @property
    def signature_transform(self) -> xmlsec.Transform:
        return xmlsec.Transform.ECDSA_SHA256 if self.is_ec else xmlsec.Transform.RSA_SHA256


def _spki(public_key: object) -> bytes:
    return public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class VerifiedSignature:
    """What a verified transport signature proves.

    ``timestamp`` is (Created, Expires) of a *signed* wsu:Timestamp, else None. ``layout`` is
    "legacy-header" for a bare ds:Signature in the Header, otherwise the KeyInfo form, which
    ``key_reference`` always gives: "keyidentifier", "bst", "issuerserial" or "x509data".
    """

    certificate: x509.Certificate
    timestamp: tuple[datetime, datetime | None] | None
    layout: str
    key_reference: str


# --- locating the parts by position ---------------------------------------------------------


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [child for child in parent if isinstance(child.tag, str)]


def _positional(envelope: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    """(Header or None, Body) by position: [Header] Body, nothing named Header after it."""
    if envelope.tag != SOAP_ENVELOPE:
        raise GatewayError(errors.SOAP_NOT_ENVELOPE, "the root is not a SOAP 1.1 Envelope")
    children = _elements(envelope)
    header = children[0] if children and children[0].tag == SOAP_HEADER else None
    rest = children[1:] if header is not None else children
    if not rest or rest[0].tag != SOAP_BODY:
        raise GatewayError(errors.SOAP_NOT_ENVELOPE, "no Body directly under Envelope")
    if any(child.tag == SOAP_HEADER for child in rest):
        raise GatewayError(errors.SOAP_NOT_ENVELOPE, "a Header after the Body")
    return header, rest[0]


# XPath compares names itself (lxml's iter(tag) can miss nodes made outside the parser).
_COUNT_BODIES = etree.XPath("count(//soap:Body)", namespaces={"soap": SOAP})


def _refuse_second_body(envelope: etree._Element) -> None:
    count = int(_COUNT_BODIES(envelope))
    if count > 1:
        raise GatewayError(errors.SIG_WRAPPING, f"the document holds {count} Body elements")


def _signatures_in(header: etree._Element | None) -> list[etree._Element]:
    if header is None:
        return []
    found: list[etree._Element] = []
    for child in header:
        if child.tag == WSSE_SECURITY:
            found.extend(c for c in child if c.tag == DS_SIGNATURE)
        elif child.tag == DS_SIGNATURE:
            found.append(child)  # the legacy layout: a bare ds:Signature in the Header
    return found


def _single_signature(header: etree._Element | None) -> etree._Element | None:
    found = _signatures_in(header)
    if len(found) > 1:
        raise GatewayError(errors.SIG_AMBIGUOUS, f"{len(found)} transport signatures")
    return found[0] if found else None


def find_transport_signature(envelope: etree._Element) -> etree._Element | None:
    """The transport ``ds:Signature`` (None when unsigned); SIG_AMBIGUOUS if there are several."""
    header, _ = _positional(envelope)
    return _single_signature(header)


# --- signing ----------------------------------------------------------------------------------


def _ensure_header(envelope: etree._Element, header: etree._Element | None) -> etree._Element:
    if header is not None:
        return header
    # SubElement reuses the Envelope's prefix for the SOAP namespace; then move it to the front.
    header = etree.SubElement(envelope, SOAP_HEADER)
    envelope.insert(0, header)
    return header


def _drop_previous_security(header: etree._Element) -> None:
    for child in list(header):
        if child.tag in (WSSE_SECURITY, DS_SIGNATURE):
            header.remove(child)


def _ensure_wsu_id(element: etree._Element) -> str:
    ident = element.get(WSU_ID)
    if not ident:
        ident = f"id-{uuid.uuid4()}"
        element.set(WSU_ID, ident)
    return ident


def _xs_datetime(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def _add_timestamp(security: etree._Element, now: datetime, ttl_seconds: int) -> etree._Element:
    stamp = etree.SubElement(security, WSU_TIMESTAMP)
    stamp.set(WSU_ID, f"TS-{uuid.uuid4()}")
    etree.SubElement(stamp, f"{{{WSU}}}Created").text = _xs_datetime(now)
    expires = now + timedelta(seconds=ttl_seconds)
    etree.SubElement(stamp, f"{{{WSU}}}Expires").text = _xs_datetime(expires)
    return stamp


def _signature_template(
    envelope: etree._Element, key: TransportKey, targets: list[etree._Element]
) -> etree._Element:
    signature = xmlsec.template.create(
        envelope, xmlsec.Transform.EXCL_C14N, key.signature_transform, ns="ds"
    )
    for target in targets:
        ref = xmlsec.template.add_reference(
            signature, xmlsec.Transform.SHA256, uri=f"#{_ensure_wsu_id(target)}"
        )
        xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
    key_info = xmlsec.template.ensure_key_info(signature)
    token = etree.SubElement(key_info, WSSE_STR)
    ident = etree.SubElement(
        token, WSSE_KEY_IDENTIFIER, ValueType=X509V3, EncodingType=BASE64_BINARY
    )
    ident.text = key.certificate_base64
    return signature


def sign_envelope(
    envelope: etree._Element,
    key: TransportKey,
    *,
    with_timestamp: bool = False,
    ttl_seconds: int = 300,
    now: datetime | None = None,
) -> None:
    """Sign ``envelope`` in place in the dominant SHEP layout (protocol sheet §5.1).

    Replaces any previous wsse:Security header or bare signature (a relayed message is re-signed
    by the gateway). With ``with_timestamp`` a wsu:Timestamp is added and signed as well.
    """
    header, body = _positional(envelope)
    header = _ensure_header(envelope, header)
    _drop_previous_security(header)
    security = etree.SubElement(header, WSSE_SECURITY, nsmap={"wsse": WSSE, "wsu": WSU})
    security.set(f"{{{SOAP}}}mustUnderstand", "1")
    targets = [body]
    if with_timestamp:
        targets.append(_add_timestamp(security, now or datetime.now(UTC), ttl_seconds))
    signature = _signature_template(envelope, key, targets)
    security.append(signature)
    ctx = xmlsec.SignatureContext()
    ctx.key = key.xmlsec_key
    for target in targets:
        ctx.register_id(target, "Id", WSU)
    ctx.sign(signature)


# --- verification -----------------------------------------------------------------------------


def verify_envelope(
    envelope: etree._Element, trust: TrustStore, *, now: datetime
) -> VerifiedSignature:
    """Verify the transport signature of ``envelope``; GatewayError with the exact refusal code."""
    header, body = _positional(envelope)
    _refuse_second_body(envelope)
    signature = _single_signature(header)
    if signature is None:
        raise GatewayError(errors.SIG_MISSING)
    _refuse_second_timestamp(signature)
    parts = dsig.parse_signature(signature)
    dsig.check_algorithms(parts, dsig.TRANSPORT_PROFILE)
    targets = _resolve_targets(parts, envelope, body)
    cert, key, key_reference = certificate_from_key_info(parts, trust)
    trust.check(cert, now)
    dsig.verify_crypto(parts, targets, key)
    legacy = signature.getparent() is header
    return VerifiedSignature(
        certificate=cert,
        timestamp=_signed_timestamp(targets, signature),
        layout="legacy-header" if legacy else key_reference,
        key_reference=key_reference,
    )


def _refuse_second_timestamp(signature: etree._Element) -> None:
    """One wsu:Timestamp per security header: with two, which one is "the" sender's clock would
    depend on which the reader looks at first (one signed and fresh, one unsigned and stale)."""
    container = signature.getparent()
    stamps = 0 if container is None else sum(1 for c in container if c.tag == WSU_TIMESTAMP)
    if stamps > 1:
        raise GatewayError(errors.TIMESTAMP_DUPLICATED, f"{stamps} wsu:Timestamp elements")


def _resolve_targets(
    parts: dsig.SignatureParts, envelope: etree._Element, body: etree._Element
) -> list[dsig.Target]:
    targets = []
    for ref in parts.references:
        target = dsig.resolve_id(envelope, dsig.fragment_id(ref.uri), ref)
        if target.element.tag == SOAP_BODY and target.element is not body:
            raise GatewayError(errors.SIG_WRAPPING, "the signed Body is not the delivered Body")
        targets.append(target)
    if not any(t.element is body for t in targets):
        raise GatewayError(errors.SIG_BODY_NOT_SIGNED, "no reference resolves to the Body")
    return targets


def _signed_timestamp(
    targets: list[dsig.Target], signature: etree._Element
) -> tuple[datetime, datetime | None] | None:
    stamps = [
        t.element
        for t in targets
        if t.element.tag == WSU_TIMESTAMP and t.element.getparent() is signature.getparent()
    ]
    if len(stamps) > 1:
        raise GatewayError(errors.SIG_MALFORMED, "more than one signed wsu:Timestamp")
    return _parse_timestamp(stamps[0]) if stamps else None


def _parse_timestamp(stamp: etree._Element) -> tuple[datetime, datetime | None]:
    created = dsig.child(stamp, f"{{{WSU}}}Created")
    expires = dsig.child(stamp, f"{{{WSU}}}Expires")
    if created is None:
        raise GatewayError(errors.SIG_MALFORMED, "wsu:Timestamp has no wsu:Created")
    return _utc(created.text), _utc(expires.text) if expires is not None else None


def _utc(text: str | None) -> datetime:
    try:
        moment = datetime.fromisoformat((text or "").strip())
    except ValueError as exc:
        raise GatewayError(errors.SIG_MALFORMED, f"bad wsu:Timestamp value {text!r}") from exc
    # WS-Security timestamps are UTC; a missing offset is read as UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
