"""One chain per writer, and signed checkpoints over all of them: concurrent writers verify; an
edited record, a removed chain, a chain cut back below a checkpoint, a rewritten chain and a
forged checkpoint are each found and named (chain, seq, what). On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import TransportKey, TrustStore
from connectors.db import create_engine
from gateway.messagelog import (
    ChainHead,
    MessageLog,
    Problem,
    VerifyReport,
    compute_record_hash,
    make_checkpoint,
    merkle_root,
    verify_log,
)
from gateway.messagelog.bundle import export_bundle, verify_bundle
from gateway.messagelog.checkpoint import build_checkpoint
from gateway.messagelog.schema import chains, checkpoints, from_row, records
from tests.messagelog.hops import T0, hop
from tests.pki import make_test_pki

WRITERS = 3
PER_WRITER = 40


@dataclass(frozen=True)
class Keys:
    trust: TrustStore
    gateway: TransportKey
    other: TransportKey  # a valid key of the same CA that is not the gateway's
    pki: Path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    pki = make_test_pki(tmp_path_factory.mktemp("pki"), ["GATEWAY", "ELICENSE"])
    return Keys(
        TrustStore.from_dir(pki),
        TransportKey.from_files(pki / "GATEWAY.pem", pki / "GATEWAY.key"),
        TransportKey.from_files(pki / "ELICENSE.pem", pki / "ELICENSE.key"),
        pki,
    )


@dataclass
class Written:
    engine: AsyncEngine
    chain_ids: list[str]
    keys: Keys

    async def verify(self) -> VerifyReport:
        return await verify_log(self.engine, self.keys.trust)

    async def checkpoint(self, minutes: int = 1) -> None:
        await make_checkpoint(self.engine, self.keys.gateway, T0 + timedelta(minutes=minutes))


@pytest.fixture
async def written(engine: AsyncEngine, db_url: str, keys: Keys) -> AsyncIterator[Written]:
    """WRITERS logs, each on its own engine (as separate processes), appending concurrently."""
    engines = [create_engine(db_url) for _ in range(WRITERS)]
    logs = [MessageLog(e, instance_id=f"host{n}", batch_size=8) for n, e in enumerate(engines)]
    try:
        for log in logs:
            await log.start()
        await asyncio.gather(
            *(
                logs[n % WRITERS].append(hop(n, correlation_id=f"c{n % WRITERS}"))
                for n in range(WRITERS * PER_WRITER)
            )
        )
        for log in logs:
            await log.close()
        yield Written(engine, sorted(log.chain_id for log in logs), keys)
    finally:
        for e in engines:
            await e.dispose()


def assert_fails_at(report: VerifyReport, chain_id: str, seq: int | None, problem: Problem) -> None:
    assert not report.ok
    places = [(f.chain_id, f.seq, f.problem) for f in report.failures]
    assert (chain_id, seq, problem) in places, report.failures


async def test_concurrent_writers_write_one_chain_each_and_all_verify(written: Written) -> None:
    assert len(written.chain_ids) == WRITERS
    assert all(cid.startswith(f"host{n}/") for n, cid in enumerate(written.chain_ids))
    await written.checkpoint()
    report = await written.verify()
    assert report.ok, report.failures
    assert (report.chains_checked, report.records_checked) == (WRITERS, WRITERS * PER_WRITER)
    assert report.checkpoints_checked == 1 and report.signatures_checked
    async with written.engine.connect() as conn:
        lengths = dict((await conn.execute(select(chains.c.chain_id, chains.c.length))).all())
    assert lengths == dict.fromkeys(written.chain_ids, PER_WRITER)


async def test_a_writer_closing_with_the_key_signs_a_checkpoint_over_every_chain(
    engine: AsyncEngine, keys: Keys
) -> None:
    async with MessageLog(engine, instance_id="a") as first:
        await first.append(hop(1))
    log = MessageLog(engine, instance_id="b", key=keys.gateway, clock=lambda: T0)
    async with log:
        await log.append(hop(2))
        await log.append(hop(3))
    async with engine.connect() as conn:
        rows = (await conn.execute(select(checkpoints))).all()
    assert [(row.chains, row.records) for row in rows] == [(2, 3)]
    assert (await verify_log(engine, keys.trust)).ok


async def test_an_edited_record_is_named_by_chain_and_seq(written: Written) -> None:
    await written.checkpoint()
    victim = written.chain_ids[1]
    async with written.engine.begin() as conn:
        await conn.execute(
            update(records)
            .where(records.c.chain_id == victim, records.c.chain_seq == 7)
            .values(sender_id="KEDEN")
        )
    report = await written.verify()
    assert_fails_at(report, victim, 7, Problem.EDITED)
    assert len(report.failures) == 1  # the other chains are intact and said nothing
    assert report.records_checked == 2 * PER_WRITER + 6


async def test_a_chain_removed_after_a_checkpoint_is_found(written: Written) -> None:
    await written.checkpoint()
    victim = written.chain_ids[0]
    async with written.engine.begin() as conn:
        await conn.execute(delete(records).where(records.c.chain_id == victim))
        await conn.execute(delete(chains).where(chains.c.chain_id == victim))
    report = await written.verify()
    assert_fails_at(report, victim, None, Problem.CHAIN_REMOVED)
    assert "signed it at length 40" in str(report.failures[0])


async def test_a_chain_removed_before_any_checkpoint_is_not_claimed_found(
    written: Written,
) -> None:
    # The limit README states: what no checkpoint ever signed can vanish without a trace.
    victim = written.chain_ids[0]
    async with written.engine.begin() as conn:
        await conn.execute(delete(records).where(records.c.chain_id == victim))
        await conn.execute(delete(chains).where(chains.c.chain_id == victim))
    assert (await written.verify()).ok


async def test_a_chain_truncated_after_its_checkpoint_is_found(written: Written) -> None:
    await written.checkpoint()
    victim = written.chain_ids[2]
    # Cut the last five records and rewind the chain's row to match: the chain alone is
    # consistent again, only the checkpoint remembers how long it was.
    async with written.engine.begin() as conn:
        await conn.execute(
            delete(records).where(records.c.chain_id == victim, records.c.chain_seq > 35)
        )
        last = select(records.c.record_hash).where(
            records.c.chain_id == victim, records.c.chain_seq == 35
        )
        head_hash = (await conn.execute(last)).scalar()
        await conn.execute(
            update(chains).where(chains.c.chain_id == victim).values(length=35, head_hash=head_hash)
        )
    report = await written.verify()
    assert_fails_at(report, victim, 36, Problem.BELOW_CHECKPOINT)
    assert len(report.failures) == 1


async def test_a_chain_rewritten_under_its_checkpoint_is_found(written: Written) -> None:
    await written.checkpoint()
    victim = written.chain_ids[1]
    # Edit record 3 and recompute every hash after it and the chain's row: a perfect forgery of
    # the chain, which only the signed head contradicts.
    async with written.engine.begin() as conn:
        rows = (
            await conn.execute(
                select(records).where(records.c.chain_id == victim).order_by(records.c.chain_seq)
            )
        ).all()
        prev = rows[1].record_hash
        for row in rows[2:]:
            stored = from_row(row)
            if row.chain_seq == 3:
                stored = type(stored)(**{**stored.__dict__, "sender_id": "KEDEN"})
            link = compute_record_hash(prev, victim, row.chain_seq, stored, row.body_sha256)
            await conn.execute(
                update(records)
                .where(records.c.seq == row.seq)
                .values(sender_id=stored.sender_id, prev_hash=prev, record_hash=link)
            )
            prev = link
        await conn.execute(update(chains).where(chains.c.chain_id == victim).values(head_hash=prev))
    report = await written.verify()
    assert_fails_at(report, victim, PER_WRITER, Problem.CHECKPOINT_MISMATCH)


async def test_a_forged_checkpoint_is_refused(written: Written) -> None:
    await written.checkpoint()
    async with written.engine.begin() as conn:
        row = (await conn.execute(select(checkpoints))).one()
        # Claim a shorter chain than was signed, keeping the signature: it no longer verifies.
        doc = etree.fromstring(row.envelope)
        length = doc.find(".//{urn:kzgate:messagelog:v1}length")
        length.text = "1"
        await conn.execute(
            update(checkpoints)
            .where(checkpoints.c.id == row.id)
            .values(envelope=etree.tostring(doc, xml_declaration=True, encoding="UTF-8"))
        )
    report = await written.verify()
    assert_fails_at(report, None, None, Problem.CHECKPOINT_INVALID)
    assert f"checkpoint #{row.id}" in report.detail and "signature does not verify" in report.detail


async def test_a_checkpoint_signed_by_another_system_is_refused(written: Written) -> None:
    heads = [ChainHead(cid, 1, "0" * 64) for cid in written.chain_ids]  # a shorter history
    envelope = build_checkpoint(heads, T0, written.keys.other)
    async with written.engine.begin() as conn:
        await conn.execute(
            checkpoints.insert().values(
                made_at=T0,
                merkle_root=merkle_root(heads),
                chains=len(heads),
                records=len(heads),
                envelope=envelope,
            )
        )
    report = await written.verify()
    assert report.failures[0].problem is Problem.CHECKPOINT_INVALID
    assert "signed by ELICENSE, not the gateway" in report.detail
    # Its claims were not believed: the chains' own first records are not "mismatches".
    assert len(report.failures) == 1


async def test_without_a_trust_store_the_report_says_signatures_were_not_checked(
    written: Written,
) -> None:
    await written.checkpoint()
    report = await verify_log(written.engine)
    assert report.ok and not report.signatures_checked and report.checkpoints_checked == 1


def test_the_merkle_root_covers_every_head_whatever_the_order() -> None:
    heads = [ChainHead(f"h/{n}/x", n, f"{n:064x}") for n in range(5)]
    root = merkle_root(heads)
    assert merkle_root(reversed(heads)) == root
    assert merkle_root(heads[:4]) != root  # a chain left out
    longer = [*heads[:4], ChainHead("h/4/x", 5, heads[4].head_hash)]
    assert merkle_root(longer) != root  # a length changed
    assert merkle_root([]) != merkle_root(heads[:1])


async def test_appends_after_a_checkpoint_keep_verifying(written: Written) -> None:
    await written.checkpoint()
    async with MessageLog(written.engine, instance_id="late") as log:
        await log.append(hop(999))
    await written.checkpoint(minutes=2)
    report = await written.verify()
    assert report.ok, report.failures
    assert (report.chains_checked, report.checkpoints_checked) == (WRITERS + 1, 2)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_a_writer_held_up_inside_its_transaction_holds_up_no_other_writer(
    engine: AsyncEngine, db_url: str
) -> None:
    other = create_engine(db_url)
    try:
        async with (
            MessageLog(engine, instance_id="a") as a,
            MessageLog(other, instance_id="b") as b,
        ):
            await a.append(hop(1))
            await b.append(hop(2))
            async with engine.connect() as stuck, stuck.begin():
                # What writer a's own transaction holds while it appends: its chain's row.
                row = select(chains).where(chains.c.chain_id == a.chain_id).with_for_update()
                await stuck.execute(row)
                stored = await asyncio.wait_for(b.append(hop(3)), timeout=10)
            assert (stored.chain_id, stored.chain_seq) == (b.chain_id, 2)
    finally:
        await other.dispose()


async def test_a_bundle_proves_hops_of_two_chains_through_one_checkpoint(written: Written) -> None:
    log = MessageLog(written.engine)
    hops = [*await log.find(correlation_id="c0"), *await log.find(correlation_id="c2")]
    hops = [h for h in hops if h.chain_seq in (5, 6)]  # two hops from each of two chains
    assert len({h.chain_id for h in hops}) == 2
    keys = written.keys
    bundle = await export_bundle(
        written.engine, keys.gateway, keys.pki, hops, now=T0 + timedelta(minutes=1)
    )
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert len(report.hops) == 4 and report.checkpoint_records == WRITERS * PER_WRITER

    # One record of the second chain edited in the manifest: that chain, that record, is named.
    with zipfile.ZipFile(io.BytesIO(bundle)) as source:
        files = {name: source.read(name) for name in source.namelist()}
    manifest = json.loads(files["manifest.json"])
    second = sorted({h.chain_id for h in hops})[1]
    entry = next(e for e in manifest["records"] if e["chain_id"] == second and not e["hop"])
    entry["sender_id"] = "KEDEN"
    files["manifest.json"] = json.dumps(manifest).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, data in files.items():
            target.writestr(name, data)
    tampered = verify_bundle(out.getvalue())
    assert tampered.problems == [
        f"record {entry['chain_seq']} of chain {second}: its record was edited "
        "(fields do not match its hash)"
    ]
