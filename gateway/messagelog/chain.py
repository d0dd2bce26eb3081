"""The hash chains: the canonical byte encoding of a record and how records link.

Every writer (one gateway worker process) appends to a chain of its own, named by ``chain_id``;
within it ``record_hash = SHA-256(prev_hash_bytes || canonical_bytes(record))``, hex-encoded,
starting from ``GENESIS_HASH``. The encoding is a fixed sequence of fields, each a 4-byte
big-endian length followed by its UTF-8 text (absent values are the length 0xFFFFFFFF with no
text), so no two different records encode the same way and any language can recompute it from
the stored columns.

Two formats: ``kzgate-messagelog/2`` hashes the chain id and the position in the chain;
``kzgate-messagelog/1`` is the single chain of logs written before there were chains, which
hashed only the position. A log from that time is read as one chain, ``LEGACY_CHAIN``, whose
records keep their old hashes (see ``schema.upgrade_single_chain``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from gateway.messagelog.records import HopRecord

FORMAT_TAG = "kzgate-messagelog/2"
LEGACY_FORMAT_TAG = "kzgate-messagelog/1"
LEGACY_CHAIN = "single-chain-v1"  # no writer's chain id looks like this (they hold a "/")
GENESIS_HASH = "0" * 64  # the "previous hash" of every chain's first record
_ABSENT = b"\xff\xff\xff\xff"


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def format_time(value: datetime) -> str:
    """UTC with microseconds, the one textual form used in hashes and in output."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def field_bytes(value: str | int | None) -> bytes:
    """One length-prefixed field of the canonical encoding (also used by checkpoints)."""
    if value is None:
        return _ABSENT
    data = str(value).encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def record_fields(record: HopRecord) -> dict[str, str | int | None]:
    """The hashed fields of a record other than its place and body, as text (times in UTC)."""
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


FIELD_ORDER = (
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


def canonical_link_bytes(
    chain_id: str,
    chain_seq: int,
    fields: dict[str, str | int | None],
    body_size: int,
    body_sha256: str,
) -> bytes:
    """The canonical encoding from the fields alone: an evidence bundle proves the chain
    through records of other exchanges without carrying their bodies."""
    if chain_id == LEGACY_CHAIN:
        place: tuple[str | int, ...] = (LEGACY_FORMAT_TAG, chain_seq)
    else:
        place = (FORMAT_TAG, chain_id, chain_seq)
    values = (*place, *(fields[name] for name in FIELD_ORDER), body_size, body_sha256)
    return b"".join(field_bytes(value) for value in values)


def canonical_bytes(chain_id: str, chain_seq: int, record: HopRecord, body_sha256: str) -> bytes:
    """Every field of the record in a fixed order; the body enters through its digest."""
    return canonical_link_bytes(
        chain_id, chain_seq, record_fields(record), len(record.body), body_sha256
    )


def link_hash(
    prev_hash: str,
    chain_id: str,
    chain_seq: int,
    fields: dict[str, str | int | None],
    body_size: int,
    body_sha256: str,
) -> str:
    payload = bytes.fromhex(prev_hash) + canonical_link_bytes(
        chain_id, chain_seq, fields, body_size, body_sha256
    )
    return hashlib.sha256(payload).hexdigest()


def compute_record_hash(
    prev_hash: str, chain_id: str, chain_seq: int, record: HopRecord, body_sha256: str
) -> str:
    """The hash of ``record`` at ``chain_seq`` of ``chain_id``, after ``prev_hash``."""
    payload = bytes.fromhex(prev_hash) + canonical_bytes(chain_id, chain_seq, record, body_sha256)
    return hashlib.sha256(payload).hexdigest()
