"""Attacks on the message rather than its signature (families ``bomb``, ``soap`` and ``auth``):
parser bombs (entity expansion, XXE, attribute and namespace floods, nesting, element floods,
size), SOAP structure (several operations, extra Body content, unknown mustUnderstand headers,
SOAP 1.2, unknown operations, a non-SOAP Content-Type), and who may send what (passwords,
senderIds, services: the gateway's admission only)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta

from lxml import etree

from connectors import SOAP_ENV as SOAP
from connectors.attacks.envelopes import (
    body_of,
    header_of,
    in_data,
    probe_of,
    raw_with_request,
    security_of,
    sender_of,
    soap_tag,
    wire,
)
from connectors.attacks.model import SENDERS, SOAP12, WSU_ID, Attack, AttackKit, Probe

__all__ = ["ADMISSION", "BOMBS", "SOAP_STRUCTURE"]


def _second_timestamp(kit: AttackKit) -> Probe:
    envelope = kit.signed(with_timestamp=True)
    stamp = next(c for c in security_of(envelope) if etree.QName(c).localname == "Timestamp")
    stale = copy.deepcopy(stamp)
    del stale.attrib[WSU_ID]
    stamp.addnext(stale)
    return probe_of(envelope)


def _two_operations(kit: AttackKit) -> Probe:
    envelope = kit.fresh()
    second = kit.fresh(service_id=kit.forbidden_service_id) if kit.forbidden_service_id else None
    body_of(envelope).append(
        copy.deepcopy(body_of(second if second is not None else kit.fresh())[0])
    )
    return probe_of(kit.signed(envelope))


def _extra_element(kit: AttackKit) -> Probe:
    envelope = kit.fresh()
    etree.SubElement(body_of(envelope), "{urn:attacker}extra").text = "ignored?"
    return probe_of(kit.signed(envelope))


def _must_understand(kit: AttackKit) -> Probe:
    envelope = kit.fresh()
    entry = etree.SubElement(header_of(envelope), "{urn:attacker}Routing")
    entry.set(soap_tag("mustUnderstand"), "1")
    return probe_of(kit.signed(envelope))


def _soap12(kit: AttackKit) -> Probe:
    body = wire(kit.signed())
    return Probe(body.replace(SOAP.encode(), SOAP12.encode()))


def _unknown_operation(kit: AttackKit) -> Probe:
    envelope = kit.fresh()
    operation = body_of(envelope)[0]
    operation.tag = f"{{{etree.QName(operation).namespace}}}{etree.QName(operation).localname}X"
    return probe_of(kit.signed(envelope))


def _content_type(kit: AttackKit) -> Probe:
    return Probe(wire(kit.signed()), content_type="application/json")


def _changed(**changes: object) -> Callable[[AttackKit], Probe]:
    def build(kit: AttackKit) -> Probe:
        return probe_of(kit.signed(kit.fresh(**changes)))

    return build


def _other_sender(kit: AttackKit) -> Probe | None:
    if kit.other_sender_id is None:
        return None
    return probe_of(kit.signed(kit.fresh(sender_id=kit.other_sender_id, password="guess")))


def _forbidden_service(kit: AttackKit) -> Probe | None:
    if kit.forbidden_service_id is None:
        return None
    return probe_of(kit.signed(kit.fresh(service_id=kit.forbidden_service_id)))


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
    return in_data(kit, top)


def _element_flood(kit: AttackKit) -> Probe:
    return Probe(wire(kit.signed()).replace(b"</soap:Body>", b"<x/>" * 300_000 + b"</soap:Body>"))


def _oversized(kit: AttackKit) -> Probe:
    body = wire(kit.signed())
    return Probe(body + b"<!--" + b"x" * (11 * 1024 * 1024) + b"-->")


# Parser bombs.
BOMBS: tuple[Attack, ...] = (
    Attack(
        "bomb-billion-laughs",
        "bomb",
        "nested entity expansion",
        _billion_laughs,
        "Client.Xml.EntityDeclaration",
    ),
    Attack(
        "bomb-xxe",
        "bomb",
        "an external entity (file read / SSRF)",
        _xxe,
        "Client.Xml.ExternalEntity",
    ),
    Attack(
        "bomb-100k-attributes",
        "bomb",
        "100,000 attributes on one element (quadratic processing)",
        lambda k: raw_with_request(k, " ".join(f'a{i}="x"' for i in range(100_000))),
        "Client.Xml.TooManyAttributes",
    ),
    Attack(
        "bomb-100k-namespaces",
        "bomb",
        "100,000 namespace declarations on one element",
        lambda k: raw_with_request(k, " ".join(f'xmlns:p{i}="urn:x:{i}"' for i in range(100_000))),
        "Client.Xml.TooManyNamespaces",
    ),
    Attack(
        "bomb-deep-nesting",
        "bomb",
        "10,000 nested elements in the payload",
        _deep,
        "Client.Xml.TooDeep",
    ),
    Attack(
        "bomb-element-flood",
        "bomb",
        "300,000 empty elements",
        _element_flood,
        "Client.Xml.TooManyElements",
    ),
    Attack("bomb-oversized", "bomb", "11 MiB", _oversized, "Client.Xml.TooLarge"),
)


# SOAP structure.
SOAP_STRUCTURE: tuple[Attack, ...] = (
    Attack(
        "soap-two-operations",
        "soap",
        "a second operation in the Body (silently dropped by lenient readers)",
        _two_operations,
        "Client.Soap.MoreThanOneOperation",
    ),
    Attack(
        "soap-extra-body-element",
        "soap",
        "an element after the operation",
        _extra_element,
        "Client.Soap.MoreThanOneOperation",
    ),
    Attack(
        "soap-two-timestamps",
        "soap",
        "two wsu:Timestamp, one signed, one not",
        _second_timestamp,
        "Client.Security.TimestampDuplicated",
    ),
    Attack(
        "soap-must-understand",
        "soap",
        "an unknown header marked mustUnderstand",
        _must_understand,
        "Client.Soap.MustUnderstand",
    ),
    Attack(
        "soap-1.2-envelope",
        "soap",
        "the SOAP 1.2 namespace",
        _soap12,
        "Client.Soap.NotEnvelope",
    ),
    Attack(
        "soap-unknown-operation",
        "soap",
        "a Body element that is no operation of the channel",
        _unknown_operation,
        "Client.Soap.UnknownOperation",
    ),
    Attack(
        "soap-content-type",
        "soap",
        "a signed envelope posted as application/json",
        _content_type,
        "Client.Http.BadRequest",
        SENDERS,
    ),
)


# Authorisation (the gateway's admission).
ADMISSION: tuple[Attack, ...] = (
    Attack(
        "auth-wrong-password",
        "auth",
        "the right key, a wrong password",
        _changed(password="guess"),
        "Client.Auth.WrongPassword",
        frozenset({"gateway"}),
    ),
    Attack(
        "auth-another-senders-id",
        "auth",
        "own key, another system's senderId (password oracle)",
        _other_sender,
        "Client.Security.CertificateNotSender",
        frozenset({"gateway"}),
    ),
    Attack(
        "auth-nbsp-sender-id",
        "auth",
        "senderId with a trailing no-break space",
        lambda k: probe_of(k.signed(k.fresh(sender_id=sender_of(k) + "\u00a0"))),
        "Client.Security.CertificateNotSender",
        frozenset({"gateway"}),
    ),
    Attack(
        "auth-service-not-allowed",
        "auth",
        "a service this sender may not call",
        _forbidden_service,
        "Client.Auth.ServiceNotAllowed",
        frozenset({"gateway"}),
    ),
    Attack(
        "auth-unknown-service",
        "auth",
        "a serviceId nobody provides",
        _changed(service_id="NoSuchService_v1"),
        "Client.Routing.UnknownService",
        frozenset({"gateway"}),
    ),
    Attack(
        "auth-stale-message-date",
        "auth",
        "messageDate an hour old, no Timestamp",
        lambda k: probe_of(k.signed(k.fresh(message_date=k.now() - timedelta(hours=1)))),
        "Client.Security.MessageStale",
        frozenset({"gateway"}),
    ),
)
