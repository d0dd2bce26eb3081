"""What one hop record says: the value objects appended to and read from the log."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum


class Direction(StrEnum):
    """Which way the bytes crossed the gateway's boundary."""

    REQUEST_IN = "request-in"
    REQUEST_OUT = "request-out"
    RESPONSE_IN = "response-in"
    RESPONSE_OUT = "response-out"
    FAULT_OUT = "fault-out"  # a refusal the gateway itself sent to a caller


class Outcome(StrEnum):
    """What the gateway did with the hop."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DELIVERED = "delivered"
    FAILED = "failed"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class HopRecord:
    """One hop as the gateway saw it; ``body`` is the exact bytes, never re-serialized XML."""

    message_id: str
    correlation_id: str | None
    service_id: str
    sender_id: str
    receiver_id: str | None
    direction: Direction
    outcome: Outcome
    security_policy: str
    body: bytes
    fault_code: str | None = None
    recorded_at: datetime = field(default_factory=utc_now)
    elapsed_ms: int | None = None
    # The W3C trace the hop belongs to: an index for finding a flow, not evidence, so it is
    # kept beside the record (messagelog_traces) and outside the hash.
    trace_id: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Coerce here so that the hash input is the same whatever the caller passed.
        object.__setattr__(self, "direction", Direction(self.direction))
        object.__setattr__(self, "outcome", Outcome(self.outcome))
        object.__setattr__(self, "body", bytes(self.body))
        if self.recorded_at.tzinfo is None:
            raise ValueError("recorded_at must be timezone-aware")
        object.__setattr__(self, "recorded_at", self.recorded_at.astimezone(UTC))
        if self.elapsed_ms is not None and self.elapsed_ms < 0:
            raise ValueError("elapsed_ms cannot be negative")


@dataclass(frozen=True, kw_only=True)
class StoredRecord(HopRecord):
    """A committed record: the hop plus its place in its writer's chain.

    ``seq`` numbers records across the whole log (an index for finding and linking to a record,
    outside the hash); ``chain_id`` and ``chain_seq`` are its place in the hash chain of the
    writer that appended it, and are hashed.
    """

    seq: int
    chain_id: str
    chain_seq: int
    body_sha256: str  # hex SHA-256 of ``body`` as computed at append time
    prev_hash: str
    record_hash: str

    @property
    def body_size(self) -> int:
        return len(self.body)


_HOP_FIELDS = tuple(f.name for f in fields(HopRecord))


def linked_record(
    record: HopRecord, digest: str, place: tuple[int, str, int], prev: str, link: str
) -> StoredRecord:
    """``record`` at ``place`` (log-wide number, chain id, position in the chain), linked to the
    chain by ``prev`` and its own hash ``link``; ``digest`` is its body's SHA-256."""
    hop = {name: getattr(record, name) for name in _HOP_FIELDS}
    seq, chain_id, chain_seq = place
    return StoredRecord(
        **hop,
        seq=seq,
        chain_id=chain_id,
        chain_seq=chain_seq,
        body_sha256=digest,
        prev_hash=prev,
        record_hash=link,
    )
