"""Every certificate-reference layout SHEP participants use is accepted (sheet §5.1, §7.9)."""

from __future__ import annotations

import lxml.etree as etree
import pytest
import xmlsec

from connectors import WSU, GatewayError, errors, find_transport_signature, verify_envelope
from connectors.wsse import dsig
from tests.security.helpers import (
    Variant,
    body_of,
    ds,
    header_of,
    legacy_variant,
    new_envelope,
    sign_variant,
    soap,
)


def _wire(envelope: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(envelope))


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ("keyidentifier", "keyidentifier"),
        ("bst", "bst"),
        ("issuerserial", "issuerserial"),
        ("issuerserial-str", "issuerserial"),
        ("x509data", "x509data"),
    ],
)
def test_key_reference_layouts(egov_key, trust, now, layout, expected):
    envelope = new_envelope()
    sign_variant(envelope, egov_key, Variant(layout=layout))
    verified = verify_envelope(_wire(envelope), trust, now=now)
    assert verified.certificate == egov_key.certificate
    assert verified.layout == verified.key_reference == expected


def test_legacy_bare_signature_with_plain_id_and_enveloped_transform(egov_key, trust, now):
    envelope = new_envelope()
    sign_variant(envelope, egov_key, legacy_variant())
    wire = _wire(envelope)
    assert body_of(wire).get("Id") and not body_of(wire).attrib.get(f"{{{WSU}}}Id")
    assert find_transport_signature(wire).getparent() is header_of(wire)
    verified = verify_envelope(wire, trust, now=now)
    assert (verified.layout, verified.key_reference) == ("legacy-header", "x509data")


def test_legacy_layout_tampered_is_a_digest_mismatch(egov_key, trust, now):
    envelope = new_envelope()
    sign_variant(envelope, egov_key, legacy_variant())
    wire = _wire(envelope)
    wire.find(".//messageId").text = "another"
    with pytest.raises(GatewayError) as caught:
        verify_envelope(wire, trust, now=now)
    assert caught.value.fault is errors.SIG_DIGEST_MISMATCH


def test_uppercase_id_attribute_and_mixed_prefixes(egov_key, trust, now):
    text = (
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        b'<SOAP-ENV:Header xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"/>'
        b'<soap:Body ID="bodyId"><x:Ping xmlns:x="urn:x"/></soap:Body></soap:Envelope>'
    )
    envelope = etree.fromstring(text)
    signature = xmlsec.template.create(
        envelope, xmlsec.Transform.EXCL_C14N, xmlsec.Transform.RSA_SHA512, ns="ds"
    )
    header_of(envelope).append(signature)
    ref = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA512, uri="#bodyId")
    xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
    ctx = xmlsec.SignatureContext()
    ctx.key = egov_key.xmlsec_key
    ctx.register_id(envelope.find(soap("Body")), "ID")
    ctx.sign(signature)
    # KeyInfo is not signed: add ds:X509Data/ds:X509Certificate after signing, as clients do.
    key_info = etree.SubElement(signature, ds("KeyInfo"))
    data = etree.SubElement(key_info, ds("X509Data"))
    etree.SubElement(data, ds("X509Certificate")).text = egov_key.certificate_base64
    wire = _wire(envelope)
    assert verify_envelope(wire, trust, now=now).layout == "legacy-header"


@pytest.mark.parametrize(
    ("c14n", "transforms"),
    [
        (xmlsec.Transform.EXCL_C14N, (xmlsec.Transform.EXCL_C14N,)),
        (xmlsec.Transform.EXCL_C14N_COMMENTS, (xmlsec.Transform.EXCL_C14N_COMMENTS,)),
        (xmlsec.Transform.C14N, (xmlsec.Transform.ENVELOPED, xmlsec.Transform.C14N)),
        (xmlsec.Transform.C14N_COMMENTS, (xmlsec.Transform.C14N_COMMENTS,)),
    ],
)
def test_recomputed_digest_matches_xmlsec(egov_key, c14n, transforms):
    # The failure-path classifier must compute exactly what xmlsec computes, or a bad signature
    # value would be misreported as a changed Body.
    envelope = new_envelope()
    body_of(envelope)[0].append(etree.Comment(" a comment inside the body "))
    signature = sign_variant(envelope, egov_key, Variant(c14n=c14n, transforms=transforms))
    wire = _wire(envelope)
    signature = find_transport_signature(wire)
    parts = dsig.parse_signature(signature)
    [ref] = parts.references
    target = dsig.resolve_id(wire, dsig.fragment_id(ref.uri), ref)
    assert dsig.reference_digest(ref, target.element, signature) == ref.digest_value
