"""Hand-made signatures for tests: every layout SHEP participants send, built with xmlsec templates
independently of ``connectors.wsse.transport.sign_envelope``."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from typing import Literal

import lxml.etree as etree
import xmlsec
from cryptography.hazmat.primitives import serialization

from connectors import SOAP_ENV as SOAP
from connectors import WSSE, WSU, TransportKey
from connectors.wsse.dsig import DS
from connectors.wsse.tokens import BASE64_BINARY, X509V3

ENVELOPE = b"""<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <t:SendMessage xmlns:t="http://bip.bee.kz/SyncChannel/v10/Types">
   <request>
    <requestInfo>
     <messageId>0f8fad5b-d9cb-469f-a165-70867728950e</messageId>
     <serviceId>GbdulInfoByBin_v2</serviceId>
     <messageDate>2025-01-01T12:00:00.000+05:00</messageDate>
     <sender><senderId>egov</senderId><password>secret</password></sender>
    </requestInfo>
    <requestData><data>BIN 123456789012</data></requestData>
   </request>
  </t:SendMessage>
 </soapenv:Body>
</soapenv:Envelope>"""

WSU_ID = f"{{{WSU}}}Id"
Layout = Literal["keyidentifier", "bst", "issuerserial", "issuerserial-str", "x509data"]


def new_envelope() -> etree._Element:
    return etree.fromstring(ENVELOPE)


def soap(local: str) -> str:
    return f"{{{SOAP}}}{local}"


def wsse(local: str) -> str:
    return f"{{{WSSE}}}{local}"


def ds(local: str) -> str:
    return f"{{{DS}}}{local}"


def header_of(envelope: etree._Element) -> etree._Element:
    header = envelope.find(soap("Header"))
    if header is None:
        header = etree.SubElement(envelope, soap("Header"))
        envelope.insert(0, header)
    return header


def body_of(envelope: etree._Element) -> etree._Element:
    return envelope.find(soap("Body"))


def add_timestamp(security: etree._Element, created: str, expires: str) -> etree._Element:
    stamp = etree.SubElement(security, f"{{{WSU}}}Timestamp", {WSU_ID: "TS-1"})
    etree.SubElement(stamp, f"{{{WSU}}}Created").text = created
    etree.SubElement(stamp, f"{{{WSU}}}Expires").text = expires
    return stamp


@dataclass
class Variant:
    """How to sign: algorithms, which elements, where the signature goes, KeyInfo form."""

    layout: Layout = "keyidentifier"
    legacy: bool = False  # bare ds:Signature in the Header, plain Id on the Body
    c14n: xmlsec.Transform = xmlsec.Transform.EXCL_C14N
    method: xmlsec.Transform | None = None  # None: RSA- or ECDSA-SHA256 from the key
    digest: xmlsec.Transform = xmlsec.Transform.SHA256
    transforms: tuple[xmlsec.Transform, ...] = (xmlsec.Transform.EXCL_C14N,)
    sign_body: bool = True
    extra_targets: list[etree._Element] = field(default_factory=list)


def _id_of(element: etree._Element, legacy: bool) -> str:
    attribute = "Id" if legacy else WSU_ID
    if not element.get(attribute):
        element.set(attribute, f"id-{uuid.uuid4()}")
    return element.get(attribute)


def _key_info(
    signature: etree._Element, key: TransportKey, layout: Layout, container: etree._Element
) -> None:
    key_info = xmlsec.template.ensure_key_info(signature)
    cert = key.certificate
    if layout == "keyidentifier":
        token = etree.SubElement(key_info, wsse("SecurityTokenReference"))
        ident = etree.SubElement(token, wsse("KeyIdentifier"))
        ident.set("ValueType", X509V3)
        ident.set("EncodingType", BASE64_BINARY)
        ident.text = key.certificate_base64
    elif layout == "bst":
        bst = etree.Element(wsse("BinarySecurityToken"), {WSU_ID: "X509-1"})
        bst.set("ValueType", X509V3)
        bst.set("EncodingType", BASE64_BINARY)
        bst.text = key.certificate_base64
        container.insert(0, bst)
        token = etree.SubElement(key_info, wsse("SecurityTokenReference"))
        etree.SubElement(token, wsse("Reference"), URI="#X509-1", ValueType=X509V3)
    elif layout in ("issuerserial", "issuerserial-str"):
        parent = key_info
        if layout == "issuerserial-str":
            parent = etree.SubElement(key_info, wsse("SecurityTokenReference"))
        data = etree.SubElement(parent, ds("X509Data"))
        serial = etree.SubElement(data, ds("X509IssuerSerial"))
        # Java style: RFC 2253 order with spaces — the verifier must normalise it.
        etree.SubElement(serial, ds("X509IssuerName")).text = ", ".join(
            cert.issuer.rfc4514_string().split(",")
        )
        etree.SubElement(serial, ds("X509SerialNumber")).text = str(cert.serial_number)
    else:
        data = etree.SubElement(key_info, ds("X509Data"))
        der = cert.public_bytes(serialization.Encoding.DER)
        etree.SubElement(data, ds("X509Certificate")).text = base64.b64encode(der).decode()


def sign_variant(envelope: etree._Element, key: TransportKey, variant: Variant) -> etree._Element:
    """Sign ``envelope`` as described by ``variant``; returns the ds:Signature."""
    header = header_of(envelope)
    if variant.legacy:
        container = header
    else:
        container = header.find(wsse("Security"))
        if container is None:
            container = etree.SubElement(header, wsse("Security"), nsmap={"wsse": WSSE})
            container.set(soap("mustUnderstand"), "1")
    method = variant.method or key.signature_transform
    signature = xmlsec.template.create(envelope, variant.c14n, method, ns="ds")
    container.append(signature)
    targets = ([body_of(envelope)] if variant.sign_body else []) + variant.extra_targets
    ctx = xmlsec.SignatureContext()
    for target in targets:
        ref = xmlsec.template.add_reference(
            signature, variant.digest, uri="#" + _id_of(target, variant.legacy)
        )
        for transform in variant.transforms:
            xmlsec.template.add_transform(ref, transform)
        if variant.legacy:
            ctx.register_id(target, "Id")
        else:
            ctx.register_id(target, "Id", WSU)
    _key_info(signature, key, variant.layout, container)
    ctx.key = key.xmlsec_key
    ctx.sign(signature)
    return signature


def legacy_variant() -> Variant:
    """The legacy layout: bare ds:Signature in the Header, plain Id, enveloped + exclusive C14N
    transforms, KeyInfo X509Data/X509Certificate."""
    return Variant(
        layout="x509data",
        legacy=True,
        transforms=(xmlsec.Transform.ENVELOPED, xmlsec.Transform.EXCL_C14N),
    )


def flip_signature_value(signature: etree._Element) -> None:
    value = signature.find(ds("SignatureValue"))
    raw = bytearray(base64.b64decode("".join(value.text.split())))
    raw[len(raw) // 2] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode()
