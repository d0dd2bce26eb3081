"""Freshness: whether a message is recent enough to act on, by its signed wsu:Timestamp or else its
``messageDate``.

Every SHEP participant applies the same rule to what it receives — the gateway at admission, a
provider to the gateway's requests, a participant to pushed messages — so it lives in the kit.
``check_freshness`` checks the signed wsu:Timestamp when there is one and otherwise
``messageDate`` (the Timestamp is the signer's proven clock, messageDate the sender's).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from connectors import errors
from connectors.errors import GatewayError

__all__ = ["KAZAKHSTAN", "check_freshness"]

# Kazakhstan has one zone, UTC+5, since 2024-03-01; senders that omit the offset mean local time.
KAZAKHSTAN = timezone(timedelta(hours=5))


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
