"""The working-day calendar of a state-service provider: days, hours, registration, deadlines.

This module owns the answer to "is the provider working now?" and "when is this due?":

- Days: Mon–Fri minus Kazakhstan's public holidays, plus the weekend days the government declared
  working (transfers of days off). Both come from the maintained ``holidays`` library
  (``holidays.country_holidays("KZ")``): its transferred days off are holidays ("Day off
  (substituted from …)"), and the weekend days moved to work are in ``weekend_workdays`` and
  honoured by its ``is_working_day``. ``extra_holidays``/``extra_working_days`` cover a decree the
  library does not know yet.
- Hours: per service (``WorkingHours``), with a lunch break; presets from the legal texts.
- Registration: the portal takes filings 24/7; a filing outside working time is registered at the
  start of the next working period [seed 002 §10].
- Deadlines: "N working days from registration", see ``DeadlineRule`` for the readings.

All moments are aware datetimes; the calendar works in Kazakhstan time (UTC+5) and answers in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

import holidays

from connectors.roster import WorkingHours, roster_entry
from simulators.kit.clock import KZ_TIME, require_aware

# A calendar whose every day is a holiday (a misconfiguration) must fail, not loop forever.
_MAX_DAYS_TO_NEXT_WORKING_DAY = 400


# [seed 002 §10] Trade Committee: Mon–Fri 09:00–18:00, lunch 13:00–14:00: ELICENSE's working
# day, which the roster of systems states (a system's hours are the roster's).
TRADE_COMMITTEE_HOURS = roster_entry("ELICENSE").office_hours()
# [seeds 000, 001] medicines permits, end-user certificates: 09:00–18:30, lunch 13:00–14:30.
MEDICINES_AND_EUC_HOURS = WorkingHours(time(9), time(18, 30), time(13), time(14, 30))
# [seed 003] export-pilot committees: 09:00–17:30, lunch 12:30–14:30.
EXPORT_PILOT_HOURS = WorkingHours(time(9), time(17, 30), time(12, 30), time(14, 30))

HOURS_BY_SEED: dict[str, WorkingHours] = {
    "000": MEDICINES_AND_EUC_HOURS,
    "001": MEDICINES_AND_EUC_HOURS,
    "002": TRADE_COMMITTEE_HOURS,
    "003": EXPORT_PILOT_HOURS,
}


class DeadlineRule(StrEnum):
    """How "N working days from registration" becomes a moment [seed 002 §4.C: UNCERTAIN].

    END_OF_DAY (default): the end of working hours of the N-th working day AFTER the registration
      day. This is how Kazakh law computes terms in general — a term counted in days starts on the
      day after the event that opens it, and an act to be done in an organisation may be done
      until that organisation's working hours end on the last day (Civil Code of RK, general
      rules on terms). It is also the reading that never shortens the provider's time: a filing
      registered at 17:59 still gets a whole working day.
    SAME_TIME: the same time of day on the N-th working day after registration (N × 24 hours
      with non-working days skipped).
    REGISTRATION_DAY: the registration day counts as day 1; 1 working day = the end of the
      registration day itself (the other reading the digest names).
    """

    END_OF_DAY = "end-of-day"
    SAME_TIME = "same-time"
    REGISTRATION_DAY = "registration-day"


class WorkingCalendar:
    """Working days and hours of one provider, in Kazakhstan time.

    ``lunch_delays_registration``: a filing during lunch is registered when lunch ends (True, the
    default: registration happens in working time and the lunch break is not working time), or at
    once (False: the law's off-hours rule names only after-hours, weekends and holidays). Under
    the default ``END_OF_DAY`` rule both give the same deadline.
    """

    def __init__(
        self,
        hours: WorkingHours,
        *,
        extra_holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        deadline_rule: DeadlineRule = DeadlineRule.END_OF_DAY,
        lunch_delays_registration: bool = True,
        tz: tzinfo = KZ_TIME,
    ) -> None:
        self.hours = hours
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_working_days = frozenset(extra_working_days)
        if both := self.extra_holidays & self.extra_working_days:
            raise ValueError(f"dates both holiday and working day: {sorted(both)}")
        self.deadline_rule = DeadlineRule(deadline_rule)
        self.lunch_delays_registration = lunch_delays_registration
        self.tz = tz
        # expand=True: a year is loaded the first time a date in it is asked about.
        self._public = holidays.country_holidays("KZ", language="en_US", expand=True)

    # --- days ------------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        if day in self.extra_holidays:
            return False
        # The library's rule: a weekend day works only if declared (weekend_workdays), a weekday
        # works unless it is a holiday — transferred days off included.
        return bool(self._public.is_working_day(day))

    def holidays_in(self, year: int) -> dict[date, str]:
        """The days off other than weekends in ``year`` (library + extra), with their names."""
        self._load(year)
        named = {d: n for d, n in self._public.items() if d.year == year}
        named.update({d: "extra holiday" for d in self.extra_holidays if d.year == year})
        return {d: named[d] for d in sorted(named) if d not in self.extra_working_days}

    def working_weekend_days(self, year: int) -> list[date]:
        """Saturdays and Sundays declared working days in ``year`` (moved working days)."""
        self._load(year)
        declared = {d for d in self._public.weekend_workdays if d.year == year}
        declared |= {d for d in self.extra_working_days if d.year == year and d.weekday() >= 5}
        return sorted(declared)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        for offset in range(1, _MAX_DAYS_TO_NEXT_WORKING_DAY):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {_MAX_DAYS_TO_NEXT_WORKING_DAY} days of {day}")

    def working_day_within(self, first: date, last: date) -> date:
        """A working day in ``first``..``last`` to rehearse on: four weeks before ``last`` when
        the span allows, so a flow's working-day deadlines still fall inside it."""
        start = max(first, last - timedelta(days=28))
        return start if self.is_working_day(start) else self.next_working_day(start)

    def nth_working_day_after(self, day: date, n: int) -> date:
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    # --- moments ---------------------------------------------------------------------------------

    def periods_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of ``day`` as [start, end) moments; none on a day off."""
        if not self.is_working_day(day):
            return []
        return [(self._at(day, a), self._at(day, b)) for a, b in self.hours.periods()]

    def is_working_time(self, moment: datetime) -> bool:
        """Within working hours of a working day; the end of a period is already outside."""
        local = self._local(moment)
        return any(a <= local < b for a, b in self.periods_on(local.date()))

    def registration_moment(self, filed_at: datetime) -> datetime:
        """When a filing counts as registered: at once in working time, else the next period start.

        The portal accepts 24/7 [seed 002 §10]; after hours, on weekends and holidays the filing
        counts from the start of the next working day, and before 09:00 from 09:00 the same day.
        """
        local = self._local(filed_at)
        if self.is_working_time(local) or (
            not self.lunch_delays_registration and self._in_lunch(local)
        ):
            return local
        later_today = [a for a, _ in self.periods_on(local.date()) if a > local]
        if later_today:
            return later_today[0]
        return self.periods_on(self.next_working_day(local.date()))[0][0]

    def add_working_days(
        self, start: datetime, n: int, *, rule: DeadlineRule | None = None
    ) -> datetime:
        """The deadline ``n`` working days after ``start`` is registered (see ``DeadlineRule``).

        ``start`` may be the filing time: it is registered first (idempotent for a moment that
        is already a registration moment). Work done at the deadline itself is on time.
        """
        if n < 1:
            raise ValueError(f"a deadline needs at least 1 working day, got {n}")
        registered = self.registration_moment(start)
        day = registered.date()
        match DeadlineRule(rule or self.deadline_rule):
            case DeadlineRule.END_OF_DAY:
                return self._end_of_day(self.nth_working_day_after(day, n))
            case DeadlineRule.SAME_TIME:
                target = self.nth_working_day_after(day, n)
                return datetime.combine(target, registered.timetz())
            case DeadlineRule.REGISTRATION_DAY:
                return self._end_of_day(self.nth_working_day_after(day, n - 1))

    def add_working_time(self, start: datetime, span: timedelta) -> datetime:
        """The moment ``span`` of working time after ``start`` (off-hours and lunch count nothing).

        A filing at 17:50 on the last working day before a holiday, with a 2-hour term and an
        18:00 close, has 10 minutes that day and the remaining 1 h 50 min from the next opening.
        """
        left = span
        moment = self.registration_moment(start)
        day = moment.date()
        while True:
            for begin, end in self.periods_on(day):
                if end <= moment:
                    continue
                begin = max(begin, moment)
                if end - begin >= left:
                    return begin + left
                left -= end - begin
            day = self.next_working_day(day)

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time in [a, b); negative when ``b`` is before ``a`` (e.g. time overdue)."""
        a, b = self._local(a), self._local(b)
        if b < a:
            return -self.working_time_between(b, a)
        total = timedelta(0)
        for day in _days(a.date(), b.date()):
            for start, end in self.periods_on(day):
                total += max(timedelta(0), min(end, b) - max(start, a))
        return total

    # --- helpers ---------------------------------------------------------------------------------

    def _load(self, year: int) -> None:
        # Asking about any date of a year makes the expanding holiday set load that year.
        _ = date(year, 1, 1) in self._public

    def _local(self, moment: datetime) -> datetime:
        return require_aware(moment).astimezone(self.tz)

    def _at(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=self.tz)

    def _end_of_day(self, day: date) -> datetime:
        return self._at(day, self.hours.end)

    def _in_lunch(self, local: datetime) -> bool:
        lunch = self.hours.lunch_start <= local.time() < self.hours.lunch_end
        return lunch and self.is_working_day(local.date())


def _days(first: date, last: date) -> Iterator[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)
