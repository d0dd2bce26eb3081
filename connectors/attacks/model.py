"""What an attack is: the legitimate signer's kit it is built from (``AttackKit``), the hostile
message it yields (``Probe``) and its catalogue entry (``Attack``: family, expected gateway fault,
targets and channels)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from connectors import SOAP_CONTENT_TYPE as XML_CONTENT
from connectors import WSU, TransportKey, sign_envelope

__all__ = ["ALL_TARGETS", "SENDERS", "SOAP12", "WSU_ID", "XML_ID", "Attack", "AttackKit", "Probe"]

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
    certificate from the trusted CA, ``revoked_key`` the same identity on a certificate that CA
    has revoked.
    """

    fresh: Callable[..., etree._Element]
    key: TransportKey
    other_key: TransportKey | None = None
    foreign_key: TransportKey | None = None
    expired_key: TransportKey | None = None
    revoked_key: TransportKey | None = None
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
