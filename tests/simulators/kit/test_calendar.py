"""The working-day calendar, as table tests on real Kazakh dates.

The dates come from the pinned ``holidays`` library (0.108), printed with
``holidays.country_holidays("KZ", years=2026, language="en_US")``:

    2026-01-01 Thu New Year's Day              2026-05-01 Fri People Solidarity Holiday
    2026-01-02 Fri New Year's Day              2026-05-07 Thu Defender of the Fatherland Day
    2026-01-07 Wed Orthodox Christmas          2026-05-09 Sat Victory Day
    2026-03-08 Sun Women's Day                 2026-05-11 Mon Victory Day (observed)
    2026-03-09 Mon Women's Day (observed)      2026-05-27 Wed Eid al-Adha (estimated)
    2026-03-21 Sat Nowruz                      2026-07-06 Mon Capital Day
    2026-03-22 Sun Nowruz                      2026-10-25 Sun Republic Day
    2026-03-23 Mon Nowruz                      2026-10-26 Mon Republic Day (observed)
    2026-03-24 Tue Nowruz (observed)           2026-12-16 Wed Independence Day
    2026-03-25 Wed Nowruz (observed)

Moved working days (``weekend_workdays``): the library knows none in 2026; in 2025 Sunday
2025-01-05 was a working day (its day off moved to Friday 2025-01-03, "Day off (substituted from
01/05/2025)"), and in 2024 Saturday 2024-05-04 (day off moved to Wednesday 2024-05-08).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from simulators.kit.calendar import (
    EXPORT_PILOT_HOURS,
    HOURS_BY_SEED,
    MEDICINES_AND_EUC_HOURS,
    TRADE_COMMITTEE_HOURS,
    DeadlineRule,
    WorkingCalendar,
    WorkingHours,
)
from simulators.kit.clock import KZ_TIME


def kz(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=KZ_TIME)


TRADE = WorkingCalendar(TRADE_COMMITTEE_HOURS)  # seed 002
MEDICINES = WorkingCalendar(MEDICINES_AND_EUC_HOURS)  # seeds 000, 001
PILOT = WorkingCalendar(EXPORT_PILOT_HOURS)  # seed 003


def test_the_library_still_has_the_dates_these_tests_use() -> None:
    # If a library upgrade moves one of these, the tables below need new dates, not new logic.
    days_off = TRADE.holidays_in(2026)
    for day in ("2026-01-01", "2026-01-02", "2026-01-07", "2026-03-09", "2026-03-23",
                "2026-03-24", "2026-03-25", "2026-05-11", "2026-07-06"):  # fmt: skip
        assert date.fromisoformat(day) in days_off, day
    assert TRADE.holidays_in(2025)[date(2025, 1, 3)].startswith("Day off (substituted")
    assert TRADE.working_weekend_days(2025) == [date(2025, 1, 5)]
    assert TRADE.working_weekend_days(2024) == [date(2024, 5, 4)]
    assert TRADE.working_weekend_days(2026) == []


def test_presets_follow_the_legal_texts() -> None:
    assert HOURS_BY_SEED["002"] == WorkingHours(time(9), time(18), time(13), time(14))
    assert HOURS_BY_SEED["000"] == HOURS_BY_SEED["001"]
    assert HOURS_BY_SEED["001"] == WorkingHours(time(9), time(18, 30), time(13), time(14, 30))
    assert HOURS_BY_SEED["003"] == WorkingHours(time(9), time(17, 30), time(12, 30), time(14, 30))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 7, 3), True),  # Friday
        (date(2026, 7, 4), False),  # Saturday
        (date(2026, 7, 6), False),  # Monday, Capital Day
        (date(2026, 3, 9), False),  # Monday, Women's Day moved from Sunday
        (date(2026, 3, 25), False),  # Wednesday, Nowruz moved from the weekend
        (date(2026, 3, 26), True),  # Thursday after Nowruz
        (date(2025, 1, 3), False),  # Friday, day off transferred from Sunday 5 January
        (date(2025, 1, 5), True),  # Sunday declared a working day
        (date(2024, 5, 4), True),  # Saturday declared a working day
        (date(2024, 5, 8), False),  # Wednesday, day off transferred from that Saturday
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert TRADE.is_working_day(day) is working


@pytest.mark.parametrize(
    ("calendar", "at", "working"),
    [
        (TRADE, time(8, 59), False),
        (TRADE, time(9, 0), True),
        (TRADE, time(12, 59), True),
        (TRADE, time(13, 0), False),  # lunch
        (TRADE, time(13, 59), False),
        (TRADE, time(14, 0), True),
        (TRADE, time(17, 59), True),
        (TRADE, time(18, 0), False),  # the end is already outside
        (MEDICINES, time(14, 15), False),  # lunch till 14:30
        (MEDICINES, time(18, 15), True),  # works till 18:30
        (PILOT, time(12, 30), False),  # lunch from 12:30
        (PILOT, time(14, 29), False),
        (PILOT, time(17, 29), True),
        (PILOT, time(17, 30), False),
    ],
)
def test_is_working_time_on_a_working_tuesday(
    calendar: WorkingCalendar, at: time, working: bool
) -> None:
    moment = datetime.combine(date(2026, 7, 7), at, tzinfo=KZ_TIME)
    assert calendar.is_working_time(moment) is working


def test_working_time_is_judged_in_kazakhstan_time() -> None:
    assert TRADE.is_working_time(datetime(2026, 7, 7, 4, 0, tzinfo=UTC))  # 09:00 in Astana
    assert not TRADE.is_working_time(datetime(2026, 7, 7, 13, 0, tzinfo=UTC))  # 18:00


@pytest.mark.parametrize(
    ("calendar", "filed", "registered"),
    [
        # Friday 19:00 before Monday's Capital Day → Tuesday 09:00.
        (TRADE, kz(2026, 7, 3, 19), kz(2026, 7, 7, 9)),
        # The same moment sent in UTC.
        (TRADE, datetime(2026, 7, 3, 14, 0, tzinfo=UTC), kz(2026, 7, 7, 9)),
        # In working time: at once.
        (TRADE, kz(2026, 7, 2, 10, 17), kz(2026, 7, 2, 10, 17)),
        # During lunch: when lunch ends, the same day.
        (TRADE, kz(2026, 7, 2, 13, 20), kz(2026, 7, 2, 14)),
        (PILOT, kz(2026, 7, 2, 12, 45), kz(2026, 7, 2, 14, 30)),
        # Before opening: 09:00 the same day.
        (TRADE, kz(2026, 7, 7, 8, 15), kz(2026, 7, 7, 9)),
        # Exactly at closing time: next working day.
        (TRADE, kz(2026, 3, 20, 18), kz(2026, 3, 26, 9)),  # Nowruz 21–25 March
        # Saturday Victory Day, observed on Monday → Tuesday.
        (TRADE, kz(2026, 5, 9, 12), kz(2026, 5, 12, 9)),
        # New Year's Eve → 1–2 January off, weekend → Monday 5 January.
        (MEDICINES, kz(2025, 12, 31, 20), kz(2026, 1, 5, 9)),
        # 2 January 2025 (holiday) → 3rd transferred off, 4th Saturday → working Sunday the 5th.
        (TRADE, kz(2025, 1, 2, 10), kz(2025, 1, 5, 9)),
        # Filed on the working Sunday itself: registered at once.
        (TRADE, kz(2025, 1, 5, 10), kz(2025, 1, 5, 10)),
        # Friday evening before the working Saturday 4 May 2024 → that Saturday 09:00.
        (TRADE, kz(2024, 5, 3, 19), kz(2024, 5, 4, 9)),
    ],
)
def test_registration_moment(
    calendar: WorkingCalendar, filed: datetime, registered: datetime
) -> None:
    got = calendar.registration_moment(filed)
    assert got == registered
    assert got.utcoffset() == timedelta(hours=5)
    assert calendar.registration_moment(got) == got  # registering twice changes nothing


def test_lunch_filing_can_be_registered_at_once() -> None:
    calendar = WorkingCalendar(TRADE_COMMITTEE_HOURS, lunch_delays_registration=False)
    assert calendar.registration_moment(kz(2026, 7, 2, 13, 20)) == kz(2026, 7, 2, 13, 20)
    # Off-hours filings still wait: only lunch is affected.
    assert calendar.registration_moment(kz(2026, 7, 3, 19)) == kz(2026, 7, 7, 9)
    # Under the default rule the deadline does not depend on this choice.
    assert calendar.add_working_days(kz(2026, 7, 2, 13, 20), 1) == TRADE.add_working_days(
        kz(2026, 7, 2, 13, 20), 1
    )


@pytest.mark.parametrize(
    ("calendar", "filed", "n", "rule", "deadline"),
    [
        # Friday 19:00, Monday Capital Day: registered Tue 7 July 09:00.
        (TRADE, kz(2026, 7, 3, 19), 1, DeadlineRule.END_OF_DAY, kz(2026, 7, 8, 18)),
        (TRADE, kz(2026, 7, 3, 19), 1, DeadlineRule.SAME_TIME, kz(2026, 7, 8, 9)),
        (TRADE, kz(2026, 7, 3, 19), 1, DeadlineRule.REGISTRATION_DAY, kz(2026, 7, 7, 18)),
        # Lunch filing Thursday 13:20 → registered 14:00 → due Friday.
        (TRADE, kz(2026, 7, 2, 13, 20), 1, DeadlineRule.END_OF_DAY, kz(2026, 7, 3, 18)),
        (TRADE, kz(2026, 7, 2, 13, 20), 1, DeadlineRule.SAME_TIME, kz(2026, 7, 3, 14)),
        # Thursday 17:59 still in time: a whole working day remains (Friday).
        (TRADE, kz(2026, 7, 2, 17, 59), 1, DeadlineRule.END_OF_DAY, kz(2026, 7, 3, 18)),
        # Friday 3 July 11:00, 1 WD: the next working day is Tuesday (Capital Day Monday).
        (TRADE, kz(2026, 7, 3, 11), 1, DeadlineRule.END_OF_DAY, kz(2026, 7, 7, 18)),
        (TRADE, kz(2026, 7, 3, 11), 1, DeadlineRule.SAME_TIME, kz(2026, 7, 7, 11)),
        # Seed 003, 5 WD, filed before Nowruz: registered Thu 26 March, due Thu 2 April 17:30.
        (PILOT, kz(2026, 3, 20, 18), 5, DeadlineRule.END_OF_DAY, kz(2026, 4, 2, 17, 30)),
        # Seed 000, 3 WD, filed New Year's Eve: registered Mon 5 Jan; 7 Jan (Wed) is Christmas.
        (MEDICINES, kz(2025, 12, 31, 20), 3, DeadlineRule.END_OF_DAY, kz(2026, 1, 9, 18, 30)),
        # The working Saturday of 2024 counts as a working day.
        (TRADE, kz(2024, 5, 3, 11), 1, DeadlineRule.END_OF_DAY, kz(2024, 5, 4, 18)),
        # 3 WD from Fri 3 May 2024: Sat 4, Mon 6, Tue 7 is Defender's Day, Wed 8 the moved day
        # off, Thu 9 Victory Day → Mon 6, Fri 10.
        (TRADE, kz(2024, 5, 3, 11), 3, DeadlineRule.END_OF_DAY, kz(2024, 5, 10, 18)),
    ],
)
def test_add_working_days(
    calendar: WorkingCalendar, filed: datetime, n: int, rule: DeadlineRule, deadline: datetime
) -> None:
    assert calendar.add_working_days(filed, n, rule=rule) == deadline


def test_the_calendar_default_rule_is_end_of_day_and_configurable() -> None:
    same_time = WorkingCalendar(TRADE_COMMITTEE_HOURS, deadline_rule=DeadlineRule.SAME_TIME)
    assert TRADE.deadline_rule is DeadlineRule.END_OF_DAY
    assert TRADE.add_working_days(kz(2026, 7, 3, 19), 1) == kz(2026, 7, 8, 18)
    assert same_time.add_working_days(kz(2026, 7, 3, 19), 1) == kz(2026, 7, 8, 9)
    assert WorkingCalendar(
        TRADE_COMMITTEE_HOURS, deadline_rule="registration-day"
    ).add_working_days(kz(2026, 7, 3, 19), 1) == kz(2026, 7, 7, 18)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (kz(2026, 7, 7, 9), kz(2026, 7, 7, 18), timedelta(hours=8)),  # lunch excluded
        (kz(2026, 7, 7, 13, 10), kz(2026, 7, 7, 13, 50), timedelta(0)),  # all lunch
        (kz(2026, 7, 7, 12, 30), kz(2026, 7, 7, 14, 30), timedelta(hours=1)),
        # Friday 17:00 → Tuesday 10:00 across a weekend and Monday's Capital Day.
        (kz(2026, 7, 3, 17), kz(2026, 7, 7, 10), timedelta(hours=2)),
        (kz(2026, 7, 7, 10), kz(2026, 7, 3, 17), -timedelta(hours=2)),  # overdue: negative
        (kz(2026, 7, 4, 9), kz(2026, 7, 6, 18), timedelta(0)),  # Sat, Sun, holiday
        # A full week 6–10 July 2026 holds four working days (Monday is Capital Day).
        (kz(2026, 7, 6), kz(2026, 7, 11), timedelta(hours=32)),
        (datetime(2026, 7, 7, 4, tzinfo=UTC), kz(2026, 7, 7, 10), timedelta(hours=1)),
    ],
)
def test_working_time_between(a: datetime, b: datetime, expected: timedelta) -> None:
    assert TRADE.working_time_between(a, b) == expected


def test_extra_days_override_the_library() -> None:
    # A decree the library does not know yet: Saturday 4 July works, Tuesday 7 July is off.
    calendar = WorkingCalendar(
        TRADE_COMMITTEE_HOURS,
        extra_working_days=[date(2026, 7, 4)],
        extra_holidays=[date(2026, 7, 7)],
    )
    assert calendar.registration_moment(kz(2026, 7, 3, 19)) == kz(2026, 7, 4, 9)
    assert calendar.add_working_days(kz(2026, 7, 4, 9), 1) == kz(2026, 7, 8, 18)
    assert calendar.working_weekend_days(2026) == [date(2026, 7, 4)]
    assert calendar.holidays_in(2026)[date(2026, 7, 7)] == "extra holiday"
    # Declaring a holiday a working day lifts it.
    assert WorkingCalendar(
        TRADE_COMMITTEE_HOURS, extra_working_days=[date(2026, 7, 6)]
    ).is_working_day(date(2026, 7, 6))


@pytest.mark.parametrize(
    "make",
    [
        lambda: WorkingHours(time(9), time(18), time(8), time(14)),  # lunch before opening
        lambda: WorkingHours(time(9), time(18), time(14), time(13)),  # lunch backwards
        lambda: WorkingHours(time(9), time(9), time(9), time(9)),  # no working time
        lambda: WorkingCalendar(
            TRADE_COMMITTEE_HOURS,
            extra_holidays=[date(2026, 7, 3)],
            extra_working_days=[date(2026, 7, 3)],
        ),
    ],
)
def test_bad_configuration_is_refused(make) -> None:
    with pytest.raises(ValueError):
        make()


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TRADE.registration_moment(datetime(2026, 7, 3, 19))
    with pytest.raises(ValueError, match="at least 1"):
        TRADE.add_working_days(kz(2026, 7, 3, 11), 0)
    every_day = [date(2026, 1, 1) + timedelta(days=i) for i in range(800)]
    with pytest.raises(ValueError, match="no working day"):
        WorkingCalendar(TRADE_COMMITTEE_HOURS, extra_holidays=every_day).next_working_day(
            date(2026, 1, 1)
        )


def test_no_lunch_break() -> None:
    calendar = WorkingCalendar(WorkingHours(time(9), time(17), time(13), time(13)))
    assert calendar.is_working_time(kz(2026, 7, 7, 13, 30))
    assert calendar.working_time_between(kz(2026, 7, 7), kz(2026, 7, 8)) == timedelta(hours=8)
