"""XML Signature Wrapping (family ``xsw``): the signed Body moved where a naive verifier still finds
it by id, a forged Body put where the receiver reads — McIntosh & Austel, "XML signature element
wrapping attacks and countermeasures" (SWS 2005), and the XSW1–8 shapes of Somorovsky et al.,
"On Breaking SAML: Be Whoever You Want to Be" (USENIX Security 2012), aimed at the SOAP Body."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from lxml import etree

from connectors.attacks.envelopes import (
    body_of,
    ds_tag,
    forge,
    header_of,
    probe_of,
    signature_of,
    soap_tag,
)
from connectors.attacks.model import WSU_ID, XML_ID, Attack, AttackKit, Probe

__all__ = ["WRAPPING"]

_P = "McIntosh & Austel 2005"
_S = "Somorovsky et al. 2012"


def _wrapped(kit: AttackKit, place: Callable[[etree._Element, etree._Element], None]) -> Probe:
    """Sign, then let ``place`` put the signed Body (arg 1) somewhere and a forged one (arg 2)
    where the receiver reads it."""
    envelope = kit.signed()
    signed_body = body_of(envelope)
    forged = forge(signed_body)
    envelope.replace(signed_body, forged)
    place(envelope, signed_body)
    return probe_of(envelope)


def _into_header_wrapper(envelope: etree._Element, signed_body: etree._Element) -> None:
    etree.SubElement(header_of(envelope), "{urn:attacker}Wrapper").append(signed_body)


def _into_ignored_header(envelope: etree._Element, signed_body: etree._Element) -> None:
    wrapper = etree.SubElement(header_of(envelope), "{urn:attacker}Ignored")
    wrapper.set(soap_tag("mustUnderstand"), "0")
    wrapper.set(soap_tag("actor"), "urn:attacker:nobody")
    wrapper.append(signed_body)


def _into_signature_object(envelope: etree._Element, signed_body: etree._Element) -> None:
    etree.SubElement(signature_of(envelope), ds_tag("Object")).append(signed_body)


def _renamed_in_header(envelope: etree._Element, signed_body: etree._Element) -> None:
    signed_body.tag = "{urn:attacker}Body"
    _forged_gets_new_id(envelope)
    header_of(envelope).append(signed_body)


def _forged_gets_new_id(envelope: etree._Element) -> None:
    body_of(envelope).set(WSU_ID, f"id-{uuid.uuid4()}")


def _new_id_in_header(envelope: etree._Element, signed_body: etree._Element) -> None:
    _forged_gets_new_id(envelope)
    _into_header_wrapper(envelope, signed_body)


def _plain_id_on_forged(envelope: etree._Element, signed_body: etree._Element) -> None:
    forged = body_of(envelope)
    forged.set("Id", forged.attrib.pop(WSU_ID))
    _into_header_wrapper(envelope, signed_body)


def _xml_id_decoy(envelope: etree._Element, signed_body: etree._Element) -> None:
    decoy = etree.SubElement(header_of(envelope), "{urn:attacker}Decoy")
    decoy.set(XML_ID, signed_body.get(WSU_ID))
    decoy.append(signed_body)
    del signed_body.attrib[WSU_ID]
    signed_body.set(WSU_ID, decoy.get(XML_ID))


def _second_body_after(envelope: etree._Element, signed_body: etree._Element) -> None:
    forged = body_of(envelope)
    envelope.replace(forged, signed_body)
    envelope.append(forged)


def _deep_in_payload(envelope: etree._Element, signed_body: etree._Element) -> None:
    forged = body_of(envelope)
    deepest = forged
    while len(deepest) and isinstance(deepest[-1].tag, str):
        deepest = deepest[-1]
    deepest.append(signed_body)


# The catalogue entries of the family.
WRAPPING: tuple[Attack, ...] = (
    Attack(
        "xsw-body-in-header-same-id",
        "xsw",
        f"{_P}: signed Body in a header wrapper, forged Body keeps its id",
        lambda k: _wrapped(k, _into_header_wrapper),
        "Client.Security.SignatureWrapping",
    ),
    Attack(
        "xsw-body-in-header-new-id",
        "xsw",
        f"{_S} XSW2: signed Body in a header wrapper, forged Body with a new id",
        lambda k: _wrapped(k, _new_id_in_header),
        "Client.Security.SignatureWrapping",
    ),
    Attack(
        "xsw-body-in-ignored-header",
        "xsw",
        f"{_P}: signed Body in a mustUnderstand=0 header for another actor",
        lambda k: _wrapped(k, _into_ignored_header),
        "Client.Security.SignatureWrapping",
    ),
    Attack(
        "xsw-body-in-signature-object",
        "xsw",
        f"{_S} XSW5/6: signed Body inside ds:Object of the signature",
        lambda k: _wrapped(k, _into_signature_object),
        "Client.Security.SignatureWrapping",
    ),
    Attack(
        "xsw-body-renamed-in-header",
        "xsw",
        f"{_S} XSW7: signed Body renamed and moved to the Header",
        lambda k: _wrapped(k, _renamed_in_header),
        "Client.Security.BodyNotSigned",
    ),
    Attack(
        "xsw-plain-id-on-forged-body",
        "xsw",
        "id carried by wsu:Id on the signed Body and Id on the forged one",
        lambda k: _wrapped(k, _plain_id_on_forged),
        "Client.Security.SignatureWrapping",
    ),
    Attack(
        "xsw-xml-id-decoy",
        "xsw",
        "the signed id also carried as xml:id by a decoy",
        lambda k: _wrapped(k, _xml_id_decoy),
        "Client.Security.SignatureWrapping",
    ),
    Attack(
        "xsw-second-body-after",
        "xsw",
        f"{_S} XSW1: forged Body after the signed one",
        lambda k: _wrapped(k, _second_body_after),
        "Client.Soap.NotEnvelope",
    ),
    Attack(
        "xsw-body-deep-in-payload",
        "xsw",
        f"{_S} XSW3/4: signed Body hidden inside the forged Body's payload",
        lambda k: _wrapped(k, _deep_in_payload),
        "Client.Security.SignatureWrapping",
    ),
)
