"""KEDEN's calendar settings (``KZGATE_KEDEN_*``): a decree that moves a day off reaches customs'
deadlines without a code change.

- ``KZGATE_KEDEN_EXTRA_HOLIDAYS='["2026-08-31"]'``: days off the ``holidays`` library does not
  know yet (a transfer decree);
- ``KZGATE_KEDEN_EXTRA_WORKING_DAYS='["2026-11-28"]'``: weekend days declared working.

KEDEN is its own information system with its own operator, so it has its own settings rather
than ELICENSE's ``KZGATE_ELICENSE_EXTRA_*``: a decree for every state body is set in both (the
README's configuration table says so), and a tester can rehearse the two disagreeing. Read when
KEDEN is assembled: a change takes effect on its next start.
"""

from __future__ import annotations

from datetime import date

from pydantic_settings import BaseSettings, SettingsConfigDict

from simulators.customs.declarations import CUSTOMS_HOURS
from simulators.kit.calendar import WorkingCalendar


class KedenSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KZGATE_KEDEN_", extra="ignore")

    extra_holidays: tuple[date, ...] = ()
    extra_working_days: tuple[date, ...] = ()

    def calendar(self) -> WorkingCalendar:
        """Customs' working calendar with the decreed extras."""
        return WorkingCalendar(
            CUSTOMS_HOURS,
            extra_holidays=self.extra_holidays,
            extra_working_days=self.extra_working_days,
        )


__all__ = ["KedenSettings"]
