"""The scenario format's common terms: the strict base of every model (unknown keys are errors),
spans of business time, the moments of a filing, and the default applicant.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

__all__ = ["DEFAULT_APPLICANT", "Duration", "Moment", "Strict"]

# ТОО «Алтын Дала Агро», ACTIVE in the GBDUL fixtures: the applicant unless a scenario says else.
DEFAULT_APPLICANT = "170640582744"


class Strict(BaseModel):
    """A scenario model: unknown keys are errors, a misspelt field never checks nothing."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Duration(Strict):
    """A span of business time; ``working_days`` follow the Trade Committee's KZ calendar."""

    days: float = 0
    hours: float = 0
    minutes: float = 0
    working_days: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _not_empty(self) -> Duration:
        if not (self.days or self.hours or self.minutes or self.working_days):
            raise ValueError("a duration needs days, hours, minutes or working_days")
        if min(self.days, self.hours, self.minutes) < 0:
            raise ValueError("business time only moves forward")
        return self

    def plain(self) -> dt.timedelta:
        return dt.timedelta(days=self.days, hours=self.hours, minutes=self.minutes)

    def text(self) -> str:
        parts = [
            f"{value:g} {unit}"
            for value, unit in (
                (self.working_days, "working days"),
                (self.days, "days"),
                (self.hours, "hours"),
                (self.minutes, "minutes"),
            )
            if value
        ]
        return " ".join(parts)


class Moment(StrEnum):
    """Moments of a filed application the clock can be moved to."""

    REGISTERED = "registered"
    DEADLINE = "deadline"
