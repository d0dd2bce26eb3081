"""The security policy: whether a signature (and a signed Timestamp) is required, freshness, replay.

``check_freshness`` checks the signed wsu:Timestamp when there is one and then ``messageDate``
(both, when both are present: the Timestamp is the signer's clock, messageDate the sender's).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
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

# Kazakhstan has one zone, UTC+5, since 2024-03-01; senders that omit the offset mean local time.
KAZAKHSTAN = timezone(timedelta(hours=5))


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


def check_freshness(
    timestamp: tuple[datetime, datetime | None] | None,
    message_date: datetime | None,
    now: datetime,
    window_seconds: int,
    skew_seconds: int,
) -> None:
    """TIMESTAMP_EXPIRED / MESSAGE_STALE unless the message is fresh: by the signed Timestamp when
    there is one, else by messageDate.

    The signed Timestamp is stale when Expires (plus skew) has passed, Created is older than the
    window or Created lies in the future beyond the skew. messageDate must lie in
    [now - window, now + skew]; a naive messageDate is read as Kazakhstan time (UTC+5).
    """
    window, skew = timedelta(seconds=window_seconds), timedelta(seconds=skew_seconds)
    # A signed Timestamp is the sender's proven clock; messageDate, often written without an
    # offset by older clients, is the fallback only when there is none.
    if timestamp is not None:
        _check_timestamp(timestamp, now, window, skew)
    elif message_date is not None:
        _check_message_date(message_date, now, window, skew)


def _check_timestamp(
    timestamp: tuple[datetime, datetime | None], now: datetime, window: timedelta, skew: timedelta
) -> None:
    created, expires = timestamp
    if expires is not None and now > expires + skew:
        raise GatewayError(errors.TIMESTAMP_EXPIRED, f"expired at {expires.isoformat()}")
    if created > now + skew:
        raise GatewayError(
            errors.TIMESTAMP_EXPIRED, f"created in the future ({created.isoformat()})"
        )
    if created < now - window:
        raise GatewayError(errors.TIMESTAMP_EXPIRED, f"created {created.isoformat()}, too long ago")


def _check_message_date(
    message_date: datetime, now: datetime, window: timedelta, skew: timedelta
) -> None:
    if message_date.tzinfo is None:
        message_date = message_date.replace(tzinfo=KAZAKHSTAN)
    if not now - window <= message_date <= now + skew:
        raise GatewayError(
            errors.MESSAGE_STALE, f"messageDate {message_date.isoformat()} is outside the window"
        )
