"""The message log: the exact bytes and metadata of every hop, in one hash chain per writer.

This package owns what the gateway can later prove about an exchange: each hop's bytes as they
crossed the wire, who sent them to whom, what the gateway decided, a SHA-256 chain per writer
(one gateway worker process) so that editing, removing, reordering or truncating records is
evident, and signed checkpoints — a Merkle root over every chain's head — so that removing a
whole chain or cutting one back below what was signed is evident too. Appends are
group-committed by one writer task per process; writers share no lock of the log's.
"""

from gateway.messagelog.chain import (
    GENESIS_HASH,
    LEGACY_CHAIN,
    canonical_bytes,
    compute_record_hash,
)
from gateway.messagelog.checkpoint import ChainHead, Checkpoint, make_checkpoint, merkle_root
from gateway.messagelog.log import (
    AlreadyClaimed,
    MessageClaim,
    MessageLog,
    MessageLogClosed,
    MessageLogCorrupted,
)
from gateway.messagelog.records import Direction, HopRecord, Outcome, StoredRecord
from gateway.messagelog.verify import Failure, Problem, VerifyReport, verify_log

__all__ = [
    "GENESIS_HASH",
    "LEGACY_CHAIN",
    "AlreadyClaimed",
    "ChainHead",
    "Checkpoint",
    "Direction",
    "Failure",
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
    "make_checkpoint",
    "merkle_root",
    "verify_log",
]
