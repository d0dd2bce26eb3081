"""The gateway's security policy: whether a signature (and a signed Timestamp) is required.

How fresh a message must be is the same rule for every participant, the kit's
``connectors.wsse.freshness``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import lxml.etree as etree

from connectors import (
    GatewayError,
    TrustStore,
    VerifiedSignature,
    errors,
    find_transport_signature,
    verify_envelope,
)


class SecurityPolicy(StrEnum):
    """``shep``: signature required; ``strict``: signature and a signed Timestamp required;
    ``emulator``: unsigned messages are accepted (and flagged), signed ones are still verified."""

    SHEP = "shep"
    STRICT = "strict"
    EMULATOR = "emulator"

    @property
    def requires_signature(self) -> bool:
        return self is not SecurityPolicy.EMULATOR

    @property
    def requires_timestamp(self) -> bool:
        return self is SecurityPolicy.STRICT


def enforce_policy(
    policy: SecurityPolicy, envelope: etree._Element, trust: TrustStore, *, now: datetime
) -> VerifiedSignature | None:
    """Verify ``envelope`` under ``policy``; None means "unsigned, and the emulator accepts it"."""
    if not policy.requires_signature and find_transport_signature(envelope) is None:
        return None
    verified = verify_envelope(envelope, trust, now=now)
    if policy.requires_timestamp and verified.timestamp is None:
        raise GatewayError(errors.TIMESTAMP_MISSING, "no signed wsu:Timestamp in wsse:Security")
    return verified
