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
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.etree as etree
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from connectors import errors
from connectors.errors import GatewayError
from connectors.soap.namespaces import SOAP_ENV as SOAP
from connectors.soap.namespaces import WSSE, WSU
from connectors.wsse import dsig
from connectors.wsse.dsig import DS, DS_SIGNATURE, DS_X509DATA, WSU_ID
from connectors.wsse.trust import TrustStore

X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

SOAP_ENVELOPE, SOAP_HEADER, SOAP_BODY = (f"{{{SOAP}}}{n}" for n in ("Envelope", "Header", "Body"))
WSSE_SECURITY = f"{{{WSSE}}}Security"
WSSE_STR = f"{{{WSSE}}}SecurityTokenReference"
WSSE_KEY_IDENTIFIER = f"{{{WSSE}}}KeyIdentifier"
WSSE_REFERENCE = f"{{{WSSE}}}Reference"
WSSE_BST = f"{{{WSSE}}}BinarySecurityToken"
WSU_TIMESTAMP = f"{{{WSU}}}Timestamp"

# When lxml must declare these namespaces itself (wsu:Id on a Body), use the customary prefixes
# instead of ns0/ns1 — some hand-rolled SHEP verifiers search for the literal "wsu:Id".
etree.register_namespace("wsu", WSU)
etree.register_namespace("wsse", WSSE)
etree.register_namespace("ds", DS)

# Issuer DNs from Java/.NET/Kalkan use these names, which RFC 4514 parsing does not know.
_DN_NAMES = {
    "E": NameOID.EMAIL_ADDRESS,
    "EMAILADDRESS": NameOID.EMAIL_ADDRESS,
    "SERIALNUMBER": NameOID.SERIAL_NUMBER,
    "SN": NameOID.SURNAME,
    "SURNAME": NameOID.SURNAME,
    "G": NameOID.GIVEN_NAME,
    "GIVENNAME": NameOID.GIVEN_NAME,
    "T": NameOID.TITLE,
}


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
    cert, key, key_reference = _certificate(parts, trust)
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


# --- the certificate from KeyInfo -------------------------------------------------------------

_Found = tuple[x509.Certificate, xmlsec.Key, str]


def _keyinfo_error(detail: str) -> GatewayError:
    return GatewayError(errors.SIG_KEYINFO, detail)


def _certificate(parts: dsig.SignatureParts, trust: TrustStore) -> _Found:
    if parts.key_info is None:
        raise _keyinfo_error("the signature has no ds:KeyInfo")
    for child in parts.key_info:
        if child.tag == WSSE_STR:
            return _from_token_reference(child, parts.element, trust)
        if child.tag == DS_X509DATA:
            return _from_x509_data(child, trust)
    raise _keyinfo_error("KeyInfo holds no SecurityTokenReference or X509Data")


def _from_token_reference(
    token: etree._Element, signature: etree._Element, trust: TrustStore
) -> _Found:
    for child in token:
        if child.tag == WSSE_KEY_IDENTIFIER:
            return (*_from_base64_token(child, "KeyIdentifier"), "keyidentifier")
        if child.tag == WSSE_REFERENCE:
            return (*_from_bst(child, signature), "bst")
        if child.tag == DS_X509DATA:
            return _from_x509_data(child, trust)
    raise _keyinfo_error("the SecurityTokenReference names no certificate")


def _from_base64_token(element: etree._Element, what: str) -> tuple[x509.Certificate, xmlsec.Key]:
    value_type = element.get("ValueType")
    if value_type is not None and value_type != X509V3:
        raise _keyinfo_error(f"{what} ValueType {value_type} is not X509v3")
    if element.get("EncodingType", BASE64_BINARY) != BASE64_BINARY:
        raise _keyinfo_error(f"{what} is not Base64Binary")
    return _decode_certificate(element.text, what)


def _decode_certificate(text: str | None, what: str) -> tuple[x509.Certificate, xmlsec.Key]:
    try:
        return dsig.load_certificate(dsig.decode_base64(text))
    except ValueError as exc:
        raise _keyinfo_error(f"{what} does not hold a usable X.509 certificate") from exc


def _from_bst(
    reference: etree._Element, signature: etree._Element
) -> tuple[x509.Certificate, xmlsec.Key]:
    ident = dsig.fragment_id(reference.get("URI"), errors.SIG_KEYINFO)
    security = signature.getparent()
    tokens = [
        t
        for t in (security if security is not None else ())
        if t.tag == WSSE_BST and ident in (t.get(WSU_ID), t.get("Id"))
    ]
    if len(tokens) != 1:
        raise _keyinfo_error(f"#{ident} names {len(tokens)} BinarySecurityTokens in this header")
    return _from_base64_token(tokens[0], "BinarySecurityToken")


def _from_x509_data(data: etree._Element, trust: TrustStore) -> _Found:
    encoded = dsig.children(data, f"{{{DS}}}X509Certificate")
    if encoded:
        try:
            ders = [dsig.decode_base64(e.text) for e in encoded]
            return (*dsig.signer_certificate(ders), "x509data")
        except ValueError as exc:
            raise _keyinfo_error("X509Certificate does not hold a usable certificate") from exc
    serial = dsig.child(data, f"{{{DS}}}X509IssuerSerial")
    if serial is None:
        raise _keyinfo_error("X509Data holds neither X509Certificate nor X509IssuerSerial")
    cert = _resolve_issuer_serial(serial, trust)
    return cert, dsig.key_for(cert), "issuerserial"


def _text(element: etree._Element | None) -> str:
    return "" if element is None else (element.text or "")


_DN_SEPARATOR = re.compile(r"(?<!\\)[,;]")
_DN_KEY = re.compile(r"^\s*(?:OID\.)?([^=]+?)\s*=\s*")


def parse_dn(text: str) -> x509.Name:
    """An issuer DN as Java, .NET or Kalkan print it: spaces after commas, ``E=``, ``OID.x=``."""
    parts = [_DN_KEY.sub(r"\1=", p.strip()) for p in _DN_SEPARATOR.split(text) if p.strip()]
    return x509.Name.from_rfc4514_string(",".join(parts), _DN_NAMES)


def _resolve_issuer_serial(element: etree._Element, trust: TrustStore) -> x509.Certificate:
    name = _text(dsig.child(element, f"{{{DS}}}X509IssuerName"))
    number = _text(dsig.child(element, f"{{{DS}}}X509SerialNumber"))
    try:
        issuer = parse_dn(name)
        serial = int(number.strip())
    except ValueError as exc:
        raise _keyinfo_error("X509IssuerSerial is not a DN and a decimal serial") from exc
    cert = trust.find_by_issuer_serial(issuer, serial)
    if cert is None:
        raise _keyinfo_error(f"no registered certificate has serial {serial} from {name}")
    return cert
