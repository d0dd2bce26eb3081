"""The catalogue of attacks: each turns a legitimate signer's fresh envelope into one hostile
message.

Families and where they come from:

- ``xsw`` — XML Signature Wrapping: McIntosh & Austel, "XML signature element wrapping attacks
  and countermeasures" (SWS 2005), and the XSW1–8 shapes of Somorovsky et al., "On Breaking SAML:
  Be Whoever You Want to Be" (USENIX Security 2012), here aimed at the signed SOAP Body.
- ``key`` — key and certificate confusion: untrusted, expired, revoked or another system's
  certificate, a certificate swapped after signing, keys named by reference only, HMAC keyed with
  the public certificate, and HMAC truncation (CVE-2009-0217).
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

The families live in their own modules (``wrapping``, ``keys``, ``signatures``, ``structure``) on
the attacker's tools of ``envelopes``; this module puts them in one order and answers look-ups.
"""

from __future__ import annotations

from connectors.attacks.keys import ALGORITHMS, KEYS
from connectors.attacks.model import Attack, AttackKit, Probe
from connectors.attacks.signatures import C14N, SIGNATURE
from connectors.attacks.structure import ADMISSION, BOMBS, SOAP_STRUCTURE
from connectors.attacks.wrapping import WRAPPING

__all__ = ["ATTACKS", "BY_NAME", "Attack", "AttackKit", "Probe", "attacks_for"]

ATTACKS: tuple[Attack, ...] = (
    *WRAPPING,
    *KEYS,
    *ALGORITHMS,
    *C14N,
    *BOMBS,
    *SOAP_STRUCTURE,
    *SIGNATURE,
    *ADMISSION,
)
BY_NAME = {attack.name: attack for attack in ATTACKS}


def attacks_for(target: str, channel: str = "sync") -> list[Attack]:
    """The attacks that apply to ``target`` ("gateway", "provider" or "answer") on ``channel``."""
    return [a for a in ATTACKS if target in a.targets and channel in a.channels]
