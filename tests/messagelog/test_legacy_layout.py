"""A var dir from before chains (one chain, one ``messagelog_head`` row, checkpoints of (seq,
hash)) still opens and verifies: ``create_schema`` upgrades it in place into the chain
``single-chain-v1`` without rehashing, new writers add chains beside it, and tampering with the
old records is still found. The old layout and its hash are written here from their
specification, independently of the code under test."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import TransportKey, TrustStore, sign_envelope
from connectors.db import UtcDateTime, create_engine
from gateway.messagelog import LEGACY_CHAIN, HopRecord, MessageLog, Problem, verify_log
from gateway.messagelog.bundle import export_bundle, verify_bundle
from gateway.messagelog.chain import format_time
from gateway.messagelog.schema import chains, records
from gateway.storage import create_schema
from tests.messagelog.hops import T0, hop
from tests.pki import make_test_pki

OLD = MetaData()
old_records = Table(
    "messagelog_records",
    OLD,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("message_id", String, nullable=False),
    Column("correlation_id", String),
    Column("service_id", String, nullable=False),
    Column("sender_id", String, nullable=False),
    Column("receiver_id", String),
    Column("direction", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("fault_code", String),
    Column("security_policy", String, nullable=False),
    Column("elapsed_ms", BigInteger),
    Column("body", LargeBinary, nullable=False),
    Column("body_sha256", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("record_hash", String(64), nullable=False, unique=True),
    Index("ix_messagelog_records_correlation_id", "correlation_id"),
    Index("ix_messagelog_records_message_id", "message_id"),
)
old_head = Table(
    "messagelog_head",
    OLD,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
)
old_checkpoints = Table(
    "messagelog_checkpoints",
    OLD,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("head_hash", String(64), nullable=False),
    Column("made_at", UtcDateTime, nullable=False),
    Column("envelope", LargeBinary, nullable=False),
)
OLD_RECORDS = 5
OLD_CHECKPOINT_AT = 4
NS, SOAP = "urn:kzgate:messagelog:v1", "http://schemas.xmlsoap.org/soap/envelope/"


def v1_hash(prev: str, seq: int, r: HopRecord) -> str:
    """kzgate-messagelog/1: SHA-256(prev || length-prefixed fields), as the old README says."""

    def field(value: object) -> bytes:
        if value is None:
            return b"\xff\xff\xff\xff"
        data = str(value).encode()
        return len(data).to_bytes(4, "big") + data

    values = (
        "kzgate-messagelog/1", seq, format_time(r.recorded_at), r.message_id, r.correlation_id,
        r.service_id, r.sender_id, r.receiver_id, r.direction.value, r.outcome.value,
        r.fault_code, r.security_policy, r.elapsed_ms, len(r.body),
        hashlib.sha256(r.body).hexdigest(),
    )  # fmt: skip
    return hashlib.sha256(bytes.fromhex(prev) + b"".join(map(field, values))).hexdigest()


def old_checkpoint(seq: int, head_hash: str, key: TransportKey) -> bytes:
    envelope = etree.Element(etree.QName(SOAP, "Envelope"), nsmap={"soap": SOAP})
    etree.SubElement(envelope, etree.QName(SOAP, "Header"))
    body = etree.SubElement(envelope, etree.QName(SOAP, "Body"))
    point = etree.SubElement(body, etree.QName(NS, "MessageLogCheckpoint"), nsmap={"kzg": NS})
    for name, value in (("seq", str(seq)), ("headHash", head_hash), ("madeAt", format_time(T0))):
        etree.SubElement(point, etree.QName(NS, name)).text = value
    sign_envelope(envelope, key)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


@dataclass
class Upgraded:
    engine: AsyncEngine
    trust: TrustStore
    key: TransportKey
    pki: Path


@pytest.fixture
async def upgraded(db_url: str, tmp_path: Path) -> AsyncIterator[Upgraded]:
    pki = make_test_pki(tmp_path / "pki", ["GATEWAY", "ELICENSE", "GBDUL"])
    key = TransportKey.from_files(pki / "GATEWAY.pem", pki / "GATEWAY.key")
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(OLD.create_all)
            prev, rows, hashes = "0" * 64, [], {}
            for seq in range(1, OLD_RECORDS + 1):
                record = hop(seq)
                link = v1_hash(prev, seq, record)
                rows.append(
                    {
                        **{c.name: getattr(record, c.name, None) for c in old_records.columns},
                        "seq": seq,
                        "direction": record.direction.value,
                        "outcome": record.outcome.value,
                        "body_sha256": hashlib.sha256(record.body).hexdigest(),
                        "prev_hash": prev,
                        "record_hash": link,
                    }
                )
                prev = hashes[seq] = link
            await conn.execute(old_records.insert(), rows)
            await conn.execute(old_head.insert().values(id=1, last_seq=OLD_RECORDS, last_hash=prev))
            await conn.execute(
                old_checkpoints.insert().values(
                    seq=OLD_CHECKPOINT_AT,
                    head_hash=hashes[OLD_CHECKPOINT_AT],
                    made_at=T0,
                    envelope=old_checkpoint(OLD_CHECKPOINT_AT, hashes[OLD_CHECKPOINT_AT], key),
                )
            )
        await create_schema(engine)
        await create_schema(engine)  # a second start finds it upgraded already
        yield Upgraded(engine, TrustStore.from_dir(pki), key, pki)
    finally:
        await engine.dispose()


async def test_an_old_single_chain_log_opens_as_one_legacy_chain_and_verifies(
    upgraded: Upgraded,
) -> None:
    report = await verify_log(upgraded.engine, upgraded.trust)
    assert report.ok, report.failures
    assert (report.chains_checked, report.records_checked) == (1, OLD_RECORDS)
    assert report.checkpoints_checked == 1 and report.signatures_checked
    found = await MessageLog(upgraded.engine).find(message_id="msg-2")
    assert [(r.seq, r.chain_id, r.chain_seq) for r in found] == [(2, LEGACY_CHAIN, 2)]

    # New writers add chains beside it; log-wide numbers continue after the old ones.
    async with MessageLog(upgraded.engine, instance_id="new") as log:
        fresh = [await log.append(hop(n, correlation_id="after")) for n in (10, 11)]
    assert [r.seq for r in fresh] == [OLD_RECORDS + 1, OLD_RECORDS + 2]
    assert [r.chain_seq for r in fresh] == [1, 2]
    report = await verify_log(upgraded.engine, upgraded.trust)
    assert report.ok, report.failures
    assert (report.chains_checked, report.records_checked) == (2, OLD_RECORDS + 2)


async def test_tampering_with_the_legacy_chain_is_still_found(upgraded: Upgraded) -> None:
    async with upgraded.engine.begin() as conn:
        await conn.execute(update(records).where(records.c.seq == 3).values(sender_id="KEDEN"))
    report = await verify_log(upgraded.engine, upgraded.trust)
    assert (report.chain_id, report.first_bad_seq, report.problem) == (
        LEGACY_CHAIN,
        3,
        Problem.EDITED,
    )


async def test_cutting_the_legacy_chain_below_its_old_checkpoint_is_found(
    upgraded: Upgraded,
) -> None:
    async with upgraded.engine.begin() as conn:
        await conn.execute(delete(records).where(records.c.seq >= 3))
        head = (await conn.execute(select(records.c.record_hash).where(records.c.seq == 2))).one()
        await conn.execute(update(chains).values(length=2, head_hash=head.record_hash))
    report = await verify_log(upgraded.engine, upgraded.trust)
    places = [(f.chain_id, f.seq, f.problem) for f in report.failures]
    assert places == [(LEGACY_CHAIN, 3, Problem.BELOW_CHECKPOINT)]


async def test_a_bundle_of_a_legacy_hop_verifies_offline(upgraded: Upgraded) -> None:
    hops = await MessageLog(upgraded.engine).find(message_id="msg-2")
    bundle = await export_bundle(
        upgraded.engine, upgraded.key, upgraded.pki, hops, now=T0 + timedelta(minutes=1)
    )
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert report.checkpoint_records == OLD_RECORDS
