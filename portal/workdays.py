"""Deadlines in working days: weekends and Belgian public holidays excluded."""

import datetime
from functools import lru_cache

import holidays


@lru_cache(maxsize=16)
def _belgian_holidays(year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.country_holidays("BE", years=year).keys())


def is_working_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in _belgian_holidays(day.year)


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The date `days` working days after `start` (start itself does not count)."""
    current = start
    remaining = days
    while remaining > 0:
        current += datetime.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Working days after start up to and including end (negative when end is before start).

    Arithmetic on whole weeks, then the public holidays that fall on a weekday in the range: the
    deadline pages call this once per row, with dates that can be years apart."""
    if end < start:
        return -working_days_between(end, start)
    weeks, rest = divmod((end - start).days, 7)
    count = weeks * 5
    for offset in range(1, rest + 1):
        if (start + datetime.timedelta(days=offset)).weekday() < 5:
            count += 1
    for year in range(start.year, end.year + 1):
        count -= sum(1 for day in _belgian_holidays(year) if start < day <= end and day.weekday() < 5)
    return count
