"""A zeep WS-Security plugin for SHEP: ``zeep.Client(wsdl, wsse=ShepSignature(key, trust))``.

zeep's own ``Signature`` signs in a layout of its own and verifies by ``wsu:Id`` lookup, which a
signature-wrapping attack defeats. This plugin signs every request in the SHEP layout with the
kit's signer, and checks every answer with the kit's verifier (targets found by position) and
that the gateway signed it, so a Python state system can call the gateway with plain zeep.
"""

from __future__ import annotations

from lxml import etree

from connectors.client import check_gateway_signature
from connectors.wsse.transport import TransportKey, sign_envelope
from connectors.wsse.trust import TrustStore


class ShepSignature:
    """zeep's ``wsse`` protocol: ``apply`` on the way out, ``verify`` on the way in.

    ``verify`` raises ``AnswerNotTrusted`` for an answer that is unsigned, tampered with, signed
    by an untrusted certificate or by anyone but the gateway.
    """

    def __init__(
        self, key: TransportKey, trust: TrustStore, *, with_timestamp: bool = False
    ) -> None:
        self.key = key
        self.trust = trust
        self.with_timestamp = with_timestamp

    def apply(
        self, envelope: etree._Element, headers: dict[str, str]
    ) -> tuple[etree._Element, dict[str, str]]:
        # zeep builds its envelope with etree.Element; signed as it is, each request's fresh
        # wsu:Id would stay in lxml's name dictionary of the calling thread for the thread's life
        # (see connectors.soap.fields.envelope_skeleton). A parsed copy keeps its ids to itself.
        envelope = etree.fromstring(etree.tostring(envelope))
        sign_envelope(envelope, self.key, with_timestamp=self.with_timestamp)
        return envelope, headers

    def verify(self, envelope: etree._Element) -> etree._Element:
        check_gateway_signature(envelope, self.trust)
        return envelope
