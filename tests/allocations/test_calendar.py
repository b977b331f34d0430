"""Deadlines in working days: weekends and Belgian public holidays do not count."""

import datetime

import pytest

from portal.workdays import add_working_days, is_working_day, working_days_between

D = datetime.date


@pytest.mark.parametrize(("day", "working"), [
    (D(2026, 7, 20), True),    # Monday
    (D(2026, 7, 21), False),   # Tuesday, Belgian National Day
    (D(2026, 7, 25), False),   # Saturday
    (D(2026, 7, 26), False),   # Sunday
    (D(2026, 12, 24), True),   # Thursday
    (D(2026, 12, 25), False),  # Friday, Christmas
    (D(2026, 5, 1), False),    # Labour Day
    (D(2026, 11, 11), False),  # Armistice
])
def test_is_working_day(day, working):
    assert is_working_day(day) is working


def test_national_day_is_skipped():
    # Monday + 1 working day skips Tuesday 21 July: Wednesday.
    assert add_working_days(D(2026, 7, 20), 1) == D(2026, 7, 22)
    # Fast Lane (4 working days) from Friday 17 July: Mon 20, Wed 22, Thu 23, Fri 24.
    assert add_working_days(D(2026, 7, 17), 4) == D(2026, 7, 24)


def test_christmas_and_weekend_are_skipped():
    # Thursday 24 December + 1: Friday is Christmas, then the weekend: Monday 28 December.
    assert add_working_days(D(2026, 12, 24), 1) == D(2026, 12, 28)
    # Playground (2 working days) from Wednesday 23 December: Thu 24, Mon 28.
    assert add_working_days(D(2026, 12, 23), 2) == D(2026, 12, 28)


def test_start_on_a_weekend():
    assert add_working_days(D(2026, 7, 25), 1) == D(2026, 7, 27)
    assert add_working_days(D(2026, 7, 20), 0) == D(2026, 7, 20)


def test_working_days_between_counts_both_ways():
    assert working_days_between(D(2026, 7, 17), D(2026, 7, 24)) == 4
    assert working_days_between(D(2026, 7, 24), D(2026, 7, 17)) == -4
    assert working_days_between(D(2026, 12, 24), D(2026, 12, 28)) == 1
    assert working_days_between(D(2026, 7, 20), D(2026, 7, 20)) == 0


def test_large_scale_deadline_over_year_end():
    # 10 working days from Friday 18 December 2026: 21-24 (4), 28-31 (4), Jan 1 holiday, Jan 4-5 (2).
    assert add_working_days(D(2026, 12, 18), 10) == D(2027, 1, 5)


def _counted_day_by_day(start, end):
    sign, (low, high) = (1, (start, end)) if start <= end else (-1, (end, start))
    days = ((high - low).days)
    return sign * sum(1 for n in range(1, days + 1) if is_working_day(low + datetime.timedelta(days=n)))


def test_working_days_between_agrees_with_counting_day_by_day_over_years():
    # Every start weekday, ranges from 0 days to over three years, across year ends and holidays.
    starts = [D(2025, 12, 22) + datetime.timedelta(days=n) for n in range(0, 14)]
    lengths = [0, 1, 2, 3, 4, 5, 6, 7, 8, 13, 29, 31, 45, 120, 366, 400, 1200]
    for start in starts:
        for length in lengths:
            for end in (start + datetime.timedelta(days=length), start - datetime.timedelta(days=length)):
                assert working_days_between(start, end) == _counted_day_by_day(start, end), (start, end)
