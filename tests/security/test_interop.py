"""Independent implementations agree: zeep's WS-Security signer → our verifier, and our signers →
signxml's verifier (a pure-Python XML-DSig implementation sharing no code with xmlsec)."""

from __future__ import annotations

import copy
from pathlib import Path

import lxml.etree as etree
import pytest
import xmlsec
from cryptography.hazmat.primitives import serialization
from signxml import SignatureConfiguration, XMLVerifier
from signxml.exceptions import InvalidDigest, InvalidSignature
from zeep.wsse.signature import BinarySignature, MemorySignature, Signature

from connectors import (
    GatewayError,
    TransportKey,
    errors,
    sign_envelope,
    sign_payload,
    verify_envelope,
)
from tests.security.helpers import body_of, new_envelope

SOAP_BODY = "{http://schemas.xmlsoap.org/soap/envelope/}Body"


def _wire(envelope: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(envelope))


def _pem(key: TransportKey) -> bytes:
    return key.certificate.public_bytes(serialization.Encoding.PEM)


# --- zeep signs, we verify ----------------------------------------------------------------------


def test_zeep_memory_signature_verifies(pki_dir: Path, gateway_key, trust, now):
    plugin = MemorySignature(
        (pki_dir / "GATEWAY.key").read_bytes(),
        (pki_dir / "GATEWAY.pem").read_bytes(),
        signature_method=xmlsec.Transform.RSA_SHA256,
        digest_method=xmlsec.Transform.SHA256,
    )
    envelope, _ = plugin.apply(new_envelope(), {})
    verified = verify_envelope(_wire(envelope), trust, now=now)
    assert verified.key_reference == "x509data"  # zeep: STR/X509Data(IssuerSerial, Certificate)
    assert verified.certificate == gateway_key.certificate


def test_zeep_file_signature_verifies_and_its_default_sha1_is_refused(pki_dir: Path, trust, now):
    good = Signature(
        str(pki_dir / "EGOV_PORTAL.key"),
        str(pki_dir / "EGOV_PORTAL.pem"),
        signature_method=xmlsec.Transform.RSA_SHA256,
        digest_method=xmlsec.Transform.SHA256,
    )
    envelope, _ = good.apply(new_envelope(), {})
    assert verify_envelope(_wire(envelope), trust, now=now)
    legacy = Signature(str(pki_dir / "EGOV_PORTAL.key"), str(pki_dir / "EGOV_PORTAL.pem"))
    envelope, _ = legacy.apply(new_envelope(), {})  # zeep defaults to RSA-SHA1 / SHA1
    with pytest.raises(GatewayError) as caught:
        verify_envelope(_wire(envelope), trust, now=now)
    assert caught.value.fault is errors.SIG_ALGORITHM


def test_zeep_binary_signature_verifies_through_the_bst(pki_dir: Path, trust, now):
    plugin = BinarySignature(
        str(pki_dir / "GATEWAY.key"),
        str(pki_dir / "GATEWAY.pem"),
        signature_method=xmlsec.Transform.RSA_SHA256,
        digest_method=xmlsec.Transform.SHA256,
    )
    envelope, _ = plugin.apply(new_envelope(), {})
    assert verify_envelope(_wire(envelope), trust, now=now).key_reference == "bst"


def test_zeep_signature_tampered_is_refused(pki_dir: Path, trust, now):
    plugin = MemorySignature(
        (pki_dir / "GATEWAY.key").read_bytes(),
        (pki_dir / "GATEWAY.pem").read_bytes(),
        signature_method=xmlsec.Transform.RSA_SHA256,
        digest_method=xmlsec.Transform.SHA256,
    )
    envelope, _ = plugin.apply(new_envelope(), {})
    wire = _wire(envelope)
    wire.find(".//senderId").text = "intruder"
    with pytest.raises(GatewayError) as caught:
        verify_envelope(wire, trust, now=now)
    assert caught.value.fault is errors.SIG_DIGEST_MISMATCH


# --- we sign, signxml verifies ------------------------------------------------------------------


@pytest.mark.parametrize("key_name", ["gateway_key", "ec_key"])
def test_our_transport_signature_verifies_with_signxml(request, key_name):
    key: TransportKey = request.getfixturevalue(key_name)
    envelope = new_envelope()
    sign_envelope(envelope, key)
    # signxml resolves "#id" by any attribute whose local name is Id, so wsu:Id needs no option.
    result = XMLVerifier().verify(etree.tostring(envelope), x509_cert=_pem(key))
    assert result.signed_xml.tag == SOAP_BODY
    assert result.signed_xml.find(".//serviceId").text == "GbdulInfoByBin_v2"


def test_our_timestamped_signature_verifies_with_signxml(gateway_key):
    envelope = new_envelope()
    sign_envelope(envelope, gateway_key, with_timestamp=True)
    config = SignatureConfiguration(expect_references=2)
    results = XMLVerifier().verify(
        etree.tostring(envelope), x509_cert=_pem(gateway_key), expect_config=config
    )
    assert [etree.QName(r.signed_xml).localname for r in results] == ["Body", "Timestamp"]


def test_signxml_also_refuses_our_signature_once_tampered(gateway_key):
    envelope = new_envelope()
    sign_envelope(envelope, gateway_key)
    body_of(envelope).find(".//serviceId").text = "other"
    with pytest.raises((InvalidDigest, InvalidSignature)):
        XMLVerifier().verify(etree.tostring(envelope), x509_cert=_pem(gateway_key))


def test_our_payload_signature_verifies_with_signxml(egov_key):
    # No comments here: for URI="" XML-DSig drops them (xmlsec does), signxml 5.2 keeps them.
    payload = etree.fromstring(
        b'<p:Request xmlns:p="urn:gbdul:v2"><p:bin>123456789012</p:bin></p:Request>'
    )
    sign_payload(payload, egov_key)
    result = XMLVerifier().verify(etree.tostring(payload), x509_cert=_pem(egov_key))
    assert etree.QName(result.signed_xml).localname == "Request"


def test_our_embedded_payload_signature_verifies_with_signxml_once_extracted(egov_key):
    envelope = new_envelope()
    data = envelope.find(".//data")
    data.text = None
    payload = etree.SubElement(data, "{urn:gbdul:v2}Request")
    etree.SubElement(payload, "{urn:gbdul:v2}bin").text = "123456789012"
    sign_payload(payload, egov_key)
    # A receiving service imports the payload into a document of its own, then verifies.
    standalone = copy.deepcopy(_wire(envelope).find(".//data")[0])
    assert set(standalone.nsmap.values()) == {"urn:gbdul:v2"}
    XMLVerifier().verify(etree.tostring(standalone), x509_cert=_pem(egov_key))
