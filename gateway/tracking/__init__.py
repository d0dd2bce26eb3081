"""Tracking of AsyncChannel messages: each one's state (ON_DELIVERY → DELIVERED, NOT_DELIVERED,
DELIVERY_STOPPED) and status, the basis of getMessageStatus, ingress de-duplication and the
mailbox that polling systems read with getMessages."""

from gateway.tracking.store import MessageTracker, TrackedMessage

__all__ = ["MessageTracker", "TrackedMessage"]
