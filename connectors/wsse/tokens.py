"""WS-Security's X.509 token profile on the receiving side: the token names, and which certificate
a signature's KeyInfo names — a KeyIdentifier, a BinarySecurityToken referenced in the same
header, X509Data with the certificate (or chain), or an issuer and serial the trust store knows.
Anything else, or anything unusable, is ``Client.Security.KeyInfo``.
"""

from __future__ import annotations

import re

import lxml.etree as etree
import xmlsec
from cryptography import x509
from cryptography.x509.oid import NameOID

from connectors import errors
from connectors.errors import GatewayError
from connectors.soap.namespaces import WSSE
from connectors.wsse import dsig
from connectors.wsse.dsig import DS, DS_X509DATA, WSU_ID
from connectors.wsse.trust import TrustStore

__all__ = [
    "BASE64_BINARY",
    "WSSE_BST",
    "WSSE_KEY_IDENTIFIER",
    "WSSE_REFERENCE",
    "WSSE_STR",
    "X509V3",
    "Found",
    "certificate_from_key_info",
    "parse_dn",
]

X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

WSSE_STR = f"{{{WSSE}}}SecurityTokenReference"
WSSE_KEY_IDENTIFIER = f"{{{WSSE}}}KeyIdentifier"
WSSE_REFERENCE = f"{{{WSSE}}}Reference"
WSSE_BST = f"{{{WSSE}}}BinarySecurityToken"

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


Found = tuple[x509.Certificate, xmlsec.Key, str]


def _keyinfo_error(detail: str) -> GatewayError:
    return GatewayError(errors.SIG_KEYINFO, detail)


def certificate_from_key_info(parts: dsig.SignatureParts, trust: TrustStore) -> Found:
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
) -> Found:
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


def _from_x509_data(data: etree._Element, trust: TrustStore) -> Found:
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
