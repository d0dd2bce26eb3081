"""The business-data signature: where it may sit, and its refusals (codes SCE015–017)."""

from __future__ import annotations

import copy
from xml.sax.saxutils import escape

import lxml.etree as etree
import pytest
import xmlsec

from connectors import (
    FaultCode,
    GatewayError,
    errors,
    sign_envelope,
    sign_payload,
    verify_envelope,
    verify_payload,
)
from connectors.wsse.dsig import DS
from tests.security.helpers import new_envelope

PAYLOAD = b'<p:Request xmlns:p="urn:gbdul:v2"><p:bin>123456789012</p:bin></p:Request>'


def payload() -> etree._Element:
    return etree.fromstring(PAYLOAD)


def signed_payload(key) -> etree._Element:
    element = payload()
    sign_payload(element, key)
    return etree.fromstring(etree.tostring(element))


def data_of(envelope: etree._Element) -> etree._Element:
    data = envelope.find(".//data")
    data.text = None
    return data


def refused(fault: FaultCode, element, trust, now) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        verify_payload(element, trust, now=now)
    assert caught.value.fault is fault, caught.value
    return caught.value


def test_layout_of_the_payload_signature(egov_key):
    element = signed_payload(egov_key)
    signature = element[-1]
    assert signature.tag == f"{{{DS}}}Signature"
    ns = {"ds": DS}
    assert signature.xpath("ds:SignedInfo/ds:Reference/@URI", namespaces=ns) == [""]
    assert signature.xpath(
        "ds:SignedInfo/ds:Reference/ds:Transforms/ds:Transform/@Algorithm", namespaces=ns
    ) == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
    ]
    assert signature.xpath("ds:SignedInfo/ds:CanonicalizationMethod/@Algorithm", namespaces=ns) == [
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    ]
    assert signature.xpath("ds:KeyInfo/ds:X509Data/ds:X509Certificate/text()", namespaces=ns) == [
        egov_key.certificate_base64
    ]


def test_standalone_round_trip(egov_key, trust, now):
    assert verify_payload(signed_payload(egov_key), trust, now=now) == egov_key.certificate


def test_ecdsa_round_trip(ec_key, trust, now):
    assert verify_payload(signed_payload(ec_key), trust, now=now) == ec_key.certificate


def test_signed_payload_as_first_child_of_data_then_transport_signed(
    egov_key, gateway_key, trust, now
):
    envelope = new_envelope()
    data = data_of(envelope)
    data.append(payload())
    sign_payload(data[0], egov_key)  # sign the payload first, then the transport signature
    sign_envelope(envelope, gateway_key)
    wire = etree.fromstring(etree.tostring(envelope))
    assert verify_envelope(wire, trust, now=now).certificate == gateway_key.certificate
    assert verify_payload(data_of(wire), trust, now=now) == egov_key.certificate


def test_signature_on_data_itself(egov_key, trust, now):
    envelope = new_envelope()
    data = data_of(envelope)
    etree.SubElement(data, "bin").text = "123456789012"
    sign_payload(data, egov_key)
    wire = etree.fromstring(etree.tostring(envelope))
    assert verify_payload(wire.find(".//data"), trust, now=now) == egov_key.certificate


def test_payload_signed_elsewhere_and_embedded(egov_key, trust, now):
    envelope = new_envelope()
    data_of(envelope).append(signed_payload(egov_key))
    wire = etree.fromstring(etree.tostring(envelope))
    assert verify_payload(wire.find(".//data"), trust, now=now) == egov_key.certificate


def test_payload_as_escaped_text(egov_key, trust, now):
    envelope = new_envelope()
    text = etree.tostring(signed_payload(egov_key)).decode()
    data_of(envelope).text = text
    wire = etree.fromstring(etree.tostring(envelope))
    assert b"&lt;p:Request" in etree.tostring(wire)
    assert verify_payload(wire.find(".//data"), trust, now=now) == egov_key.certificate


def test_payload_as_cdata(egov_key, trust, now):
    text = etree.tostring(signed_payload(egov_key)).decode()
    wire = etree.fromstring(f"<data><![CDATA[{text}]]></data>".encode())
    assert verify_payload(wire, trust, now=now) == egov_key.certificate


def test_escaped_payload_with_an_external_entity_is_not_resolved(trust, now, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    text = f'<!DOCTYPE r [<!ENTITY e SYSTEM "file://{secret}">]><r>&e;</r>'
    data = etree.fromstring(f"<data>{escape(text)}</data>".encode())
    error = refused(errors.PAYLOAD_SIG_MISSING, data, trust, now)
    assert "TOP-SECRET" not in str(error)


def test_unsigned_payload(trust, now):
    refused(errors.PAYLOAD_SIG_MISSING, payload(), trust, now)
    envelope = new_envelope()
    data_of(envelope).append(payload())
    refused(errors.PAYLOAD_SIG_MISSING, envelope.find(".//data"), trust, now)


def test_payload_edited_after_signing(egov_key, trust, now):
    element = signed_payload(egov_key)
    element[0].text = "999999999999"
    error = refused(errors.PAYLOAD_SIG_INVALID, element, trust, now)
    assert "DigestMismatch" in error.detail


def test_payload_signature_value_tampered(egov_key, trust, now):
    element = signed_payload(egov_key)
    value = element.find(f".//{{{DS}}}SignatureValue")
    value.text = "A" + value.text[1:] if value.text[0] != "A" else "B" + value.text[1:]
    error = refused(errors.PAYLOAD_SIG_INVALID, element, trust, now)
    assert "SignatureInvalid" in error.detail


def test_payload_sha1_is_refused(egov_key, trust, now):
    element = payload()
    signature = xmlsec.template.create(
        element, xmlsec.Transform.C14N, xmlsec.Transform.RSA_SHA1, ns="ds"
    )
    element.append(signature)
    ref = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA1, uri="")
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    ctx = xmlsec.SignatureContext()
    ctx.key = egov_key.xmlsec_key
    ctx.sign(signature)
    key_info = etree.SubElement(signature, f"{{{DS}}}KeyInfo")
    data = etree.SubElement(key_info, f"{{{DS}}}X509Data")
    etree.SubElement(data, f"{{{DS}}}X509Certificate").text = egov_key.certificate_base64
    error = refused(
        errors.PAYLOAD_SIG_INVALID, etree.fromstring(etree.tostring(element)), trust, now
    )
    assert "AlgorithmNotAllowed" in error.detail


def test_reference_to_part_of_the_payload_is_refused(egov_key, trust, now):
    element = payload()
    part = element[0]
    part.set("Id", "part")
    signature = xmlsec.template.create(
        element, xmlsec.Transform.C14N, xmlsec.Transform.RSA_SHA256, ns="ds"
    )
    element.append(signature)
    ref = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri="#part")
    xmlsec.template.add_transform(ref, xmlsec.Transform.C14N)
    ctx = xmlsec.SignatureContext()
    ctx.key = egov_key.xmlsec_key
    ctx.register_id(part, "Id")
    ctx.sign(signature)
    etree.SubElement(
        etree.SubElement(etree.SubElement(signature, f"{{{DS}}}KeyInfo"), f"{{{DS}}}X509Data"),
        f"{{{DS}}}X509Certificate",
    ).text = egov_key.certificate_base64
    wire = etree.fromstring(etree.tostring(element))
    error = refused(errors.PAYLOAD_SIG_INVALID, wire, trust, now)
    assert "part of the payload" in error.detail


def test_reference_by_the_roots_own_id_is_accepted(egov_key, trust, now):
    element = payload()
    element.set("Id", "doc")
    signature = xmlsec.template.create(
        element, xmlsec.Transform.C14N, xmlsec.Transform.RSA_SHA256, ns="ds"
    )
    element.append(signature)
    ref = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri="#doc")
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    ctx = xmlsec.SignatureContext()
    ctx.key = egov_key.xmlsec_key
    ctx.register_id(element, "Id")
    ctx.sign(signature)
    etree.SubElement(
        etree.SubElement(etree.SubElement(signature, f"{{{DS}}}KeyInfo"), f"{{{DS}}}X509Data"),
        f"{{{DS}}}X509Certificate",
    ).text = egov_key.certificate_base64
    wire = etree.fromstring(etree.tostring(element))
    assert verify_payload(wire, trust, now=now) == egov_key.certificate


def test_payload_without_certificate(egov_key, trust, now):
    element = signed_payload(egov_key)
    signature = element[-1]
    signature.remove(signature.find(f"{{{DS}}}KeyInfo"))
    error = refused(errors.PAYLOAD_SIG_INVALID, element, trust, now)
    assert "CertificateMissing" in error.detail


def test_payload_signed_by_a_foreign_ca(foreign_key, trust, now):
    error = refused(errors.PAYLOAD_CERT_INVALID, signed_payload(foreign_key), trust, now)
    assert "CertificateUntrusted" in error.detail


def test_payload_signed_with_an_expired_certificate(expired_key, trust, now):
    error = refused(errors.PAYLOAD_CERT_INVALID, signed_payload(expired_key), trust, now)
    assert "CertificateExpired" in error.detail


def test_signing_an_embedded_payload_leaves_the_rest_of_the_envelope_alone(egov_key):
    envelope = new_envelope()
    data = data_of(envelope)
    data.append(payload())
    before = copy.deepcopy(envelope)
    sign_payload(data[0], egov_key)
    data[0].remove(data[0][-1])
    assert etree.tostring(envelope) == etree.tostring(before)
