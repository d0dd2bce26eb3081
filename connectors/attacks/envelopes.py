"""The attacker's tools on a fresh envelope: find its parts, forge a Body, sign it with chosen
algorithms or re-sign an edited SignedInfo, and write it to the wire. Every attack family builds on
these; none of them judges anything."""

from __future__ import annotations

import copy
import uuid

import xmlsec
from lxml import etree

from connectors import SOAP_ENV as SOAP
from connectors import WSSE, WSU, TransportKey
from connectors.attacks.model import WSU_ID, AttackKit, Probe
from connectors.wsse.dsig import DS
from connectors.wsse.tokens import BASE64_BINARY, X509V3

__all__ = [
    "body_of",
    "child_tagged",
    "custom_signed",
    "descendants_tagged",
    "ds_tag",
    "edit_body_text",
    "forge",
    "header_of",
    "in_data",
    "probe_of",
    "raw_with_request",
    "resign_signed_info",
    "security_of",
    "sender_of",
    "signature_of",
    "soap_tag",
    "wire",
]


def wire(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def probe_of(envelope: etree._Element, **kwargs: object) -> Probe:
    return Probe(wire(envelope), **kwargs)  # type: ignore[arg-type]


def soap_tag(local: str) -> str:
    return f"{{{SOAP}}}{local}"


def ds_tag(local: str) -> str:
    return f"{{{DS}}}{local}"


def body_of(envelope: etree._Element) -> etree._Element:
    return next(c for c in envelope if c.tag == soap_tag("Body"))


def header_of(envelope: etree._Element) -> etree._Element:
    for child in envelope:
        if child.tag == soap_tag("Header"):
            return child
    header = etree.Element(soap_tag("Header"))
    envelope.insert(0, header)
    return header


def security_of(envelope: etree._Element) -> etree._Element:
    return next(c for c in header_of(envelope) if c.tag == f"{{{WSSE}}}Security")


def signature_of(envelope: etree._Element) -> etree._Element:
    return next(c for c in security_of(envelope) if c.tag == ds_tag("Signature"))


def child_tagged(parent: etree._Element, tag: str) -> etree._Element:
    # Tag comparison, not find(): lxml's matcher misses nodes xmlsec's templates created.
    return next(c for c in parent if c.tag == tag)


def descendants_tagged(parent: etree._Element, tag: str) -> list[etree._Element]:
    return [e for e in parent.iter() if e.tag == tag]


def forge(body: etree._Element) -> etree._Element:
    """A copy of the Body with its content changed: what the attacker wants acted upon."""
    forged = copy.deepcopy(body)
    for element in forged.iter(etree.Element):
        if etree.QName(element).localname in ("messageId", "serviceId") and element.text:
            element.text = element.text + "-forged"
            break
    return forged


def custom_signed(
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
    body = body_of(envelope)
    body_id = body.get(WSU_ID) or f"id-{uuid.uuid4()}"
    body.set(WSU_ID, body_id)
    security = etree.SubElement(
        header_of(envelope), f"{{{WSSE}}}Security", nsmap={"wsse": WSSE, "wsu": WSU}
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


def resign_signed_info(kit: AttackKit, envelope: etree._Element) -> etree._Element:
    signature = signature_of(envelope)
    ctx = xmlsec.SignatureContext()
    for element in envelope.iter(etree.Element):
        if element.get(WSU_ID):
            ctx.register_id(element, "Id", WSU)
    ctx.key = kit.key.xmlsec_key
    child_tagged(signature, ds_tag("SignatureValue")).text = ""
    for ref in descendants_tagged(signature, ds_tag("Reference")):
        child_tagged(ref, ds_tag("DigestValue")).text = ""
    ctx.sign(signature)
    return envelope


def edit_body_text(envelope: etree._Element) -> None:
    for element in body_of(envelope).iter(etree.Element):
        if element.text and element.text.strip() and len(element) == 0:
            element.text = element.text.strip() + "0"
            return


def in_data(kit: AttackKit, node: etree._Element) -> Probe:
    """``node`` appended inside the Body's deepest first element, then signed (sign last)."""
    envelope = kit.fresh()
    target = body_of(envelope)[0]
    for element in target.iter(etree.Element):
        if etree.QName(element).localname == "data":
            target = element
            break
    target.append(node)
    return probe_of(kit.signed(envelope))


def raw_with_request(kit: AttackKit, attributes: str) -> Probe:
    """The unsigned operation element carrying ``attributes`` in its start tag, written as text
    (lxml would take minutes to set 100,000 attributes): no key is needed for a parser bomb."""
    envelope = kit.fresh()
    operation = body_of(envelope)[0]
    tag = etree.QName(operation)
    body = wire(envelope)
    marker = f":{tag.localname}" if b":" + tag.localname.encode() in body else tag.localname
    head, sep, tail = body.partition(f"{marker}".encode())
    close = tail.index(b">")
    return Probe(head + sep + tail[:close] + b" " + attributes.encode() + tail[close:])


def sender_of(kit: AttackKit) -> str:
    for element in kit.fresh().iter(etree.Element):
        if etree.QName(element).localname == "senderId" and element.text:
            return element.text
    return ""
