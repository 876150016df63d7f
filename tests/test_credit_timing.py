"""Rules §6: the worked credit and expiry dates of 2024, make-up days and National Day."""
from __future__ import annotations

import datetime as dt

from core.credit_timing import credit_timing
from core.working_days import add_working_days, is_working_day, next_working_day

D = dt.date


def timeline(policy) -> list[tuple[dt.date, dt.date, dt.date, dt.date]]:
    """(objection window end, confirmation, credit, expiry) of each quarter."""
    return [(c.window_end, c.confirm_by, c.credit_date, c.expiry) for c in credit_timing(policy)]


def test_III_8_worked_timing_2024_is_reproduced(policy):
    assert timeline(policy) == [
        (D(2024, 4, 9), D(2024, 4, 18), D(2024, 4, 20), D(2024, 7, 19)),
        (D(2024, 7, 9), D(2024, 7, 18), D(2024, 7, 20), D(2024, 10, 18)),
        (D(2024, 10, 15), D(2024, 10, 24), D(2024, 10, 26), D(2025, 1, 24)),
        (D(2025, 1, 9), D(2025, 1, 20), D(2025, 1, 22), D(2025, 3, 31)),
    ]


def test_make_up_working_day_counts():
    # 2024-09-29 (Sunday) and 2024-10-12 (Saturday) are make-up working days.
    assert is_working_day(D(2024, 9, 29)) and is_working_day(D(2024, 10, 12))
    assert add_working_days(D(2024, 9, 27), 1) == D(2024, 9, 29)


def test_national_day_week_is_skipped():
    assert not any(is_working_day(D(2024, 10, d)) for d in range(1, 8))
    assert add_working_days(D(2024, 9, 30), 1) == D(2024, 10, 8)
    assert next_working_day(D(2024, 10, 3)) == D(2024, 10, 8)


def test_an_actual_credit_date_overrides_the_expected_one(policy):
    q2 = credit_timing(policy, {"Q2": D(2024, 7, 25)})[1]
    assert q2.actual and q2.credit_date == D(2024, 7, 25) and q2.expiry == D(2024, 10, 23)


def test_a_2026_contract_credits_on_the_official_2026_calendar_counted_by_hand():
    """2026 moved from the 2024 contract. Q1: window ends Thu Apr 9; 7 working days = Apr 10,
    13–17, 20 (no make-up day on Apr 18/19) → confirm Apr 20, credit Apr 22, expiry Jul 21.
    Q2: Jul 10, 13–17, 20 → Jul 20, Jul 22, Oct 20. Q3 (15-day window, Oct 15): Oct 16, 19–23,
    26 → Oct 26, Oct 28, Jan 26 2027 (National Day Oct 1–7 and the Oct 10 make-up day are
    before it). Q4's confirmation falls in January 2027, a year the installed calendar does not
    know: a clear error, and with the stated weekends-only assumption Jan 11–15, 18, 19."""
    import pytest

    from core.policy import POLICY_DIR, parse_policy
    from core.policy_edit import with_year
    from core.working_days import CalendarRangeError, weekends_only_beyond_calendar

    p2026 = parse_policy(with_year((POLICY_DIR / "ocean_engine_2024.toml").read_text(encoding="utf-8"), 2026))
    with pytest.raises(CalendarRangeError, match="2027"):
        credit_timing(p2026)
    with weekends_only_beyond_calendar() as years:
        got = timeline(p2026)
    assert got == [
        (D(2026, 4, 9), D(2026, 4, 20), D(2026, 4, 22), D(2026, 7, 21)),
        (D(2026, 7, 9), D(2026, 7, 20), D(2026, 7, 22), D(2026, 10, 20)),
        (D(2026, 10, 15), D(2026, 10, 26), D(2026, 10, 28), D(2027, 1, 26)),
        (D(2027, 1, 9), D(2027, 1, 19), D(2027, 1, 21), D(2027, 3, 31)),
    ]
    assert years == {2027}
