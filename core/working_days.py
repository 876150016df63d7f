"""Chinese working days (工作日): weekends and statutory holidays off, make-up days (调休) on.

Why a library: the official calendar changes every year by State Council notice;
chinesecalendar ships it as data. A date outside its range is an explicit error, not a guess.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar

from .validation import InputError


class CalendarRangeError(InputError):
    """The official calendar for that year is not known yet: one message for the user (CLI
    exit 2, an error box in the app), never a traceback."""


@lru_cache(maxsize=4096)
def is_working_day(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise CalendarRangeError(
            f"the official Chinese working-day calendar for {day.year} is not in the installed chinesecalendar "
            f"(it knows up to {last_known_year()}); deadlines after that cannot be counted in working days — "
            "update chinesecalendar when the State Council publishes the year's holidays") from None


def last_known_year() -> int:
    """The last year the installed calendar covers (its holiday table's latest date)."""
    return max(d.year for d in chinese_calendar.holidays)


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The n-th working day after ``day`` (n >= 1); ``day`` itself is not counted."""
    current, left = day, n
    while left > 0:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            left -= 1
    return current


def next_working_day(day: dt.date) -> dt.date:
    """``day`` if it is a working day, else the first working day after it."""
    return day if is_working_day(day) else add_working_days(day, 1)
