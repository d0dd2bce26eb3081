"""Signed checkpoints: the chain's head (seq and hash) signed by the gateway's transport key.

A checkpoint is a small SOAP envelope, ``kzg:MessageLogCheckpoint`` in its Body, signed exactly
like every message the gateway sends, so the same tools check it: ``verify_envelope`` here, and
``xmlsec1`` for an auditor (README, "Evidence bundles"). Because each record's hash covers the one
before it, a checkpoint at seq N vouches for every record up to N.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import TransportKey, sign_envelope
from gateway.messagelog.chain import format_time
from gateway.messagelog.schema import HEAD_ID, checkpoints, head
from gateway.storage.engine import write_transaction

log = logging.getLogger(__name__)

NAMESPACE = "urn:kzgate:messagelog:v1"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head_hash: str
    made_at: datetime
    envelope: bytes  # the signed document, exactly as stored


def build_checkpoint(seq: int, head_hash: str, made_at: datetime, key: TransportKey) -> bytes:
    envelope = etree.Element(etree.QName(SOAP_NS, "Envelope"), nsmap={"soap": SOAP_NS})
    etree.SubElement(envelope, etree.QName(SOAP_NS, "Header"))
    body = etree.SubElement(envelope, etree.QName(SOAP_NS, "Body"))
    point = etree.SubElement(
        body, etree.QName(NAMESPACE, "MessageLogCheckpoint"), nsmap={"kzg": NAMESPACE}
    )
    etree.SubElement(point, etree.QName(NAMESPACE, "seq")).text = str(seq)
    etree.SubElement(point, etree.QName(NAMESPACE, "headHash")).text = head_hash
    etree.SubElement(point, etree.QName(NAMESPACE, "madeAt")).text = format_time(made_at)
    sign_envelope(envelope, key)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def read_checkpoint(envelope: etree._Element) -> tuple[int, str, str]:
    """(seq, headHash, madeAt) from a parsed checkpoint envelope; ValueError if it is none."""
    point = envelope.find(f"{{{SOAP_NS}}}Body/{{{NAMESPACE}}}MessageLogCheckpoint")
    if point is None:
        raise ValueError("not a message-log checkpoint")
    values = {etree.QName(c).localname: (c.text or "") for c in point}
    return int(values["seq"]), values["headHash"], values["madeAt"]


async def make_checkpoint(engine: AsyncEngine, key: TransportKey, now: datetime) -> Checkpoint:
    """Sign the current head; the head unchanged since the last checkpoint returns that one."""
    try:
        return await _make_checkpoint(engine, key, now)
    except IntegrityError:
        # Another worker signed the same head at the same moment: its checkpoint will do.
        return await _make_checkpoint(engine, key, now)


async def _make_checkpoint(engine: AsyncEngine, key: TransportKey, now: datetime) -> Checkpoint:
    async with write_transaction(engine) as conn:
        row = (await conn.execute(select(head).where(head.c.id == HEAD_ID))).first()
        if row is None:
            raise RuntimeError("messagelog_head row is missing; run `kzgate log verify`")
        seq, head_hash = int(row.last_seq), str(row.last_hash)
        existing = (await conn.execute(select(checkpoints).where(checkpoints.c.seq == seq))).first()
        if existing is not None:
            return _from_row(existing)
        envelope = build_checkpoint(seq, head_hash, now, key)
        await conn.execute(
            checkpoints.insert().values(
                seq=seq, head_hash=head_hash, made_at=now, envelope=envelope
            )
        )
        return Checkpoint(seq, head_hash, now, envelope)


async def latest_checkpoint(engine: AsyncEngine) -> Checkpoint | None:
    query = select(checkpoints).order_by(checkpoints.c.seq.desc()).limit(1)
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return None if row is None else _from_row(row)


def _from_row(row: object) -> Checkpoint:
    return Checkpoint(
        int(row.seq),
        str(row.head_hash),
        row.made_at,
        bytes(row.envelope),  # type: ignore[attr-defined]
    )


async def checkpoint_forever(
    engine: AsyncEngine, key: TransportKey, clock: Callable[[], datetime], every_seconds: float
) -> None:
    """Sign the head every ``every_seconds`` (an unchanged head is not signed twice)."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await make_checkpoint(engine, key, clock())
        except Exception:  # a busy database now is no reason to stop checkpointing later
            log.exception("signing a message-log checkpoint failed")
