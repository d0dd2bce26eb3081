"""ELICENSE's service level: whether an application missed its deadline, and the SLA report.

The deadline is one working day from registration (``WorkingCalendar``); latency is measured
from registration to completion in business seconds. ``/ops/sla``, ``/ops/applications``,
``kzgate status`` and the metrics read it from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from connectors import format_datetime
from simulators.elicensing.store import Application, Outcome
from simulators.kit.service_level import percentile

# --- SLA -----------------------------------------------------------------------------------------


def is_missed(app: Application, now: datetime) -> bool:
    """Completed after the deadline, or still open past it (whether or not the worker saw it)."""
    if app.completed_at is not None:
        return app.missed or app.completed_at > app.deadline
    return app.missed or now > app.deadline


def application_json(app: Application, now: datetime) -> dict[str, object]:
    latency = _latency(app)
    return {
        "registrationNumber": app.number,
        "kind": app.kind.value,
        "applicantId": app.applicant_id,
        "state": app.state.value,
        "outcome": app.outcome.value if app.outcome else None,
        "grounds": list(app.ground_codes),
        "reason": app.reason,
        "documentNumber": app.document_number,
        "filedAt": format_datetime(app.filed_at),
        "registeredAt": format_datetime(app.registered_at),
        "deadline": format_datetime(app.deadline),
        "completedAt": format_datetime(app.completed_at) if app.completed_at else None,
        "latencySeconds": latency,
        "missed": is_missed(app, now),
        "delivered": {
            "portal": app.sent_portal,
            "keden": app.sent_keden,
            "stages": {
                "REGISTERED": app.stage_registered,
                "IN_WORK": app.stage_in_work,
                "DECIDED": app.stage_decided,
                "DELIVERED": app.stage_delivered,
            },
        },
        "attempts": app.attempts,
        "lastError": app.last_error,
        "alarm": app.alarm,
    }


def sla_report(apps: Sequence[Application], now: datetime) -> dict[str, object]:
    """Counts, latency percentiles (registration → completion, business seconds), per-app list."""
    done = [a for a in apps if a.completed_at is not None]
    latencies = sorted(x for a in done if (x := _latency(a)) is not None)
    return {
        "now": format_datetime(now),
        "total": len(apps),
        "issued": sum(1 for a in done if a.outcome is Outcome.ISSUED),
        "refused": sum(1 for a in done if a.outcome is Outcome.REFUSED),
        "notIssued": sum(1 for a in done if a.outcome is Outcome.NOT_ISSUED),
        "inProgress": sum(1 for a in apps if a.completed_at is None),
        "missed": sum(1 for a in apps if is_missed(a, now)),
        # Applications that wait for someone to act (e.g. an MRP to be set): listed up front.
        "alarms": [
            {"registrationNumber": a.number, "alarm": a.alarm} for a in apps if a.alarm is not None
        ],
        "latencySeconds": {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)},
        "applications": [application_json(a, now) for a in apps],
    }


def _latency(app: Application) -> float | None:
    if app.completed_at is None:
        return None
    return max(0.0, (app.completed_at - app.registered_at).total_seconds())
