"""What the console shows and does, as plain data: the pages, the JSON API and the CLI twins
all call these, so the three can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import TrustStore
from gateway.channels.context import GatewayContext
from gateway.console.diagram import FlowView, flow_view
from gateway.console.systems import NotFound, SystemsView
from gateway.messagelog.bundle import export_bundle, hop_signature
from gateway.messagelog.chain import (
    GENESIS_HASH,
    body_digest,
    compute_record_hash,
    format_time,
)
from gateway.messagelog.checkpoint import latest_checkpoint, make_checkpoint
from gateway.messagelog.flows import find_flow
from gateway.messagelog.records import Direction, StoredRecord
from gateway.messagelog.schema import from_row, records, traces
from gateway.messagelog.verify import verify_log

_FINAL = (Direction.RESPONSE_OUT.value, Direction.FAULT_OUT.value)


@dataclass
class ConsoleBackend:
    context: GatewayContext
    engine: AsyncEngine
    ops: httpx2.AsyncClient

    # --- catalogue, SLA board and the testers' controls: the systems' side -------------------

    @property
    def systems(self) -> SystemsView:
        return SystemsView(self.context.registry, self.context.settings, self.ops)

    def catalogue(self) -> dict[str, Any]:
        return self.systems.catalogue()

    def simulated_systems(self) -> list[str]:
        return self.systems.simulated_systems()

    async def sla(self) -> dict[str, dict[str, Any]]:
        return await self.systems.sla_boards()

    async def clocks(self) -> list[dict[str, Any]]:
        return await self.systems.clocks()

    async def set_clock(self, system_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self.systems.set_clock(system_id, body)

    async def faults(self) -> list[dict[str, Any]]:
        return await self.systems.faults()

    async def set_faults(self, system_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self.systems.set_faults(system_id, body)

    # --- live traffic -----------------------------------------------------------------------

    async def traffic(self, **filters: Any) -> list[dict[str, Any]]:
        """The latest exchanges (their last hop), newest first."""
        return await traffic_rows(self.engine, **filters)

    # --- flows ------------------------------------------------------------------------------

    async def flow(self, term: str) -> FlowView:
        return await flow_of(self.engine, self.context.trust, term)

    async def flow_bundle(self, term: str) -> bytes:
        found = await find_flow(self.engine, term)
        if not found.hops:
            raise NotFound(f"no flow matches {term!r}")
        return await export_bundle(
            self.engine,
            self.context.key,
            self.context.settings.pki_dir,
            found.hops,
            now=self.context.clock(),
            query={"flow": term},
        )

    async def hop(self, seq: int) -> dict[str, Any]:
        """One hop: its record, exact bytes, chain check and signature check."""
        return await hop_of(self.engine, self.context.trust, seq)

    # --- the message log's integrity --------------------------------------------------------

    async def integrity(self, *, verify: bool) -> dict[str, Any]:
        checkpoint = await latest_checkpoint(self.engine)
        result: dict[str, Any] = {
            "checkpoint": None
            if checkpoint is None
            else {
                "seq": checkpoint.records,
                "chains": len(checkpoint.heads),
                "headHash": checkpoint.root,
                "madeAt": format_time(checkpoint.made_at),
                "ageSeconds": round((self.context.clock() - checkpoint.made_at).total_seconds()),
            }
        }
        if verify:
            report = await verify_log(self.engine, self.context.trust)
            result["verify"] = {
                "ok": report.ok,
                "recordsChecked": report.records_checked,
                "headSeq": report.head_seq,
                "headHash": report.head_hash,
                "firstBadSeq": report.first_bad_seq,
                "chain": report.chain_id,
                "failures": [str(failure) for failure in report.failures],
                "problem": report.problem.value if report.problem else None,
                "detail": report.detail,
            }
        return result

    async def checkpoint(self) -> dict[str, Any]:
        made = await make_checkpoint(self.engine, self.context.key, self.context.clock())
        return {
            "seq": made.records,
            "chains": len(made.heads),
            "headHash": made.root,
            "madeAt": format_time(made.made_at),
        }

    # --- dead letters -----------------------------------------------------------------------

    async def dead_letters(self) -> list[dict[str, Any]]:
        broker = self.context.broker
        if broker is None:
            return []
        return [
            {
                "messageId": d.message.message_id,
                "correlationId": d.message.correlation_id,
                "queue": d.queue,
                "serviceId": d.message.headers.get("serviceId"),
                "sender": d.message.headers.get("sender"),
                "reason": d.reason,
                "attempts": d.attempts,
                "deadLetteredAt": d.dead_lettered_at.isoformat(timespec="seconds"),
            }
            for d in await broker.dead_letters(1000)
        ]

    async def replay(self, message_id: str) -> dict[str, Any]:
        broker = self.context.broker
        if broker is None or not await broker.replay_dead_letter(message_id):
            raise NotFound(f"no dead letter with messageId {message_id}")
        self.context.metrics.replays.inc()
        return {"replayed": message_id}

    async def delivery_state(self, message_id: str) -> str | None:
        tracked = await self.context.tracker.get(message_id)
        return None if tracked is None else tracked.state.value


async def traffic_rows(
    engine: AsyncEngine,
    *,
    service: str | None = None,
    sender: str | None = None,
    outcome: str | None = None,
    fault: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The latest exchanges (their last hop), newest first."""
    query = select(records).where(records.c.direction.in_(_FINAL))
    if service:
        query = query.where(records.c.service_id == service)
    if sender:
        query = query.where(records.c.receiver_id == sender)  # the answer goes to the caller
    if fault:
        query = query.where(records.c.fault_code == fault)
    if outcome == "ok":
        query = query.where(records.c.direction == Direction.RESPONSE_OUT.value)
    elif outcome == "fault":
        query = query.where(records.c.direction == Direction.FAULT_OUT.value)
    query = query.order_by(records.c.seq.desc()).limit(max(1, min(limit, 1000)))
    async with engine.connect() as conn:
        rows = [from_row(row) for row in await conn.execute(query)]
    return [
        {
            "seq": r.seq,
            "at": format_time(r.recorded_at),
            "serviceId": r.service_id,
            "sender": r.receiver_id,
            "messageId": r.message_id,
            "correlationId": r.correlation_id,
            "outcome": "fault" if r.direction is Direction.FAULT_OUT else "ok",
            "faultCode": r.fault_code,
            "latencyMs": r.elapsed_ms,
        }
        for r in rows
    ]


async def flow_of(engine: AsyncEngine, trust: TrustStore, term: str) -> FlowView:
    found = await find_flow(engine, term)
    return flow_view(found, {hop.seq: signature_of(hop, trust) for hop in found.hops})


def signature_of(hop: StoredRecord, trust: TrustStore) -> str:
    return hop_signature(hop.body, trust, format_time(hop.recorded_at))


async def hop_of(engine: AsyncEngine, trust: TrustStore, seq: int) -> dict[str, Any]:
    """One hop: its record, exact bytes, chain check and signature check."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(records).where(records.c.seq == seq))).first()
        if row is None:
            raise NotFound(f"no record {seq}")
        trace = (await conn.execute(select(traces.c.trace_id).where(traces.c.seq == seq))).scalar()
        hop = from_row(row)
        previous = select(records.c.record_hash).where(
            records.c.chain_id == hop.chain_id, records.c.chain_seq == hop.chain_seq - 1
        )
        before = (await conn.execute(previous)).scalar()
    digest_ok = body_digest(hop.body) == hop.body_sha256
    hash_ok = (
        compute_record_hash(hop.prev_hash, hop.chain_id, hop.chain_seq, hop, hop.body_sha256)
        == hop.record_hash
    )
    linked = hop.prev_hash == (before if hop.chain_seq > 1 else GENESIS_HASH)
    return {
        "record": _record_json(hop),
        "traceId": trace,
        "body": hop.body,
        "chain": {
            "bodyMatchesDigest": digest_ok,
            "recordMatchesHash": hash_ok,
            "linksToPrevious": linked,
            "ok": digest_ok and hash_ok and linked,
        },
        "signature": signature_of(hop, trust),
    }


def _record_json(hop: StoredRecord) -> dict[str, Any]:
    return {
        "seq": hop.seq,
        "recordedAt": format_time(hop.recorded_at),
        "messageId": hop.message_id,
        "correlationId": hop.correlation_id,
        "serviceId": hop.service_id,
        "sender": hop.sender_id,
        "receiver": hop.receiver_id,
        "direction": hop.direction.value,
        "outcome": hop.outcome.value,
        "faultCode": hop.fault_code,
        "securityPolicy": hop.security_policy,
        "elapsedMs": hop.elapsed_ms,
        "bodySize": hop.body_size,
        "bodySha256": hop.body_sha256,
        "prevHash": hop.prev_hash,
        "recordHash": hop.record_hash,
    }
