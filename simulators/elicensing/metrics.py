"""ELICENSE's business metrics, read from its registers at scrape time: its licence and permit
applications, and the export pilot's permit applications decided on the committees' desk.

Both become ``Case`` values of the kit's ``service_level`` (in progress, decided by outcome,
refused by ground, missed deadlines, time to decision), labelled ``system="ELICENSE"`` and the
kind: ``LICENCE``, ``PERMIT`` or ``EXPORT_PILOT``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from prometheus_client.core import Metric

from simulators.elicensing.export_pilot.desk import StepView
from simulators.elicensing.export_pilot.rules import GROUND_TITLES as PILOT_GROUNDS
from simulators.elicensing.export_pilot.store import PilotApplication
from simulators.elicensing.grounds import GroundCode
from simulators.elicensing.sla import is_missed
from simulators.elicensing.store import Application
from simulators.kit.service_level import Case, bounded, case_families

__all__ = ["EXPORT_PILOT", "SYSTEM", "application_families"]

SYSTEM = "ELICENSE"
EXPORT_PILOT = "EXPORT_PILOT"
_GROUNDS = frozenset(g.value for g in GroundCode)
_PILOT_GROUNDS = frozenset(str(code) for code in PILOT_GROUNDS)
Steps = Callable[[PilotApplication, datetime], Sequence[StepView]]


def application_families(
    apps: Sequence[Application],
    now: datetime,
    pilot: Sequence[PilotApplication] = (),
    pilot_steps: Steps | None = None,
) -> list[Metric]:
    """``pilot_steps``: the desk's steps of a pilot application with their lateness (``Desk.steps``,
    which knows the committees' calendar)."""
    cases = [_licensing_case(a, now) for a in apps]
    cases += [_pilot_case(a, now, pilot_steps) for a in pilot]
    return case_families(SYSTEM, cases)


def _licensing_case(app: Application, now: datetime) -> Case:
    decided = app.completed_at if app.outcome is not None else None
    return Case(
        kind=app.kind.value,
        started_at=app.registered_at,
        decided_at=decided,
        outcome=app.outcome.value if decided and app.outcome else None,
        missed=is_missed(app, now),
        grounds=tuple(bounded(code, _GROUNDS) for code in app.ground_codes),
    )


def _pilot_case(app: PilotApplication, now: datetime, steps: Steps | None) -> Case:
    """Decided when the head signed (the permit or the refusal); the term runs from
    registration (Annex 1 row 3), from receipt while nobody has registered it yet."""
    decided = app.signed_at if app.outcome else None
    grounds = [str(g["code"]) for g in app.grounds_list()] if app.outcome == "REFUSED" else []
    return Case(
        kind=EXPORT_PILOT,
        started_at=app.registered_at or app.received_at,
        decided_at=decided,
        outcome=app.outcome if decided else None,
        missed=bool(app.late_steps) or any(s.late for s in (steps(app, now) if steps else ())),
        grounds=tuple(bounded(code, _PILOT_GROUNDS) for code in grounds),
    )
