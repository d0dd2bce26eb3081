"""Admission of an inbound envelope: every check before the gateway accepts a message.

The order is deliberate. Signature and freshness come first because nothing in an unproven
envelope can be trusted. Then the certificate must be the one registered for the senderId, before
any password is looked at: a caller holding system A's key who names system B learns nothing about
B's password (``CertificateNotSender`` whatever the password), and only B's own key holder can make
the gateway spend a scrypt on B's password.

The claim on the messageId (the replay guard) is not taken here: it is committed with the
message's first log records (``message_claim``), so a message is accepted exactly when its record
is durable, and one refused for another reason can be corrected and sent again under the same
messageId.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from lxml import etree

from connectors import (
    GatewayError,
    PayloadSchemas,
    TrustStore,
    VerifiedSignature,
    errors,
    find_transport_signature,
    verify_envelope,
)
from connectors.wsse.freshness import check_freshness
from gateway.channels.policy import SecurityPolicy
from gateway.messagelog import MessageClaim
from gateway.registry import Registry, Sender, Service


class ServiceRequest(Protocol):
    """What admission reads from a request for a service (a SyncRequest, an async sendMessage)."""

    @property
    def message_id(self) -> str: ...

    @property
    def sender_id(self) -> str: ...

    @property
    def password(self) -> str | None: ...

    @property
    def service_id(self) -> str: ...

    @property
    def message_date(self) -> datetime | None: ...

    @property
    def data(self) -> etree._Element | None: ...


@dataclass(frozen=True)
class AdmissionRules:
    """What admission needs to know besides the message itself."""

    registry: Registry
    trust: TrustStore
    payload_schemas: PayloadSchemas
    policy: SecurityPolicy
    window_seconds: int
    skew_seconds: int


@dataclass(frozen=True)
class Admitted:
    """A message that passed every check: who sent it, for which service, and how it was signed."""

    sender: Sender
    signature: VerifiedSignature | None
    service: Service | None = None  # None for operations that name no service (status queries)

    @property
    def signature_status(self) -> str:
        return "verified" if self.signature else "absent"


def admit(
    envelope: etree._Element,
    request: ServiceRequest,
    rules: AdmissionRules,
    *,
    channel: str,
    now: datetime,
) -> Admitted:
    """Every check for a request to a service, short of the claim on its messageId.

    CPU-bound (signature, scrypt, schemas): channels run it off the event loop.
    """
    caller = admit_caller(
        envelope, request.sender_id, request.password, request.message_date, rules, now=now
    )
    service = rules.registry.service(request.service_id)
    if service.mode != channel:
        raise GatewayError(
            errors.WRONG_CHANNEL, f"{service.service_id} is a {service.mode} service"
        )
    rules.registry.authorise(caller.sender, service)
    if service.payload_schema and request.data is not None:
        rules.payload_schemas.validate(request.data, service.payload_schema)
    return Admitted(sender=caller.sender, signature=caller.signature, service=service)


def service_of(admitted: Admitted | None) -> Service:
    """The service of a request admitted by ``admit`` (which always sets one)."""
    if admitted is None or admitted.service is None:
        raise AssertionError("the request was not admitted for a service")
    return admitted.service


def admit_caller(
    envelope: etree._Element,
    sender_id: str | None,
    password: str | None,
    message_date: datetime | None,
    rules: AdmissionRules,
    *,
    now: datetime,
) -> Admitted:
    """Who is calling, proven: signature per policy, freshness, password, certificate ownership."""
    signature = check_transport_signature(envelope, rules, now)
    check_freshness(
        signature.timestamp if signature else None,
        message_date,
        now,
        rules.window_seconds,
        rules.skew_seconds,
    )
    if signature is not None:
        rules.registry.check_certificate_of(sender_id or "", signature.certificate)
    sender = rules.registry.authenticate(sender_id or "", password)
    return Admitted(sender=sender, signature=signature)


def check_transport_signature(
    envelope: etree._Element, rules: AdmissionRules, now: datetime
) -> VerifiedSignature | None:
    """Verify the signature the policy demands; ``None`` only for unsigned mail in emulator mode."""
    if find_transport_signature(envelope) is None:
        if rules.policy is SecurityPolicy.EMULATOR:
            return None
        raise GatewayError(errors.SIG_MISSING, f"security policy {rules.policy.value}")
    signature = verify_envelope(envelope, rules.trust, now=now)
    if rules.policy is SecurityPolicy.STRICT and signature.timestamp is None:
        raise GatewayError(errors.TIMESTAMP_MISSING, "security policy strict")
    return signature


def message_claim(request: ServiceRequest, rules: AdmissionRules, now: datetime) -> MessageClaim:
    # A messageId is held for as long as a copy of the message could still pass freshness.
    expires_at = now + timedelta(seconds=rules.window_seconds + 2 * rules.skew_seconds)
    return MessageClaim(request.sender_id, request.message_id, expires_at, now)


def replay_error(request: ServiceRequest) -> GatewayError:
    return GatewayError(errors.REPLAY, f"messageId {request.message_id!r} from {request.sender_id}")
