"""The async-message tracker on each database: what a state change leaves, and what it returns."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import MessageState
from gateway.tracking.store import MessageTracker, TrackedMessage

T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
# SQLAlchemy wraps the column type's ValueError; the driver path raises it as it is.
REFUSED = (ValueError, StatementError)


def tracked(message_id: str) -> TrackedMessage:
    return TrackedMessage(
        message_id=message_id,
        sender_id="ELICENSE",
        receiver_id="KEDEN",
        service_id="LicenceRegistration_v1",
        correlation_id=message_id,
        message_type="REQUEST",
        payload_digest="d" * 64,
        state=MessageState.ON_DELIVERY,
        status_code="ACCEPTED",
        status_message="Accepted by the gateway",
        status_date=T0,
        accepted_at=T0,
        published=True,
        push=True,
        delivered_envelope=b"<Envelope/>",
    )


async def test_a_state_change_returns_the_message_as_it_now_stands(engine: AsyncEngine) -> None:
    """What the sender is told and the events carry is the stored row after the change."""
    tracker = MessageTracker(engine)
    await tracker.accept(tracked("m-1"))
    await tracker.accept(tracked("m-2"))
    later = T0 + timedelta(seconds=3)
    now = await tracker.set_state("m-1", MessageState.DELIVERED, "DELIVERED", "x" * 300, later)
    assert now == await tracker.get("m-1")
    assert (now.state, now.status_code, now.status_date) == (
        MessageState.DELIVERED,
        "DELIVERED",
        later,
    )
    assert now.status_message == "x" * 250  # StatusInfo/message holds 250 characters
    assert now.delivered_envelope == b"<Envelope/>" and now.sender_id == "ELICENSE"
    assert (await tracker.get("m-2")).state is MessageState.ON_DELIVERY  # only that one moved


async def test_a_state_change_of_an_unknown_message_changes_nothing(engine: AsyncEngine) -> None:
    tracker = MessageTracker(engine)
    assert await tracker.set_state("nobody", MessageState.DELIVERED, "DELIVERED", "", T0) is None
    assert await tracker.get("nobody") is None


async def test_a_message_is_accepted_once_and_a_resend_gets_the_first(engine: AsyncEngine) -> None:
    """Ingress de-duplication: the second accept of an id changes nothing and returns the row."""
    tracker = MessageTracker(engine)
    first = tracked("m-1")
    assert await tracker.accept(first) == (first, True)
    resend = replace(first, payload_digest="e" * 64, delivered_envelope=b"<Other/>")
    stored, new = await tracker.accept(resend)
    assert (stored, new) == (first, False)
    assert await tracker.get("m-1") == first


async def test_publishing_and_state_checks_see_the_stored_row(engine: AsyncEngine) -> None:
    tracker = MessageTracker(engine)
    await tracker.accept(replace(tracked("m-1"), published=False))
    await tracker.mark_published("m-1")
    assert (await tracker.get("m-1")).published is True
    assert await tracker.state_of("m-1") is MessageState.ON_DELIVERY
    assert await tracker.state_of("nobody") is None
    await tracker.set_state("m-1", MessageState.DELIVERED, "DELIVERED", "", T0)
    assert await tracker.state_of("m-1") is MessageState.DELIVERED


async def test_a_naive_time_is_refused_on_every_database(engine: AsyncEngine) -> None:
    """The column type's check holds on PostgreSQL's driver path too: a time without a zone is
    ambiguous, and nothing is written."""
    tracker = MessageTracker(engine)
    with pytest.raises(REFUSED, match="aware datetime"):
        await tracker.accept(replace(tracked("m-1"), accepted_at=T0.replace(tzinfo=None)))
    assert await tracker.get("m-1") is None
    await tracker.accept(tracked("m-2"))
    with pytest.raises(REFUSED, match="aware datetime"):
        await tracker.set_state("m-2", MessageState.DELIVERED, "D", "", T0.replace(tzinfo=None))
    assert (await tracker.get("m-2")).state is MessageState.ON_DELIVERY
