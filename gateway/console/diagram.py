"""A flow as a sequence diagram: one lifeline per system, one arrow per hop, in chain order.

The geometry is computed here and drawn by the template as SVG, so the page needs no script.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors import GATEWAY_ID
from gateway.messagelog.chain import format_time
from gateway.messagelog.flows import Flow

COLUMN = 170  # px between lifelines
ROW = 46  # px between arrows
TOP = 56  # px above the first arrow (the participants' boxes)


@dataclass(frozen=True)
class HopRow:
    number: int
    seq: int
    at: str
    offset_ms: int
    direction: str
    sender: str
    receiver: str
    service_id: str
    message_id: str
    correlation_id: str | None
    outcome: str
    fault_code: str | None
    signature: str
    x1: int
    x2: int
    y: int

    @property
    def signature_ok(self) -> bool:
        return self.signature.startswith("valid")

    @property
    def label(self) -> str:
        return f"{self.number}. {self.service_id}"

    @property
    def detail(self) -> str:
        fault = f" · {self.fault_code}" if self.fault_code else ""
        return f"{self.direction} · +{self.offset_ms} ms{fault}"


@dataclass(frozen=True)
class FlowView:
    term: str
    participants: list[tuple[str, int]]  # (system, x of its lifeline)
    rows: list[HopRow] = field(default_factory=list)
    trace_ids: list[str] = field(default_factory=list)
    correlation_ids: list[str] = field(default_factory=list)

    @property
    def width(self) -> int:
        return max(1, len(self.participants)) * COLUMN

    @property
    def height(self) -> int:
        return TOP + ROW * len(self.rows) + 20

    @property
    def duration_ms(self) -> int:
        return self.rows[-1].offset_ms if self.rows else 0

    @property
    def faults(self) -> int:
        return sum(1 for r in self.rows if r.fault_code)


def _participants(flow: Flow) -> list[str]:
    order: list[str] = []
    for hop in flow.hops:
        for system in (hop.sender_id, hop.receiver_id or "?"):
            if system not in order:
                order.append(system)
    # The gateway stands second: callers on its left, providers on its right.
    if GATEWAY_ID in order and len(order) > 1:
        order.remove(GATEWAY_ID)
        order.insert(1, GATEWAY_ID)
    return order


def flow_view(flow: Flow, signatures: dict[int, str]) -> FlowView:
    names = _participants(flow)
    x = {name: COLUMN // 2 + i * COLUMN for i, name in enumerate(names)}
    start = flow.hops[0].recorded_at if flow.hops else None
    rows = []
    for number, hop in enumerate(flow.hops, start=1):
        receiver = hop.receiver_id or "?"
        offset = (hop.recorded_at - start).total_seconds() * 1000 if start else 0.0
        rows.append(
            HopRow(
                number=number,
                seq=hop.seq,
                at=format_time(hop.recorded_at),
                offset_ms=round(offset),
                direction=hop.direction.value,
                sender=hop.sender_id,
                receiver=receiver,
                service_id=hop.service_id,
                message_id=hop.message_id,
                correlation_id=hop.correlation_id,
                outcome=hop.outcome.value,
                fault_code=hop.fault_code,
                signature=signatures.get(hop.seq, "-"),
                x1=x[hop.sender_id],
                x2=x[receiver],
                y=TOP + ROW * (number - 1) + ROW // 2,
            )
        )
    return FlowView(
        term=flow.term,
        participants=[(name, x[name]) for name in names],
        rows=rows,
        trace_ids=flow.trace_ids,
        correlation_ids=flow.correlation_ids,
    )
