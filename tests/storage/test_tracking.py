"""The async-message tracker on each database: what a state change leaves, and what it returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import MessageState
from gateway.tracking.store import MessageTracker, TrackedMessage

T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


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
