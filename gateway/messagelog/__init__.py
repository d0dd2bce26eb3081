"""The message log: the exact bytes and metadata of every hop, in one hash chain.

This package owns what the gateway can later prove about an exchange: each hop's bytes as they
crossed the wire, who sent them to whom, what the gateway decided, and a SHA-256 chain over all
records (with a head row) so that editing, removing, reordering or truncating records is evident.
Appends are group-committed by one writer task; chain extension is serialized in the database so
several gateway processes share one chain.
"""

from gateway.messagelog.chain import GENESIS_HASH, canonical_bytes, compute_record_hash
from gateway.messagelog.log import (
    AlreadyClaimed,
    MessageClaim,
    MessageLog,
    MessageLogClosed,
    MessageLogCorrupted,
)
from gateway.messagelog.records import Direction, HopRecord, Outcome, StoredRecord
from gateway.messagelog.verify import Problem, VerifyReport, verify_log

__all__ = [
    "GENESIS_HASH",
    "AlreadyClaimed",
    "Direction",
    "HopRecord",
    "MessageClaim",
    "MessageLog",
    "MessageLogClosed",
    "MessageLogCorrupted",
    "Outcome",
    "Problem",
    "StoredRecord",
    "VerifyReport",
    "canonical_bytes",
    "compute_record_hash",
    "verify_log",
]
