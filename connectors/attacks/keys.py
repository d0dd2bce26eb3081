"""Key, certificate and algorithm confusion (families ``key`` and ``algorithm``): untrusted,
expired, revoked or another system's certificate, a certificate swapped after signing, keys named by
reference only, HMAC keyed with the public certificate, HMAC truncation (CVE-2009-0217), and
weak or dangerous algorithms (SHA-1, MD5, XPath and XSLT transforms)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

import xmlsec
from cryptography.hazmat.primitives import serialization
from lxml import etree

from connectors.attacks.envelopes import (
    child_tagged,
    custom_signed,
    descendants_tagged,
    ds_tag,
    probe_of,
    signature_of,
)
from connectors.attacks.model import Attack, AttackKit, Probe

__all__ = ["ALGORITHMS", "KEYS"]


def _with_key(attribute: str) -> Callable[[AttackKit], Probe | None]:
    def build(kit: AttackKit) -> Probe | None:
        key = getattr(kit, attribute)
        return None if key is None else probe_of(custom_signed(kit, key=key))

    return build


def _set_algorithm(local: str, uri: str) -> Callable[[AttackKit], Probe]:
    """Sign properly, then name another algorithm (the receiver must refuse before any crypto)."""

    def build(kit: AttackKit) -> Probe:
        envelope = kit.signed()
        element = descendants_tagged(signature_of(envelope), ds_tag(local))[0]
        element.set("Algorithm", uri)
        return probe_of(envelope)

    return build


def _hmac_signed(kit: AttackKit, *, truncate_bits: int | None) -> Probe:
    """SignedInfo with an HMAC method; the secret is the certificate's DER (public knowledge)."""
    envelope = kit.signed()
    signature = signature_of(envelope)
    signed_info = child_tagged(signature, ds_tag("SignedInfo"))
    method = child_tagged(signed_info, ds_tag("SignatureMethod"))
    method.set("Algorithm", "http://www.w3.org/2000/09/xmldsig#hmac-sha1")
    if truncate_bits is not None:
        etree.SubElement(method, ds_tag("HMACOutputLength")).text = str(truncate_bits)
    secret = kit.key.certificate.public_bytes(serialization.Encoding.DER)
    canonical = etree.tostring(signed_info, method="c14n", exclusive=True)
    mac = hmac.new(secret, canonical, hashlib.sha1).digest()
    if truncate_bits is not None:
        mac = mac[: max(1, truncate_bits // 8)]
    child_tagged(signature, ds_tag("SignatureValue")).text = base64.b64encode(mac).decode()
    return probe_of(envelope)


def _swapped_certificate(kit: AttackKit) -> Probe | None:
    if kit.other_key is None:
        return None
    return probe_of(custom_signed(kit, key=kit.other_key, key_info_cert=kit.key))


def _key_info_replaced(make: Callable[[AttackKit, etree._Element], None]) -> Callable:
    def build(kit: AttackKit) -> Probe:
        envelope = kit.signed()
        key_info = child_tagged(signature_of(envelope), ds_tag("KeyInfo"))
        for child in list(key_info):
            key_info.remove(child)
        make(kit, key_info)
        return probe_of(envelope)

    return build


def _retrieval_method(kit: AttackKit, key_info: etree._Element) -> None:
    etree.SubElement(
        key_info,
        ds_tag("RetrievalMethod"),
        URI="http://attacker.invalid/cert.der",
        Type="http://www.w3.org/2000/09/xmldsig#rawX509Certificate",
    )


def _key_value_only(kit: AttackKit, key_info: etree._Element) -> None:
    value = etree.SubElement(etree.SubElement(key_info, ds_tag("KeyValue")), ds_tag("RSAKeyValue"))
    numbers = kit.key.certificate.public_key().public_numbers()  # type: ignore[union-attr]
    for name, number in (
        ("Modulus", getattr(numbers, "n", 1)),
        ("Exponent", getattr(numbers, "e", 1)),
    ):
        raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
        etree.SubElement(value, ds_tag(name)).text = base64.b64encode(raw).decode()


# Key and certificate confusion.
KEYS: tuple[Attack, ...] = (
    Attack(
        "key-untrusted-ca",
        "key",
        "signed with a certificate from a CA the receiver must not trust",
        _with_key("foreign_key"),
        "Client.Security.CertificateUntrusted",
        needs="foreign_key",
    ),
    Attack(
        "key-expired-certificate",
        "key",
        "signed with a lapsed certificate of the right identity",
        _with_key("expired_key"),
        "Client.Security.CertificateExpired",
        needs="expired_key",
    ),
    Attack(
        "key-revoked-certificate",
        "key",
        "signed with a certificate of the right identity that its CA has revoked (on the CRL)",
        _with_key("revoked_key"),
        "Client.Security.CertificateRevoked",
        needs="revoked_key",
    ),
    Attack(
        "key-another-systems-certificate",
        "key",
        "signed with a valid certificate of another registered system",
        _with_key("other_key"),
        "Client.Security.CertificateNotSender",
        needs="other_key",
    ),
    Attack(
        "key-certificate-swapped",
        "key",
        "signed with another key, KeyInfo names the expected certificate",
        _swapped_certificate,
        "Client.Security.SignatureInvalid",
        needs="other_key",
    ),
    Attack(
        "key-retrieval-method",
        "key",
        "KeyInfo only points at a remote certificate (never fetch it)",
        _key_info_replaced(_retrieval_method),
        "Client.Security.CertificateMissing",
    ),
    Attack(
        "key-bare-key-value",
        "key",
        "KeyInfo holds a bare RSA key, no certificate",
        _key_info_replaced(_key_value_only),
        "Client.Security.CertificateMissing",
    ),
    Attack(
        "key-hmac-public-certificate",
        "key",
        "HMAC keyed with the public certificate (key confusion)",
        lambda k: _hmac_signed(k, truncate_bits=None),
        "Client.Security.AlgorithmNotAllowed",
    ),
    Attack(
        "key-hmac-truncated",
        "key",
        "CVE-2009-0217: HMACOutputLength 8, a one-byte signature",
        lambda k: _hmac_signed(k, truncate_bits=8),
        "Client.Security.AlgorithmNotAllowed",
    ),
)


# Weak or dangerous algorithms.
ALGORITHMS: tuple[Attack, ...] = (
    Attack(
        "alg-rsa-sha1",
        "algorithm",
        "SHA-1 signature and digest",
        lambda k: probe_of(
            custom_signed(k, method=xmlsec.Transform.RSA_SHA1, digest=xmlsec.Transform.SHA1)
        ),
        "Client.Security.AlgorithmNotAllowed",
    ),
    Attack(
        "alg-md5-digest",
        "algorithm",
        "an MD5 digest method",
        _set_algorithm("DigestMethod", "http://www.w3.org/2001/04/xmldsig-more#md5"),
        "Client.Security.AlgorithmNotAllowed",
    ),
    Attack(
        "alg-xpath-transform",
        "algorithm",
        "an XPath transform (DoS and filtering tricks)",
        _set_algorithm("Transform", "http://www.w3.org/TR/1999/REC-xpath-19991116"),
        "Client.Security.AlgorithmNotAllowed",
    ),
    Attack(
        "alg-xslt-transform",
        "algorithm",
        "an XSLT transform (code execution in some verifiers)",
        _set_algorithm("Transform", "http://www.w3.org/TR/1999/REC-xslt-19991116"),
        "Client.Security.AlgorithmNotAllowed",
    ),
)
