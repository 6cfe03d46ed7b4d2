"""Working days by China's official calendar: public holidays off, and the weekend days that are
official working days (调休) on, from the `holidays` package.

A year the package has no official schedule for (the State Council publishes the next year's in
the autumn; upgrade `holidays` then) is counted Monday to Friday, with a warning in the log.
"""
import functools
import logging
from datetime import date, timedelta

import holidays

log = logging.getLogger("feedback.workdays")


@functools.cache
def _china(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year)


@functools.cache
def knows(year: int) -> bool:
    """Whether the package has that year's official schedule: every year has make-up working
    days, so a year without any has not been published to the package yet."""
    known = any(day.year == year for day in _china(year).weekend_workdays)
    if not known:
        log.warning("the holidays package has no official schedule for %s: counting Monday to "
                    "Friday as working days; upgrade it once the State Council publishes one", year)
    return known


def is_working_day(day: date) -> bool:
    """True for a working day in China."""
    if knows(day.year):
        return _china(day.year).is_working_day(day)
    return day.weekday() < 5


def add_working_days(start: date, n: int, working=is_working_day) -> date:
    """The Nth working day after ``start`` (``start`` itself is not counted)."""
    day, counted = start, 0
    while counted < n:
        day += timedelta(days=1)
        counted += working(day)
    return day


def working_days_between(start: date, end: date, working=is_working_day) -> int:
    """How many working days fall after ``start`` and up to ``end``."""
    return sum(working(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))
