"""Security policy, freshness and replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import get_args

import lxml.etree as etree
import pytest

from connectors import WSU, FaultCode, GatewayError, errors, sign_envelope
from connectors.config import SecurityPolicyName
from connectors.wsse.freshness import check_freshness
from gateway.channels.policy import SecurityPolicy, enforce_policy
from tests.security.helpers import add_timestamp, header_of, new_envelope, wsse

WINDOW, SKEW = 300, 60


def _raises(fault: FaultCode, call, *args, **kwargs) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        call(*args, **kwargs)
    assert caught.value.fault is fault, caught.value
    return caught.value


def test_policy_names_match_the_settings():
    assert {p.value for p in SecurityPolicy} == set(get_args(SecurityPolicyName))


def test_emulator_accepts_unsigned_and_flags_it(trust, now):
    assert enforce_policy(SecurityPolicy.EMULATOR, new_envelope(), trust, now=now) is None


def test_emulator_still_verifies_a_signature_that_is_present(gateway_key, trust, now):
    envelope = new_envelope()
    sign_envelope(envelope, gateway_key)
    envelope.find(".//serviceId").text = "other"
    _raises(
        errors.SIG_DIGEST_MISMATCH,
        enforce_policy,
        SecurityPolicy.EMULATOR,
        envelope,
        trust,
        now=now,
    )


def test_shep_requires_a_signature_but_no_timestamp(gateway_key, trust, now):
    _raises(errors.SIG_MISSING, enforce_policy, SecurityPolicy.SHEP, new_envelope(), trust, now=now)
    envelope = new_envelope()
    sign_envelope(envelope, gateway_key)
    assert enforce_policy(SecurityPolicy.SHEP, envelope, trust, now=now).timestamp is None


def test_strict_requires_a_signed_timestamp(gateway_key, trust, now):
    envelope = new_envelope()
    sign_envelope(envelope, gateway_key)
    _raises(
        errors.TIMESTAMP_MISSING, enforce_policy, SecurityPolicy.STRICT, envelope, trust, now=now
    )
    sign_envelope(envelope, gateway_key, with_timestamp=True, now=now)
    assert enforce_policy(SecurityPolicy.STRICT, envelope, trust, now=now).timestamp


def test_strict_ignores_an_unsigned_timestamp(gateway_key, trust, now):
    envelope = new_envelope()
    sign_envelope(envelope, gateway_key)
    add_timestamp(
        header_of(envelope).find(wsse("Security")), "2030-01-01T00:00:00Z", "2030-01-01T00:05:00Z"
    )
    assert envelope.find(f".//{{{WSU}}}Timestamp") is not None
    _raises(
        errors.TIMESTAMP_MISSING, enforce_policy, SecurityPolicy.STRICT, envelope, trust, now=now
    )


def test_strict_unsigned_is_still_unsigned(trust, now):
    _raises(
        errors.SIG_MISSING, enforce_policy, SecurityPolicy.STRICT, new_envelope(), trust, now=now
    )


# --- freshness --------------------------------------------------------------------------------


def _fresh(now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(seconds=5), now + timedelta(seconds=295)


def test_fresh_message_passes(now):
    check_freshness(_fresh(now), now - timedelta(seconds=10), now, WINDOW, SKEW)
    check_freshness(None, now, now, WINDOW, SKEW)
    check_freshness(None, None, now, WINDOW, SKEW)
    check_freshness((now, None), None, now, WINDOW, SKEW)


def test_expired_timestamp(now):
    stamp = (now - timedelta(seconds=200), now - timedelta(seconds=SKEW + 1))
    _raises(errors.TIMESTAMP_EXPIRED, check_freshness, stamp, now, now, WINDOW, SKEW)


def test_expires_within_the_skew_is_tolerated(now):
    stamp = (now - timedelta(seconds=200), now - timedelta(seconds=SKEW - 1))
    check_freshness(stamp, now, now, WINDOW, SKEW)


def test_timestamp_created_too_long_ago(now):
    stamp = (now - timedelta(seconds=WINDOW + 1), now + timedelta(hours=1))
    _raises(errors.TIMESTAMP_EXPIRED, check_freshness, stamp, now, now, WINDOW, SKEW)


def test_timestamp_created_in_the_future(now):
    stamp = (now + timedelta(seconds=SKEW + 5), now + timedelta(seconds=600))
    _raises(errors.TIMESTAMP_EXPIRED, check_freshness, stamp, now, now, WINDOW, SKEW)


def test_timestamp_is_checked_before_message_date(now):
    stamp = (now - timedelta(hours=1), now - timedelta(minutes=55))
    _raises(
        errors.TIMESTAMP_EXPIRED, check_freshness, stamp, now - timedelta(days=1), now, WINDOW, SKEW
    )


def test_stale_message_date(now):
    _raises(
        errors.MESSAGE_STALE,
        check_freshness,
        None,
        now - timedelta(seconds=WINDOW + 1),
        now,
        WINDOW,
        SKEW,
    )


def test_a_signed_timestamp_takes_the_place_of_message_date(now):
    # An old client writing messageDate in +06:00 without an offset looks an hour ahead.
    check_freshness(_fresh(now), now + timedelta(hours=1), now, WINDOW, SKEW)


def test_message_date_from_the_future(now):
    _raises(
        errors.MESSAGE_STALE,
        check_freshness,
        None,
        now + timedelta(seconds=SKEW + 1),
        now,
        WINDOW,
        SKEW,
    )


def test_message_date_offsets(now):
    almaty_old = timezone(timedelta(hours=6))
    check_freshness(None, now.astimezone(almaty_old), now, WINDOW, SKEW)
    check_freshness(None, now.astimezone(timezone(timedelta(hours=5))), now, WINDOW, SKEW)


def test_naive_message_date_is_kazakhstan_time():
    now = datetime(2025, 1, 1, 7, 0, tzinfo=UTC)
    check_freshness(None, datetime(2025, 1, 1, 12, 0), now, WINDOW, SKEW)
    _raises(
        errors.MESSAGE_STALE, check_freshness, None, datetime(2025, 1, 1, 7, 0), now, WINDOW, SKEW
    )


def test_timestamp_from_a_signed_envelope_feeds_freshness(gateway_key, trust, now):
    envelope = new_envelope()
    sign_envelope(envelope, gateway_key, with_timestamp=True, ttl_seconds=60, now=now)
    envelope = etree.fromstring(etree.tostring(envelope))
    verified = enforce_policy(SecurityPolicy.STRICT, envelope, trust, now=now)
    check_freshness(verified.timestamp, now, now, WINDOW, SKEW)
    later = now + timedelta(seconds=60 + SKEW + 1)
    _raises(
        errors.TIMESTAMP_EXPIRED, check_freshness, verified.timestamp, None, later, WINDOW, SKEW
    )
