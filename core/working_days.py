"""Chinese working days (工作日): weekends and statutory holidays off, make-up days (调休) on.

Why a library: the official calendar changes every year by State Council notice;
chinesecalendar ships it as data. A date outside its range is an explicit error, not a guess.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

import chinese_calendar

from .problems import InputError, Problem


class CalendarRangeError(InputError):
    """The official calendar for that year is not known yet: one message for the user (CLI
    exit 2, an error box in the app), never a traceback."""


_weekends_only = ContextVar("weekends_only_beyond_calendar", default=False)
_fallback_years: ContextVar[set[int] | None] = ContextVar("fallback_years", default=None)


@contextmanager
def weekends_only_beyond_calendar() -> Iterator[set[int]]:
    """The user accepted the stated assumption: in years the official calendar does not
    cover yet, Monday–Friday are working days. Yields the years it was used for, so the
    result can name the assumption. Per thread/task (a ContextVar): no other session sees it."""
    used: set[int] = set()
    flag, years = _weekends_only.set(True), _fallback_years.set(used)
    try:
        yield used
    finally:
        _weekends_only.reset(flag)
        _fallback_years.reset(years)


def accept_weekends_only(enabled: bool) -> None:
    """The same assumption as weekends_only_beyond_calendar for the rest of the current
    context — a dashboard run decides once, at its start, from the user's choice."""
    _weekends_only.set(enabled)


def is_working_day(day: dt.date) -> bool:
    known = _official(day)
    if known is not None:
        return known
    if not _weekends_only.get():
        raise CalendarRangeError(Problem("error", _unknown_year(day), code="calendar_unknown",
                                         params=(("year", str(day.year)), ("last", str(last_known_year())))))
    used = _fallback_years.get()
    if used is not None:
        used.add(day.year)
    return day.weekday() < 5


@lru_cache(maxsize=4096)
def _official(day: dt.date) -> bool | None:
    """The official calendar's answer, None for a year it does not cover."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def _unknown_year(day: dt.date) -> str:
    return (
        f"the official Chinese working-day calendar for {day.year} is not in the installed chinesecalendar "
        f"(it knows up to {last_known_year()}); deadlines after that cannot be counted in working days — "
        "update chinesecalendar when the State Council publishes the year's holidays, or accept weekends only for it")


def weekends_only_assumption(year: int, lang: str = "en") -> str:
    """The assumption a result carries when the fallback was used for a year."""
    if lang == "zh":
        return f"{year} 年的官方节假日安排尚未收录：该年按周一至周五为工作日计算（假设）"
    return f"the official calendar for {year} is not published in chinesecalendar yet: Monday-Friday counted as working days (assumption)"


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
