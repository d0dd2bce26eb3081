"""The hash chain: the canonical byte encoding of a record and how records link.

``record_hash = SHA-256(prev_hash_bytes || canonical_bytes(record))``, hex-encoded. The encoding
is a fixed sequence of fields, each a 4-byte big-endian length followed by its UTF-8 text (absent
values are the length 0xFFFFFFFF with no text), so no two different records encode the same way
and any language can recompute it from the stored columns.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from gateway.messagelog.records import HopRecord

FORMAT_TAG = "kzgate-messagelog/1"
GENESIS_HASH = "0" * 64  # the "previous hash" of the first record
_ABSENT = b"\xff\xff\xff\xff"


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def format_time(value: datetime) -> str:
    """UTC with microseconds, the one textual form used in hashes and in output."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _field(value: str | int | None) -> bytes:
    if value is None:
        return _ABSENT
    data = str(value).encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def canonical_bytes(seq: int, record: HopRecord, body_sha256: str) -> bytes:
    """Every field of the record in a fixed order; the body enters through its digest."""
    return canonical_link_bytes(seq, record_fields(record), len(record.body), body_sha256)


def record_fields(record: HopRecord) -> dict[str, str | int | None]:
    """The hashed fields of a record other than seq and body, as text (times in UTC)."""
    return {
        "recorded_at": format_time(record.recorded_at),
        "message_id": record.message_id,
        "correlation_id": record.correlation_id,
        "service_id": record.service_id,
        "sender_id": record.sender_id,
        "receiver_id": record.receiver_id,
        "direction": record.direction.value,
        "outcome": record.outcome.value,
        "fault_code": record.fault_code,
        "security_policy": record.security_policy,
        "elapsed_ms": record.elapsed_ms,
    }


def canonical_link_bytes(
    seq: int, fields: dict[str, str | int | None], body_size: int, body_sha256: str
) -> bytes:
    """The canonical encoding from the fields alone: an evidence bundle proves the chain
    through records of other exchanges without carrying their bodies."""
    values: tuple[str | int | None, ...] = (
        FORMAT_TAG,
        seq,
        *(fields[name] for name in _FIELD_ORDER),
        body_size,
        body_sha256,
    )
    return b"".join(_field(value) for value in values)


def link_hash(
    prev_hash: str, seq: int, fields: dict[str, str | int | None], body_size: int, sha256: str
) -> str:
    payload = bytes.fromhex(prev_hash) + canonical_link_bytes(seq, fields, body_size, sha256)
    return hashlib.sha256(payload).hexdigest()


_FIELD_ORDER = (
    "recorded_at",
    "message_id",
    "correlation_id",
    "service_id",
    "sender_id",
    "receiver_id",
    "direction",
    "outcome",
    "fault_code",
    "security_policy",
    "elapsed_ms",
)


def compute_record_hash(prev_hash: str, seq: int, record: HopRecord, body_sha256: str) -> str:
    payload = bytes.fromhex(prev_hash) + canonical_bytes(seq, record, body_sha256)
    return hashlib.sha256(payload).hexdigest()
