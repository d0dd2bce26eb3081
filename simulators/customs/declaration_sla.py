"""How KEDEN's declarations stand against their terms: registration within 2 working hours of
submission (Annex 5 para 5(1)), release by the deadline set when control starts.

``GET /ops/declarations/sla`` (the console's SLA board, ``kzgate status``) and ``/metrics`` read
it from here: declarations in progress, decided (released, registration or release refused),
refused by reason code, missed deadlines and the time from submission to decision. A
declaration missed its term when it was registered or decided late, or is still waiting past
its deadline now.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from prometheus_client.core import Metric

from connectors import format_datetime
from simulators.customs.declaration_rows import Declaration
from simulators.customs.declarations import DeclarationStatus
from simulators.kit.service_level import OTHER, Case, case_families, percentile

__all__ = ["EXPORT_DECLARATION", "declaration_families", "is_missed", "sla_report"]

SYSTEM = "KEDEN"
EXPORT_DECLARATION = "EXPORT_DECLARATION"
# Reason codes are the program's constants (PERMIT_NOT_VALID, NOT_IN_REGISTER_CARRIER …); a label
# takes nothing else.
_REASON_CODE = re.compile(r"^[A-Z][A-Z_]{0,63}$")
_REFUSED = (DeclarationStatus.REGISTRATION_REFUSED, DeclarationStatus.RELEASE_REFUSED)


def is_missed(declaration: Declaration, now: datetime) -> bool:
    d = declaration
    if d.registration_late or d.release_late:
        return True
    if d.status is DeclarationStatus.SUBMITTED:
        return now > d.registration_deadline
    if not d.status.final and d.release_deadline is not None:
        return now > d.release_deadline
    return False


def declaration_case(declaration: Declaration, now: datetime) -> Case:
    d = declaration
    decided = d.decided_at if d.status.final else None
    grounds = [r.code for r in d.reasons] if d.status in _REFUSED else []
    return Case(
        kind=EXPORT_DECLARATION,
        started_at=d.submitted_at,
        decided_at=decided,
        outcome=d.status.value if decided else None,
        missed=is_missed(d, now),
        grounds=tuple(code if _REASON_CODE.match(code) else OTHER for code in grounds),
    )


def declaration_families(declarations: Sequence[Declaration], now: datetime) -> list[Metric]:
    return case_families(SYSTEM, [declaration_case(d, now) for d in declarations])


def sla_report(declarations: Sequence[Declaration], now: datetime) -> dict[str, object]:
    """Counts and latency percentiles (submission → decision, business seconds)."""
    cases = [declaration_case(d, now) for d in declarations]
    latencies = sorted(s for c in cases if (s := c.seconds_to_decision) is not None)
    return {
        "now": format_datetime(now),
        "total": len(cases),
        "inProgress": sum(1 for c in cases if c.decided_at is None),
        "released": sum(1 for c in cases if c.outcome == DeclarationStatus.RELEASE_PERMITTED),
        "refused": sum(1 for c in cases if c.outcome in _REFUSED),
        "missed": sum(1 for c in cases if c.missed),
        "latencySeconds": {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)},
    }
