"""Canonicalisation tricks and the signature basics (families ``c14n`` and ``signature``):
inclusive and with-comments C14N, a comment splitting a signed value (Duo 2018, CVE-2017-11427),
processing instructions; unsigned, edited, bad value, two signatures, a signature that does not
cover the Body, an expired signed Timestamp, a replay — what every verifier must hold."""

from __future__ import annotations

import base64
import copy
import uuid
from datetime import timedelta

import xmlsec
from lxml import etree

from connectors.attacks.envelopes import (
    body_of,
    child_tagged,
    custom_signed,
    descendants_tagged,
    ds_tag,
    edit_body_text,
    in_data,
    probe_of,
    resign_signed_info,
    security_of,
    signature_of,
    wire,
)
from connectors.attacks.model import SENDERS, WSU_ID, Attack, AttackKit, Probe

__all__ = ["C14N", "SIGNATURE"]


def _comment_split(kit: AttackKit) -> Probe:
    """A comment splits the signed messageId: its signature stays valid (comments are not
    signed); a receiver that reads the first text node acts on a truncated id."""
    message_id = f"{uuid.uuid4()}"
    envelope = kit.fresh()
    for element in envelope.iter(etree.Element):
        if etree.QName(element).localname == "messageId":
            element.text = message_id
            break
    body = wire(kit.signed(envelope))
    half = len(message_id) // 2
    split = f"{message_id[:half]}<!---->{message_id[half:]}".encode()
    return Probe(body.replace(message_id.encode(), split, 1), must_echo=message_id.encode())


def _expired_timestamp(kit: AttackKit) -> Probe:
    past = kit.now() - timedelta(hours=2)
    return probe_of(kit.signed(with_timestamp=True, ttl_seconds=300, now=past))


def _second_signature(kit: AttackKit) -> Probe:
    envelope = kit.signed()
    security_of(envelope).append(copy.deepcopy(signature_of(envelope)))
    return probe_of(envelope)


def _timestamp_only_signed(kit: AttackKit) -> Probe:
    envelope = kit.signed(with_timestamp=True)
    signed_info = child_tagged(signature_of(envelope), ds_tag("SignedInfo"))
    body_id = body_of(envelope).get(WSU_ID)
    for ref in descendants_tagged(signed_info, ds_tag("Reference")):
        if ref.get("URI") == f"#{body_id}":
            signed_info.remove(ref)
    # Re-sign: SignedInfo changed, and the attack is the reference set, not a bad value.
    return probe_of(resign_signed_info(kit, envelope))


def _flip_value(kit: AttackKit) -> Probe:
    envelope = kit.signed()
    value = child_tagged(signature_of(envelope), ds_tag("SignatureValue"))
    raw = bytearray(base64.b64decode("".join((value.text or "").split())))
    raw[len(raw) // 2] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode()
    return probe_of(envelope)


def _edited(kit: AttackKit) -> Probe:
    envelope = kit.signed()
    edit_body_text(envelope)
    return probe_of(envelope)


def _replay(kit: AttackKit) -> Probe:
    return Probe(wire(kit.signed()), send_twice=True)


# Canonicalisation and comments.
C14N: tuple[Attack, ...] = (
    Attack(
        "c14n-inclusive",
        "c14n",
        "inclusive C14N for SignedInfo",
        lambda k: probe_of(custom_signed(k, c14n=xmlsec.Transform.C14N)),
        "Client.Security.AlgorithmNotAllowed",
    ),
    Attack(
        "c14n-with-comments",
        "c14n",
        "exclusive C14N with comments as the reference transform",
        lambda k: probe_of(custom_signed(k, transforms=(xmlsec.Transform.EXCL_C14N_COMMENTS,))),
        "Client.Security.AlgorithmNotAllowed",
    ),
    Attack(
        "c14n-comment-splits-signed-value",
        "c14n",
        "CVE-2017-11427 class: a comment inside the signed messageId",
        _comment_split,
        None,
    ),
    Attack(
        "c14n-processing-instruction",
        "c14n",
        "a processing instruction inside the signed data",
        lambda k: in_data(k, etree.ProcessingInstruction("evil", "run()")),
        "Client.Soap.ProcessingInstruction",
    ),
)


# The signature basics.
SIGNATURE: tuple[Attack, ...] = (
    Attack(
        "sig-unsigned",
        "signature",
        "no signature at all",
        lambda k: probe_of(k.fresh()),
        "Client.Security.Unsigned",
    ),
    Attack(
        "sig-body-edited",
        "signature",
        "the Body changed after signing",
        _edited,
        "Client.Security.DigestMismatch",
    ),
    Attack(
        "sig-value-flipped",
        "signature",
        "one bit of the signature value flipped",
        _flip_value,
        "Client.Security.SignatureInvalid",
    ),
    Attack(
        "sig-two-signatures",
        "signature",
        "a second signature in the security header",
        _second_signature,
        "Client.Security.SignatureAmbiguous",
    ),
    Attack(
        "sig-timestamp-only",
        "signature",
        "a signature that covers the Timestamp but not the Body",
        _timestamp_only_signed,
        "Client.Security.BodyNotSigned",
    ),
    Attack(
        "sig-expired-timestamp",
        "signature",
        "a signed wsu:Timestamp that expired",
        _expired_timestamp,
        "Client.Security.TimestampExpired",
    ),
    Attack(
        "sig-replay",
        "signature",
        "the same signed message sent twice",
        _replay,
        "Client.Security.Replay",
        SENDERS,
        frozenset({"sync"}),
    ),
)
