"""The business-data signature (protocol sheet §5.2): an enveloped XML-DSig on the payload.

A payload is signed and verified as a standalone document (URI="" means "the whole document"),
because that is how it is produced before it is embedded in ``data``: an embedded payload is
copied out with only the namespaces it uses, the way DOM ``importNode`` verifiers see it.

Refusals use their own codes (legacy SCE015–017) so a client can tell them from transport-signature
faults; ``detail`` names the exact reason.
"""

from __future__ import annotations

import copy
from datetime import datetime

import lxml.etree as etree
import xmlsec
from cryptography import x509

from connectors import errors
from connectors.errors import GatewayError
from connectors.wsse import dsig
from connectors.wsse.dsig import DS, DS_SIGNATURE
from connectors.wsse.transport import TransportKey
from connectors.wsse.trust import TrustStore

# Escaped or CDATA payloads are parsed again: no entities, no DTD, no network.
_HARDENED = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)
_CERT_FAULTS = {errors.CERT_UNTRUSTED.code, errors.CERT_EXPIRED.code, errors.CERT_REVOKED.code}


def sign_payload(element: etree._Element, key: TransportKey) -> None:
    """Append an enveloped ``ds:Signature`` covering ``element`` as its last child."""
    standalone = element if _is_root(element) else copy.deepcopy(element)
    signature = _template(standalone, key)
    standalone.append(signature)
    ctx = xmlsec.SignatureContext()
    ctx.key = key.xmlsec_key
    ctx.sign(signature)
    # KeyInfo is outside SignedInfo: fill it after signing (the xmlsec key carries no cert).
    key_info = etree.SubElement(signature, f"{{{DS}}}KeyInfo")
    data = etree.SubElement(key_info, dsig.DS_X509DATA)
    etree.SubElement(data, f"{{{DS}}}X509Certificate").text = key.certificate_base64
    if standalone is not element:
        element.append(signature)


def _is_root(element: etree._Element) -> bool:
    return element.getparent() is None


def _template(element: etree._Element, key: TransportKey) -> etree._Element:
    signature = xmlsec.template.create(
        element, xmlsec.Transform.C14N, key.signature_transform, ns="ds"
    )
    ref = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri="")
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(ref, xmlsec.Transform.C14N_COMMENTS)
    return signature


def verify_payload(
    element: etree._Element, trust: TrustStore, *, now: datetime
) -> x509.Certificate:
    """Verify the business-data signature on ``element`` (or its first child, or its text).

    Returns the signer's certificate. Refuses with PAYLOAD_SIG_MISSING, PAYLOAD_CERT_INVALID
    (untrusted/expired/revoked) or PAYLOAD_SIG_INVALID (everything else; ``detail`` says what).
    """
    try:
        return _verify(element, trust, now)
    except GatewayError as exc:
        raise _as_payload_fault(exc) from exc


def _as_payload_fault(exc: GatewayError) -> GatewayError:
    if exc.fault.code.startswith("Client.Security.Payload"):
        return exc
    if exc.fault is errors.SIG_MISSING:
        return GatewayError(errors.PAYLOAD_SIG_MISSING, exc.detail)
    fault = (
        errors.PAYLOAD_CERT_INVALID
        if exc.fault.code in _CERT_FAULTS
        else errors.PAYLOAD_SIG_INVALID
    )
    # The transport titles speak of the SOAP Body; keep the short reason and the detail only.
    return GatewayError(
        fault, f"{exc.fault.code.rsplit('.', 1)[-1]}: {exc.detail or exc.fault.title}"
    )


def _verify(element: etree._Element, trust: TrustStore, now: datetime) -> x509.Certificate:
    root, signature = _signed_root(element)
    parts = dsig.parse_signature(signature)
    dsig.check_algorithms(parts, dsig.PAYLOAD_PROFILE)
    target = _whole_root(parts, root)
    cert, key = _certificate(parts)
    trust.check(cert, now)
    dsig.verify_crypto(parts, [target], key)
    return cert


def _last_element(element: etree._Element) -> etree._Element | None:
    for child in reversed(element):
        if isinstance(child.tag, str):
            return child
    return None


def _first_element(element: etree._Element) -> etree._Element | None:
    for child in element:
        if isinstance(child.tag, str):
            return child
    return None


def _with_signature(element: etree._Element | None) -> tuple[etree._Element, etree._Element] | None:
    """(standalone copy of element, its trailing ds:Signature) if the element carries one."""
    last = None if element is None else _last_element(element)
    if element is None or last is None or last.tag != DS_SIGNATURE:
        return None
    standalone = _standalone(element)
    return standalone, _last_element(standalone)  # type: ignore[return-value]


def _signed_root(element: etree._Element) -> tuple[etree._Element, etree._Element]:
    """The standalone root the signature covers (element, first child, or parsed text) + sig."""
    first = _first_element(element)
    found = _with_signature(element) or _with_signature(first)
    if found is None and first is None and (element.text or "").strip():
        found = _with_signature(_parse_embedded(element.text or ""))
    if found is None:
        raise GatewayError(errors.PAYLOAD_SIG_MISSING, "no enveloped ds:Signature on the payload")
    return found


def _standalone(element: etree._Element) -> etree._Element:
    # deepcopy re-declares only the namespaces the subtree uses: what the signer saw.
    return element if _is_root(element) else copy.deepcopy(element)


def _parse_embedded(text: str) -> etree._Element:
    try:
        return etree.fromstring(text.strip().encode("utf-8"), _HARDENED)
    except etree.XMLSyntaxError as exc:
        raise GatewayError(
            errors.PAYLOAD_SIG_MISSING, "the data text is not an XML document"
        ) from exc


def _whole_root(parts: dsig.SignatureParts, root: etree._Element) -> dsig.Target:
    """The reference must cover the whole signed root: URI="" or the root's own #id."""
    if len(parts.references) != 1:
        raise GatewayError(errors.PAYLOAD_SIG_INVALID, "a payload signature has one Reference")
    ref = parts.references[0]
    if ref.uri == "":
        return dsig.Target(ref, root, None, None)  # "" is the document: no id to register
    target = dsig.resolve_id(root, dsig.fragment_id(ref.uri), ref)
    if target.element is not root:
        raise GatewayError(
            errors.PAYLOAD_SIG_INVALID, "the reference covers only part of the payload"
        )
    return target


def _certificate(parts: dsig.SignatureParts) -> tuple[x509.Certificate, xmlsec.Key]:
    key_info = parts.key_info
    data = None if key_info is None else dsig.child(key_info, dsig.DS_X509DATA)
    encoded = [] if data is None else dsig.children(data, f"{{{DS}}}X509Certificate")
    if not encoded:
        raise GatewayError(errors.SIG_KEYINFO, "no ds:X509Data/ds:X509Certificate in KeyInfo")
    try:
        return dsig.signer_certificate([dsig.decode_base64(e.text) for e in encoded])
    except ValueError as exc:
        raise GatewayError(errors.SIG_KEYINFO, "X509Certificate is not a certificate") from exc
