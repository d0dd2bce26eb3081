"""The transport signature: round trips, and one test per refusal ground with its exact code."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import lxml.etree as etree
import pytest
import xmlsec

from connectors import (
    WSU,
    FaultCode,
    GatewayError,
    TransportKey,
    TrustStore,
    errors,
    find_transport_signature,
    sign_envelope,
    verify_envelope,
)
from tests.security.helpers import (
    WSU_ID,
    Variant,
    body_of,
    ds,
    flip_signature_value,
    header_of,
    new_envelope,
    sign_variant,
    soap,
    wsse,
)


def refused(
    fault: FaultCode, envelope: etree._Element, trust: TrustStore, now: datetime
) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        verify_envelope(envelope, trust, now=now)
    assert caught.value.fault is fault, caught.value
    return caught.value


def signed(key: TransportKey, **kwargs: object) -> etree._Element:
    """A signed envelope as it arrives: serialised and parsed again."""
    envelope = new_envelope()
    sign_envelope(envelope, key, **kwargs)  # type: ignore[arg-type]
    return reparsed(envelope)


def reparsed(envelope: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(envelope))


# --- round trips ------------------------------------------------------------------------------


def test_rsa_round_trip_in_the_dominant_layout(gateway_key, trust, now):
    envelope = reparsed(signed(gateway_key))
    verified = verify_envelope(envelope, trust, now=now)
    assert verified.certificate == gateway_key.certificate
    assert verified.layout == "keyidentifier"
    assert verified.timestamp is None
    security = header_of(envelope).find(wsse("Security"))
    assert security.get(soap("mustUnderstand")) == "1"
    assert envelope[0].tag == soap("Header")
    signature = security.find(ds("Signature"))
    assert signature.prefix == "ds"
    [ref] = signature.findall(f"{ds('SignedInfo')}/{ds('Reference')}")
    assert ref.get("URI") == "#" + body_of(envelope).get(WSU_ID)
    assert body_of(envelope).get(WSU_ID).startswith("id-")
    assert b"wsu:Id=" in etree.tostring(body_of(envelope))


def test_ecdsa_p256_round_trip(ec_key, trust, now):
    envelope = reparsed(signed(ec_key))
    method = envelope.find(f".//{ds('SignatureMethod')}").get("Algorithm")
    assert method.endswith("#ecdsa-sha256")
    assert verify_envelope(envelope, trust, now=now).certificate == ec_key.certificate


def test_signed_timestamp_is_reported(gateway_key, trust, now):
    envelope = reparsed(signed(gateway_key, with_timestamp=True, ttl_seconds=120, now=now))
    created, expires = verify_envelope(envelope, trust, now=now).timestamp
    assert created == now.replace(microsecond=now.microsecond // 1000 * 1000)
    assert expires - created == timedelta(seconds=120)
    assert len(envelope.findall(f".//{ds('Reference')}")) == 2


def test_unsigned_timestamp_is_ignored(gateway_key, trust, now):
    envelope = signed(gateway_key)
    security = header_of(envelope).find(wsse("Security"))
    stamp = etree.SubElement(security, f"{{{WSU}}}Timestamp")
    etree.SubElement(stamp, f"{{{WSU}}}Created").text = "2020-01-01T00:00:00Z"
    assert verify_envelope(envelope, trust, now=now).timestamp is None


def test_resigning_replaces_the_previous_signature_and_keeps_the_body_id(
    gateway_key, egov_key, trust, now
):
    envelope = signed(egov_key, with_timestamp=True)
    body_id = body_of(envelope).get(WSU_ID)
    sign_envelope(envelope, gateway_key)
    assert body_of(envelope).get(WSU_ID) == body_id
    assert len(header_of(envelope).findall(wsse("Security"))) == 1
    assert verify_envelope(envelope, trust, now=now).certificate == gateway_key.certificate


def test_existing_header_is_reused(gateway_key, trust, now):
    envelope = new_envelope()
    header = header_of(envelope)
    etree.SubElement(header, "{urn:other}Trace").text = "x"
    sign_envelope(envelope, gateway_key)
    assert envelope.findall(soap("Header")) == [header]
    assert verify_envelope(envelope, trust, now=now)


def test_find_transport_signature(gateway_key):
    assert find_transport_signature(new_envelope()) is None
    envelope = signed(gateway_key)
    assert find_transport_signature(envelope).tag == ds("Signature")


# --- refusals ---------------------------------------------------------------------------------


def test_body_edited_after_signing(gateway_key, trust, now):
    envelope = signed(gateway_key)
    envelope.find(".//serviceId").text = "GBDFL_UniversalServiceSync"
    refused(errors.SIG_DIGEST_MISMATCH, envelope, trust, now)


def test_whitespace_added_to_body_is_a_digest_mismatch(gateway_key, trust, now):
    envelope = signed(gateway_key)
    body_of(envelope)[0].tail = "\n\n"
    refused(errors.SIG_DIGEST_MISMATCH, envelope, trust, now)


def test_signature_value_tampered(gateway_key, trust, now):
    envelope = signed(gateway_key)
    flip_signature_value(find_transport_signature(envelope))
    refused(errors.SIG_INVALID, envelope, trust, now)


def test_signed_info_edited_is_signature_invalid(gateway_key, trust, now):
    envelope = signed(gateway_key)
    envelope.find(f".//{ds('Reference')}").set("Type", "urn:x")
    refused(errors.SIG_INVALID, envelope, trust, now)


def test_key_of_another_system_does_not_verify(gateway_key, egov_key, trust, now):
    envelope = signed(gateway_key)
    ident = envelope.find(f".//{wsse('KeyIdentifier')}")
    ident.text = egov_key.certificate_base64
    refused(errors.SIG_INVALID, envelope, trust, now)


def test_sha1_signature_is_refused(gateway_key, trust, now):
    envelope = new_envelope()
    variant = Variant(method=xmlsec.Transform.RSA_SHA1, digest=xmlsec.Transform.SHA1)
    sign_variant(envelope, gateway_key, variant)
    refused(errors.SIG_ALGORITHM, envelope, trust, now)


def test_sha1_digest_alone_is_refused(gateway_key, trust, now):
    envelope = new_envelope()
    sign_variant(envelope, gateway_key, Variant(digest=xmlsec.Transform.SHA1))
    refused(errors.SIG_ALGORITHM, envelope, trust, now)


@pytest.mark.parametrize(
    ("element", "uri"),
    [
        ("SignatureMethod", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha1"),
        ("SignatureMethod", "http://www.w3.org/2000/09/xmldsig#hmac-sha1"),
        ("SignatureMethod", "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"),
        ("DigestMethod", "http://www.w3.org/2001/04/xmldsig-more#sha1"),
        ("DigestMethod", "http://www.w3.org/2001/04/xmldsig-more#md5"),
        ("CanonicalizationMethod", "http://www.w3.org/2006/12/xml-c14n11"),
        ("Transform", "http://www.w3.org/TR/1999/REC-xpath-19991116"),
        ("Transform", "http://www.w3.org/TR/1999/REC-xslt-19991116"),
    ],
)
def test_algorithm_outside_the_allow_list_is_refused_before_crypto(
    gateway_key, trust, now, element, uri
):
    envelope = signed(gateway_key)
    envelope.find(f".//{ds(element)}").set("Algorithm", uri)
    error = refused(errors.SIG_ALGORITHM, envelope, trust, now)
    assert uri in error.detail


@pytest.mark.parametrize(
    ("c14n", "transforms"),
    [
        (xmlsec.Transform.C14N, (xmlsec.Transform.EXCL_C14N,)),
        (xmlsec.Transform.C14N_COMMENTS, (xmlsec.Transform.EXCL_C14N,)),
        (xmlsec.Transform.EXCL_C14N_COMMENTS, (xmlsec.Transform.EXCL_C14N,)),
        (xmlsec.Transform.EXCL_C14N, (xmlsec.Transform.C14N,)),
        (xmlsec.Transform.EXCL_C14N, (xmlsec.Transform.C14N_COMMENTS,)),
        (xmlsec.Transform.EXCL_C14N, (xmlsec.Transform.EXCL_C14N_COMMENTS,)),
        (xmlsec.Transform.EXCL_C14N, (xmlsec.Transform.ENVELOPED,)),
        (xmlsec.Transform.EXCL_C14N, ()),
    ],
    ids=[
        "inclusive-signedinfo",
        "inclusive-comments-signedinfo",
        "exclusive-comments-signedinfo",
        "inclusive-transform",
        "inclusive-comments-transform",
        "exclusive-comments-transform",
        "no-final-c14n",
        "no-transforms",
    ],
)
def test_only_exclusive_c14n_without_comments_is_accepted(egov_key, trust, now, c14n, transforms):
    """Issue 8, finding 4: a correctly signed message outside the documented profile."""
    envelope = new_envelope()
    sign_variant(envelope, egov_key, Variant(c14n=c14n, transforms=transforms))
    refused(errors.SIG_ALGORITHM, envelope, trust, now)


def test_two_timestamps_in_one_security_header_are_refused(gateway_key, trust, now):
    """Issue 8, finding 5: which Timestamp is "the" one must not depend on who reads it."""
    envelope = new_envelope()
    sign_envelope(envelope, gateway_key, with_timestamp=True, now=now)
    stamp = envelope.find(f".//{{{WSU}}}Timestamp")
    stale = copy.deepcopy(stamp)
    del stale.attrib[f"{{{WSU}}}Id"]
    stamp.addnext(stale)
    refused(errors.TIMESTAMP_DUPLICATED, envelope, trust, now)


def test_a_body_c14n_cannot_express_is_a_digest_mismatch(gateway_key, trust, now):
    """Found by fuzzing: a relative namespace URI added after signing made the failure analysis
    raise C14NError, and the caller got Server.Internal."""
    raw = etree.tostring(signed(gateway_key)).replace(
        b"<request>", b'<request><x:e xmlns:x="relative/uri"/>'
    )
    refused(errors.SIG_DIGEST_MISMATCH, etree.fromstring(raw), trust, now)


def test_signature_over_the_timestamp_only(gateway_key, trust, now):
    envelope = new_envelope()
    security = etree.SubElement(header_of(envelope), wsse("Security"))
    stamp = etree.SubElement(security, f"{{{WSU}}}Timestamp")
    etree.SubElement(stamp, f"{{{WSU}}}Created").text = "2025-01-01T00:00:00Z"
    sign_variant(envelope, gateway_key, Variant(sign_body=False, extra_targets=[stamp]))
    refused(errors.SIG_BODY_NOT_SIGNED, envelope, trust, now)


def test_signature_over_another_element_only(gateway_key, trust, now):
    envelope = new_envelope()
    other = etree.SubElement(header_of(envelope), "{urn:x}Routing")
    sign_variant(envelope, gateway_key, Variant(sign_body=False, extra_targets=[other]))
    refused(errors.SIG_BODY_NOT_SIGNED, envelope, trust, now)


def test_wrapping_signed_body_moved_into_header_new_body_same_id(gateway_key, trust, now):
    envelope = signed(gateway_key)
    original = body_of(envelope)
    wrapper = etree.SubElement(header_of(envelope), "{urn:attacker}Wrapper")
    envelope.remove(original)
    wrapper.append(original)
    evil = etree.SubElement(envelope, soap("Body"), {WSU_ID: original.get(WSU_ID)})
    etree.SubElement(evil, "{urn:x}TransferAll")
    refused(errors.SIG_WRAPPING, envelope, trust, now)


def test_wrapping_signed_body_moved_into_wrapper_new_body_new_id(gateway_key, trust, now):
    envelope = signed(gateway_key)
    original = body_of(envelope)
    wrapper = etree.SubElement(header_of(envelope), "{urn:attacker}Wrapper")
    envelope.remove(original)
    wrapper.append(original)
    evil = etree.SubElement(envelope, soap("Body"), {WSU_ID: "id-evil"})
    etree.SubElement(evil, "{urn:x}TransferAll")
    error = refused(errors.SIG_WRAPPING, envelope, trust, now)
    assert "Body" in error.detail


def test_wrapping_signed_body_renamed_and_moved(gateway_key, trust, now):
    # The signed content survives only under another name: the delivered Body is not signed.
    envelope = signed(gateway_key)
    original = body_of(envelope)
    envelope.remove(original)
    original.tag = "{urn:attacker}Stash"
    header_of(envelope).append(original)
    etree.SubElement(envelope, soap("Body"))
    refused(errors.SIG_BODY_NOT_SIGNED, envelope, trust, now)


@pytest.mark.parametrize("attribute", [WSU_ID, "Id", "ID"])
def test_wrapping_duplicate_id(gateway_key, trust, now, attribute):
    envelope = signed(gateway_key)
    decoy = etree.SubElement(header_of(envelope), "{urn:attacker}Decoy")
    decoy.set(attribute, body_of(envelope).get(WSU_ID))
    refused(errors.SIG_WRAPPING, envelope, trust, now)


def test_wrapping_duplicate_xml_id(gateway_key, trust, now):
    envelope = signed(gateway_key)
    body_id = body_of(envelope).get(WSU_ID)
    text = etree.tostring(envelope).replace(
        b"</soapenv:Header>",
        f'<x:Decoy xmlns:x="urn:x" xml:id="{body_id}"/></soapenv:Header>'.encode(),
    )
    refused(errors.SIG_WRAPPING, etree.fromstring(text), trust, now)


def test_wrapping_second_body_inside_header(gateway_key, trust, now):
    envelope = signed(gateway_key)
    etree.SubElement(header_of(envelope), soap("Body"))
    refused(errors.SIG_WRAPPING, envelope, trust, now)


def test_wrapping_second_body_after_the_first(gateway_key, trust, now):
    envelope = signed(gateway_key)
    etree.SubElement(envelope, soap("Body"))
    refused(errors.SIG_WRAPPING, envelope, trust, now)


def test_wrapping_second_body_deep_inside_the_payload(gateway_key, trust, now):
    envelope = new_envelope()
    etree.SubElement(envelope.find(".//data"), soap("Body"))
    sign_envelope(envelope, gateway_key)
    refused(errors.SIG_WRAPPING, envelope, trust, now)


def test_unsigned(trust, now):
    refused(errors.SIG_MISSING, new_envelope(), trust, now)


def test_signature_outside_the_header_does_not_count(gateway_key, trust, now):
    envelope = signed(gateway_key)
    signature = find_transport_signature(envelope)
    body_of(envelope)[0].append(copy.deepcopy(signature))
    header_of(envelope).remove(header_of(envelope).find(wsse("Security")))
    refused(errors.SIG_MISSING, envelope, trust, now)


def test_two_signatures(gateway_key, trust, now):
    envelope = signed(gateway_key)
    security = header_of(envelope).find(wsse("Security"))
    security.append(copy.deepcopy(find_transport_signature(envelope)))
    refused(errors.SIG_AMBIGUOUS, envelope, trust, now)
    with pytest.raises(GatewayError) as caught:
        find_transport_signature(envelope)
    assert caught.value.fault is errors.SIG_AMBIGUOUS


def test_second_signature_in_a_second_security_header(gateway_key, trust, now):
    envelope = signed(gateway_key)
    header_of(envelope).append(copy.deepcopy(header_of(envelope).find(wsse("Security"))))
    refused(errors.SIG_AMBIGUOUS, envelope, trust, now)


@pytest.mark.parametrize("part", ["SignedInfo", "SignatureValue"])
def test_missing_signature_parts(gateway_key, trust, now, part):
    envelope = signed(gateway_key)
    signature = find_transport_signature(envelope)
    signature.remove(signature.find(ds(part)))
    refused(errors.SIG_MALFORMED, envelope, trust, now)


def test_reference_to_nothing_is_malformed(gateway_key, trust, now):
    envelope = signed(gateway_key)
    extra = copy.deepcopy(envelope.find(f".//{ds('Reference')}"))
    extra.set("URI", "#nowhere")
    envelope.find(f".//{ds('SignedInfo')}").append(extra)
    refused(errors.SIG_MALFORMED, envelope, trust, now)


@pytest.mark.parametrize("uri", ["", "http://example.org/body", "#xpointer(/)"])
def test_reference_that_is_not_a_plain_id_is_malformed(gateway_key, trust, now, uri):
    envelope = signed(gateway_key)
    envelope.find(f".//{ds('Reference')}").set("URI", uri)
    refused(errors.SIG_MALFORMED, envelope, trust, now)


def test_no_keyinfo(gateway_key, trust, now):
    envelope = signed(gateway_key)
    signature = find_transport_signature(envelope)
    signature.remove(signature.find(ds("KeyInfo")))
    refused(errors.SIG_KEYINFO, envelope, trust, now)


def test_keyidentifier_that_is_not_a_certificate(gateway_key, trust, now):
    envelope = signed(gateway_key)
    envelope.find(f".//{wsse('KeyIdentifier')}").text = "bm90IGEgY2VydGlmaWNhdGU="
    refused(errors.SIG_KEYINFO, envelope, trust, now)


def test_keyidentifier_of_another_value_type(gateway_key, trust, now):
    envelope = signed(gateway_key)
    ident = envelope.find(f".//{wsse('KeyIdentifier')}")
    ident.set("ValueType", ident.get("ValueType").replace("X509v3", "X509SubjectKeyIdentifier"))
    refused(errors.SIG_KEYINFO, envelope, trust, now)


def test_unknown_issuer_serial(egov_key, pki_dir, now):
    store = TrustStore.from_dir(pki_dir)  # nothing registered
    envelope = new_envelope()
    sign_variant(envelope, egov_key, Variant(layout="issuerserial"))
    refused(errors.SIG_KEYINFO, envelope, store, now)


def test_untrusted_ca(foreign_key, trust, now):
    refused(errors.CERT_UNTRUSTED, signed(foreign_key), trust, now)


def test_expired_certificate(expired_key, trust, now):
    refused(errors.CERT_EXPIRED, signed(expired_key), trust, now)


def test_certificate_checked_at_the_given_time(gateway_key, trust, now):
    envelope = signed(gateway_key)
    refused(errors.CERT_EXPIRED, envelope, trust, now + timedelta(days=3 * 365))


def test_not_an_envelope(gateway_key, trust, now):
    refused(errors.SOAP_NOT_ENVELOPE, etree.fromstring(b"<Envelope/>"), trust, now)
    envelope = signed(gateway_key)
    envelope.append(copy.deepcopy(header_of(envelope)))
    refused(errors.SOAP_NOT_ENVELOPE, envelope, trust, now)


def test_keyinfo_retrieval_method_is_never_followed(gateway_key, trust, now):
    envelope = signed(gateway_key)
    key_info = find_transport_signature(envelope).find(ds("KeyInfo"))
    key_info.insert(0, etree.Element(ds("RetrievalMethod"), URI="http://127.0.0.1:9/cert"))
    assert verify_envelope(envelope, trust, now=now).key_reference == "keyidentifier"


def test_same_value_in_an_ordinary_attribute_is_not_an_id(gateway_key, trust, now):
    envelope = signed(gateway_key)
    note = etree.SubElement(header_of(envelope), "{urn:x}Note")
    note.set("about", body_of(envelope).get(WSU_ID))
    assert verify_envelope(envelope, trust, now=now)
