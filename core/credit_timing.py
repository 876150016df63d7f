"""Rules §6 (III.8): when each quarter's return is credited and when it expires.

Why data-driven: the objection windows, confirmation working days, top-up days, the 90-day
life and the final deadline are policy numbers; only the calendar arithmetic is code.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from .policy import QUARTERS, Policy
from .working_days import add_working_days


@dataclass(frozen=True)
class CreditTiming:
    quarter: str
    window_end: dt.date  # end of the objection window
    confirm_by: dt.date  # last working day to confirm the statement
    credit_date: dt.date  # expected (or actual) credit date
    expiry: dt.date  # last day the credit can be consumed
    actual: bool  # credit date entered by the user


def expiry_of(credit_date: dt.date, policy: Policy) -> dt.date:
    """min(credit + 90 days, final deadline): every balance is cleared after the deadline."""
    ct = policy.credit_timing
    return min(credit_date + dt.timedelta(days=ct.expiry_days), ct.final_deadline)


def credit_timing(policy: Policy, actual_credit_dates: dict[str, dt.date] | None = None) -> list[CreditTiming]:
    """Expected timing of Q1..Q3 and the year-end (Q4) return, with the reading that the
    customer confirms on the last allowed working day (reading confirm_last_working_day)."""
    if not actual_credit_dates:
        return list(_expected_timing(policy))  # the working-day calendar walk is done once per policy
    return _timing(policy, actual_credit_dates)


@lru_cache(maxsize=8)
def _expected_timing(policy: Policy) -> tuple[CreditTiming, ...]:
    return tuple(_timing(policy, {}))


def _timing(policy: Policy, actual: dict[str, dt.date]) -> list[CreditTiming]:
    ct = policy.credit_timing
    out = []
    for i, q in enumerate(QUARTERS, start=1):
        window_end = policy.quarter_end(i) + dt.timedelta(days=ct.objection_window_days[q])
        confirm_by = add_working_days(window_end, ct.confirm_working_days)
        credit = actual.get(q) or confirm_by + dt.timedelta(days=ct.top_up_days)
        out.append(CreditTiming(q, window_end, confirm_by, credit, expiry_of(credit, policy), q in actual))
    return out
