"""Signed checkpoints: every chain's head, under one Merkle root, signed by the gateway's key.

A checkpoint lists each chain's (id, length, head hash) and the Merkle root over them (leaves
sorted by chain id, RFC 6962 hashing: ``SHA-256(0x00 || leaf)`` and ``SHA-256(0x01 || l || r)``),
in a small SOAP envelope, ``kzg:MessageLogCheckpoint``, signed exactly like every message the
gateway sends, so the same tools check it: ``verify_envelope`` here, ``xmlsec1`` for an auditor
(README, "Evidence bundles"). Because each record's hash covers the one before it, a checkpoint
vouches for every record of every chain up to the length it names: a chain removed, truncated
below that length or rewritten is found by ``verify``. The root alone (32 bytes) is what an
operator anchors outside the gateway.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors import (
    GATEWAY_ID,
    GatewayError,
    TransportKey,
    TrustStore,
    envelope_skeleton,
    sign_envelope,
)
from connectors import verify_envelope as verify_signed_envelope
from gateway.messagelog.chain import field_bytes, format_time
from gateway.messagelog.schema import chains, checkpoints

log = logging.getLogger(__name__)

NAMESPACE = "urn:kzgate:messagelog:v1"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
FORMAT = "kzgate-checkpoint/2"
_LEAF_TAG = "kzgate-chain-head/1"


@dataclass(frozen=True)
class ChainHead:
    """Where one chain ended when a checkpoint was signed."""

    chain_id: str
    length: int
    head_hash: str


@dataclass(frozen=True)
class Checkpoint:
    """A signed checkpoint as stored (``envelope`` byte for byte)."""

    made_at: datetime
    root: str
    heads: tuple[ChainHead, ...]
    envelope: bytes

    @property
    def records(self) -> int:
        """Records the checkpoint vouches for, over all chains."""
        return sum(head.length for head in self.heads)

    def head_of(self, chain_id: str) -> ChainHead | None:
        return next((h for h in self.heads if h.chain_id == chain_id), None)


# --- the Merkle tree -----------------------------------------------------------------------------


def leaf_hash(head: ChainHead) -> bytes:
    data = b"".join(field_bytes(v) for v in (_LEAF_TAG, head.chain_id, head.length, head.head_hash))
    return hashlib.sha256(b"\x00" + data).digest()


def merkle_root(heads: Iterable[ChainHead]) -> str:
    """The root over the heads sorted by chain id; SHA-256 of nothing for no chains."""
    level = [leaf_hash(h) for h in sorted(heads, key=lambda h: h.chain_id)]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        pairs = [level[i : i + 2] for i in range(0, len(level), 2)]
        level = [
            hashlib.sha256(b"\x01" + pair[0] + pair[1]).digest() if len(pair) == 2 else pair[0]
            for pair in pairs
        ]
    return level[0].hex()


# --- the signed document -------------------------------------------------------------------------


def build_checkpoint(heads: Sequence[ChainHead], made_at: datetime, key: TransportKey) -> bytes:
    envelope, body = envelope_skeleton(None)
    point = etree.SubElement(
        body, etree.QName(NAMESPACE, "MessageLogCheckpoint"), nsmap={"kzg": NAMESPACE}
    )
    _text(point, "format", FORMAT)
    _text(point, "madeAt", format_time(made_at))
    _text(point, "merkleRoot", merkle_root(heads))
    listed = etree.SubElement(point, etree.QName(NAMESPACE, "chains"))
    for head in sorted(heads, key=lambda h: h.chain_id):
        chain = etree.SubElement(listed, etree.QName(NAMESPACE, "chain"))
        _text(chain, "id", head.chain_id)
        _text(chain, "length", str(head.length))
        _text(chain, "headHash", head.head_hash)
    sign_envelope(envelope, key)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def _text(parent: etree._Element, name: str, value: str) -> None:
    etree.SubElement(parent, etree.QName(NAMESPACE, name)).text = value


def read_checkpoint(envelope: etree._Element) -> tuple[str, str, tuple[ChainHead, ...]]:
    """(madeAt, merkleRoot as stated, heads) of a parsed checkpoint; ValueError if it is none."""
    point = envelope.find(f"{{{SOAP_NS}}}Body/{{{NAMESPACE}}}MessageLogCheckpoint")
    if point is None or point.findtext(f"{{{NAMESPACE}}}format") != FORMAT:
        raise ValueError("not a message-log checkpoint of format " + FORMAT)
    heads = tuple(
        ChainHead(
            chain.findtext(f"{{{NAMESPACE}}}id") or "",
            int(chain.findtext(f"{{{NAMESPACE}}}length") or "-1"),
            chain.findtext(f"{{{NAMESPACE}}}headHash") or "",
        )
        for chain in point.iterfind(f"{{{NAMESPACE}}}chains/{{{NAMESPACE}}}chain")
    )
    made_at = point.findtext(f"{{{NAMESPACE}}}madeAt") or ""
    return made_at, point.findtext(f"{{{NAMESPACE}}}merkleRoot") or "", heads


def read_legacy_checkpoint(envelope: etree._Element) -> tuple[int, str, str]:
    """(seq, headHash, madeAt) of a single-chain checkpoint of an earlier version."""
    point = envelope.find(f"{{{SOAP_NS}}}Body/{{{NAMESPACE}}}MessageLogCheckpoint")
    if point is None:
        raise ValueError("not a message-log checkpoint")
    values = {etree.QName(c).localname: (c.text or "") for c in point}
    return int(values["seq"]), values["headHash"], values["madeAt"]


@dataclass(frozen=True)
class CheckedCheckpoint:
    """What ``check_checkpoint`` found: the heads it signs, or why it cannot be trusted."""

    heads: tuple[ChainHead, ...]
    root: str  # as the document states it
    made_at: str
    signer: str | None
    problem: str | None  # None: signed by the gateway and its root matches its heads


def check_checkpoint(data: bytes, trust: TrustStore | None) -> CheckedCheckpoint:
    """Parse a stored checkpoint, check its signature (unless ``trust`` is None) and root."""
    try:
        root = etree.fromstring(data)
        made_at, stated_root, heads = read_checkpoint(root)
        when = parse_time(made_at)
    except (ValueError, etree.XMLSyntaxError) as exc:
        return CheckedCheckpoint((), "", "", None, f"unreadable ({exc})")
    signer, problem = check_signature(root, trust, when)
    if problem is None and merkle_root(heads) != stated_root:
        problem = "its Merkle root does not match the chain heads it lists"
    return CheckedCheckpoint(heads, stated_root, made_at, signer, problem)


def check_signature(
    root: etree._Element, trust: TrustStore | None, when: datetime
) -> tuple[str | None, str | None]:
    """(signer, problem): the signature must verify as of ``when`` and be the gateway's.

    Without ``trust`` nothing is checked and (None, None) comes back: the caller says so.
    """
    if trust is None:
        return None, None
    try:
        signed = verify_signed_envelope(root, trust, now=when)
    except GatewayError as error:
        return None, f"its signature does not verify ({error.fault.code})"
    signer = signer_name(signed.certificate)
    if signer != GATEWAY_ID:
        return signer, f"it is signed by {signer}, not the gateway"
    return signer, None


def signer_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else "unknown"


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


# --- making and reading them ---------------------------------------------------------------------


async def current_heads(conn: AsyncConnection) -> tuple[ChainHead, ...]:
    """Every chain's head in one statement (one snapshot): each row moves with its records."""
    rows = await conn.execute(select(chains.c.chain_id, chains.c.length, chains.c.head_hash))
    return tuple(ChainHead(r.chain_id, int(r.length), r.head_hash) for r in rows)


async def make_checkpoint(engine: AsyncEngine, key: TransportKey, now: datetime) -> Checkpoint:
    """Sign every chain's current head; heads unchanged since the last checkpoint return it.

    Takes no lock: chains keep growing meanwhile, and the next checkpoint covers that.
    """
    async with engine.connect() as conn:
        heads = await current_heads(conn)
    latest = await latest_checkpoint(engine)
    if latest is not None and latest.root == merkle_root(heads):
        return latest
    envelope = build_checkpoint(heads, now, key)
    made = Checkpoint(
        now, merkle_root(heads), tuple(sorted(heads, key=lambda h: h.chain_id)), envelope
    )
    async with engine.begin() as conn:
        await conn.execute(
            checkpoints.insert().values(
                made_at=now,
                merkle_root=made.root,
                chains=len(heads),
                records=made.records,
                envelope=envelope,
            )
        )
    return made


async def latest_checkpoint(engine: AsyncEngine) -> Checkpoint | None:
    query = select(checkpoints).order_by(checkpoints.c.id.desc()).limit(1)
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        return None
    envelope = bytes(row.envelope)
    _, root, heads = read_checkpoint(etree.fromstring(envelope))
    return Checkpoint(row.made_at, root, heads, envelope)


async def checkpoint_forever(
    engine: AsyncEngine, key: TransportKey, clock: Callable[[], datetime], every_seconds: float
) -> None:
    """Sign the heads every ``every_seconds`` (unchanged heads are not signed twice)."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await make_checkpoint(engine, key, clock())
        except Exception:  # a busy database now is no reason to stop checkpointing later
            log.exception("signing a message-log checkpoint failed")
