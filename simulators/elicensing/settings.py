"""ELICENSE's own settings (``KZGATE_ELICENSE_*``): what a new decree or decision changes.

A government decree that moves a day off, a new reading of "1 working day", a new list of goods
under surveillance: each is a setting, so none needs a code change (issue 13 item 10).

- ``KZGATE_ELICENSE_EXTRA_HOLIDAYS='["2026-08-31"]'``: days off the ``holidays`` library does
  not know yet (a transfer decree);
- ``KZGATE_ELICENSE_EXTRA_WORKING_DAYS='["2026-11-28"]'``: weekend days declared working;
  both extras hold for the export pilot's committees too (their desk is part of ELICENSE);
- ``KZGATE_ELICENSE_DEADLINE_RULES='{"LICENCE": "end-of-day", "PERMIT": "end-of-day"}'`` and
  ``KZGATE_ELICENSE_DEADLINE_WORKING_DAYS='{"LICENCE": 1, "PERMIT": 1}'``: the term of each
  service (LR p.5 and PR p.5: 1 working day; ``DeadlineRule`` for the readings);
- ``KZGATE_ELICENSE_RECORDS_DIR``: a directory with E-licensing's register files (activity
  licences, quotas, obligations, EAEU-rule parameters, stopped basis documents, surveillance
  goods) to use instead of the packaged ``fixtures/``;
- ``KZGATE_ELICENSE_SUPPORT_AFTER_ATTEMPTS``: failed attempts in a row that make an incident
  for the operator's support desk (LR p.8);
- ``KZGATE_ELICENSE_WORKERS``: deciding workers of this process (applications in flight at
  once); ``KZGATE_ELICENSE_CLAIM_LEASE_SECONDS``: how long a worker's claim on an application
  holds unrenewed before another worker may take it over (a live worker renews it every third
  of the lease, so only a crashed or stalled worker's runs out).

Read when ELICENSE is assembled: a change takes effect on its next start. A deadline already
given to an application is not moved by a later decree (it was announced at registration).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from simulators.elicensing.claims import DEFAULT_LEASE_SECONDS
from simulators.elicensing.store import Kind
from simulators.kit.calendar import (
    TRADE_COMMITTEE_HOURS,
    DeadlineRule,
    WorkingCalendar,
    WorkingHours,
)

# Decisions wait on the gateway (facts, deliveries), not on this process's CPU.
DEFAULT_WORKERS = 8
SLA_WORKING_DAYS = 1  # licence rules p.5 / permit rules p.5: 1 working day [seed 002]


class ElicenseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KZGATE_ELICENSE_", extra="ignore")

    extra_holidays: tuple[date, ...] = ()
    extra_working_days: tuple[date, ...] = ()
    deadline_rules: dict[Kind, DeadlineRule] = Field(
        default_factory=lambda: dict.fromkeys(Kind, DeadlineRule.END_OF_DAY)
    )
    deadline_working_days: dict[Kind, int] = Field(
        default_factory=lambda: dict.fromkeys(Kind, SLA_WORKING_DAYS)
    )
    records_dir: Path | None = None
    support_after_attempts: int = Field(default=3, ge=1)
    workers: int = Field(default=DEFAULT_WORKERS, ge=1)
    claim_lease_seconds: float = Field(default=DEFAULT_LEASE_SECONDS, gt=0)

    def calendar(self, kind: Kind) -> WorkingCalendar:
        """The Trade Committee's calendar for ``kind``, with the decreed extras and its rule."""
        return WorkingCalendar(
            TRADE_COMMITTEE_HOURS,
            extra_holidays=self.extra_holidays,
            extra_working_days=self.extra_working_days,
            deadline_rule=self.deadline_rules.get(kind, DeadlineRule.END_OF_DAY),
        )

    def calendar_of(self, hours: WorkingHours) -> WorkingCalendar:
        """Another body's hours (the pilot's committees) on the days these settings decree."""
        return WorkingCalendar(
            hours, extra_holidays=self.extra_holidays, extra_working_days=self.extra_working_days
        )

    def working_days(self, kind: Kind) -> int:
        return self.deadline_working_days.get(kind, SLA_WORKING_DAYS)
