"""Developer payouts (developer-settlement.md): minimum carry, holidays, withholding,
clawback, and the balance property."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.payouts import (
    Flag,
    cycle_of,
    load_settlement_policy,
    owed_at,
    read_earnings,
    settle_payouts,
)

P = load_settlement_policy()
D = dt.date


def earnings(*rows):
    return pd.DataFrame(rows, columns=["month", "developer", "product", "earnings_fen"])


def test_2_4_3_under_1000_for_three_months_then_one_payment_of_the_sum():
    e = earnings(("2024-01", "dev", "app", 400_00), ("2024-02", "dev", "app", 300_00), ("2024-03", "dev", "app", 200_00),
                 ("2024-04", "dev", "app", 150_00))
    led = settle_payouts(e, [], P)
    assert led["paid_fen"].tolist() == [0, 0, 0, 1050_00]
    assert led["carried_out_fen"].tolist() == [400_00, 700_00, 900_00, 0]


def test_2_4_3_exactly_1000_is_paid():
    assert settle_payouts(earnings(("2024-01", "d", "a", 1000_00)), [], P)["paid_fen"].tolist() == [1000_00]
    assert settle_payouts(earnings(("2024-01", "d", "a", 999_99)), [], P)["paid_fen"].tolist() == [0]


def test_1_12_statement_on_a_holiday_moves_to_the_next_working_day():
    # 2024-09-15 to 17 is the Mid-Autumn holiday.
    assert cycle_of("2024-08", P).statement == D(2024, 9, 18)
    assert cycle_of("2025-01", P).statement == D(2025, 2, 17)  # the 15th is a Saturday


def test_1_12_payment_deadline_crosses_chinese_new_year_with_make_up_days():
    c = cycle_of("2024-12", P)
    assert (c.statement, c.invoice_by, c.pay_by) == (D(2025, 1, 15), D(2025, 1, 22), D(2025, 3, 11))


def test_2_2_6_withheld_product_is_not_paid():
    e = earnings(("2024-05", "dev", "good", 2000_00), ("2024-05", "dev", "cheat", 5000_00))
    led = settle_payouts(e, [Flag("cheat", "2024-05", "2024-05", "withhold")], P)
    assert led["withheld_fen"].tolist() == [5000_00] and led["paid_fen"].tolist() == [2000_00]


def test_2_2_6_clawback_of_an_earlier_payment_comes_off_the_next_payable():
    e = earnings(("2024-01", "dev", "cheat", 3000_00), ("2024-02", "dev", "good", 2000_00), ("2024-03", "dev", "good", 2500_00))
    led = settle_payouts(e, [Flag("cheat", "2024-01", "2024-01", "clawback", D(2024, 3, 1))], P)
    assert led["paid_fen"].tolist() == [3000_00, 0, 1500_00]
    assert led["clawback_fen"].tolist() == [0, 3000_00, 0]  # first statement after the flag: Feb cycle, 03-15
    assert led["carried_out_fen"].tolist() == [0, -1000_00, 0]


def test_owed_is_split_by_stage():
    led = settle_payouts(earnings(("2024-08", "d", "a", 5000_00), ("2024-09", "d", "a", 7000_00)), [], P)
    owed = owed_at(led, D(2024, 10, 20))  # Aug: invoiced (by 09-25), payment pending; Sep: statement 10-15, invoice by 10-22
    assert owed["payment_pending_fen"] == 5000_00 and owed["invoice_pending_fen"] == 7000_00
    assert owed["statement_pending_fen"] == 0
    assert owed_at(led, D(2024, 10, 1))["statement_pending_fen"] == 7000_00


month = st.integers(1, 12).map(lambda m: f"2024-{m:02d}")


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(month, st.sampled_from(["d1", "d2"]), st.sampled_from(["a", "b", "c"]), st.integers(0, 3000_00)),
                min_size=1, max_size=30),
       st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), month, month, st.sampled_from(["withhold", "clawback"]),
                          st.dates(D(2024, 1, 1), D(2025, 3, 1))), max_size=3))
def test_paid_plus_carried_plus_withheld_equals_the_share_of_earnings(rows, raw_flags):
    flags = [Flag(p, min(a, b), max(a, b), act, on) for p, a, b, act, on in raw_flags]
    led = settle_payouts(earnings(*rows), flags, P)
    for _, dev in led.groupby("developer"):
        dev = dev.sort_values("month")
        withheld = dev["withheld_fen"].sum() + dev["clawback_fen"].sum()
        assert dev["paid_fen"].sum() + dev["carried_out_fen"].iloc[-1] + withheld == dev["share_fen"].sum()


@pytest.mark.slow  # a CLI subprocess: the full lane
def test_earnings_file_with_chinese_headers_and_the_cli(tmp_path):
    f = tmp_path / "收益.csv"
    f.write_bytes("2024 年开发者收益\n月份,开发者,应用,收益(元)\n2024年1月,甲,App1,\"1,200.00\"\n2024-02,甲,App1,800\n2024/3,乙,App2,abc\n".encode("gbk"))
    frame, problems = read_earnings(f.read_bytes(), f.name)
    assert frame["month"].tolist() == ["2024-01", "2024-02"] and frame["earnings_fen"].tolist() == [1200_00, 800_00]
    assert [(p.row, p.column, p.value) for p in problems] == [(5, "收益(元)", "abc")]
    f.write_bytes("月份,开发者,应用,收益\n2024-01,甲,App1,1200\n2024-02,甲,App1,800\n".encode("utf-8"))
    run = subprocess.run([sys.executable, "-m", "core", "payouts", str(f), "--as-of", "2024-03-01"], capture_output=True,
                         text=True, cwd=Path(__file__).resolve().parents[1])
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert [d["paid"] for d in out["developers"]] == [1200.0, 0.0]
    assert out["owed"]["payment_pending"] == 1200.0 and out["owed"]["carried"] == 800.0


def test_a_deadline_beyond_the_known_calendar_is_one_message_not_a_traceback(tmp_path):
    """Earnings of Dec 2026 are paid in 2027, a year the installed chinesecalendar does not
    know yet: the CLI exits 2 with one line naming the year, the app shows an error box."""
    import contextlib
    import io

    from core.cli import main as cli
    from core.working_days import last_known_year

    path = tmp_path / "earnings.csv"
    path.write_text("月份,开发者,应用,收益\n2026-11,开发者甲,应用A,5000\n2026-12,开发者甲,应用A,5000\n", encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli(["payouts", str(path), "--as-of", "2026-12-31"])
    if last_known_year() >= 2027:  # a newer chinesecalendar: the deadlines are known and counted
        assert code == 0
        return
    assert code == 2 and err.getvalue().count("\n") == 1
    assert "2027" in err.getvalue() and "Traceback" not in err.getvalue()


def test_the_weekends_only_fallback_is_explicit_and_named_as_an_assumption(tmp_path):
    import contextlib
    import datetime as dt
    import io
    import json

    from core.cli import main as cli
    from core.working_days import (
        add_working_days,
        is_working_day,
        last_known_year,
        weekends_only_beyond_calendar,
    )

    year = last_known_year() + 1
    with weekends_only_beyond_calendar() as used:
        assert add_working_days(dt.date(year, 1, 2), 5) == _plus_weekdays(dt.date(year, 1, 2), 5)
    assert used == {year}
    import pytest

    with pytest.raises(Exception, match=str(year)):  # outside the accepted context: refused again
        is_working_day(dt.date(year, 3, 1))
    path = tmp_path / "earnings.csv"
    path.write_text(f"月份,开发者,应用,收益\n{year - 1}-12,开发者甲,应用A,5000\n", encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert cli(["payouts", str(path), "--as-of", f"{year}-03-31", "--weekends-only-beyond-calendar"]) == 0
    result = json.loads(out.getvalue())
    assert any(str(year) in a and "Monday-Friday" in a for a in result["assumptions"])


def _plus_weekdays(day, n):
    import datetime as dt

    while n:
        day += dt.timedelta(days=1)
        n -= day.weekday() < 5
    return day


def test_the_payouts_page_asks_before_using_weekends_only_and_then_says_so():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from core.i18n import t
    from core.working_days import last_known_year

    year = last_known_year() + 1
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "streamlit_app.py"), default_timeout=90)
    at.session_state["lang"] = "zh"
    at.run()
    at.switch_page("pages/payouts.py").run()
    data = f"月份,开发者,应用,收益\n{year - 1}-12,开发者甲,应用A,5000\n".encode()
    at.file_uploader[0].set_value(("e.csv", data, "text/csv")).run()
    assert not at.exception
    assert any(str(year) in e.value for e in at.error) and not at.metric  # refused until the user accepts
    at.checkbox(key="payouts_weekends_only").check().run()
    assert not at.exception and at.metric
    assert any(str(year) in w.value and "假设" in w.value for w in at.warning)
    assert t("payouts.weekends_only", "zh")


def test_a_developer_with_nothing_due_reads_nothing_due_not_none():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from core.i18n import t

    for lang in ("en", "zh"):
        at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "streamlit_app.py"), default_timeout=90)
        at.session_state["lang"] = lang
        at.run()
        at.switch_page("pages/payouts.py").run()
        assert not at.exception
        table = next(d.value for d in at.dataframe if t("payouts.col.next_pay_by", lang) in d.value.columns)
        values = table[t("payouts.col.next_pay_by", lang)].tolist()
        assert all(v is not None and str(v) not in ("None", "nan", "NaT") for v in values), values
        assert t("payouts.nothing_due", lang) in values  # the demo has developers with nothing due (was "None")


def test_by_developer_sums_the_ledger_and_names_the_next_deadline():
    from core.payouts import by_developer

    ledger = pd.DataFrame({"developer": ["a", "a", "b"], "month": ["2024-01", "2024-02", "2024-01"],
                           "earned_fen": [100, 200, 50], "withheld_fen": [0, 20, 0], "clawback_fen": [0, 0, 5],
                           "paid_fen": [100, 180, 0], "carried_out_fen": [0, 0, 45],
                           "pay_by": [dt.date(2024, 3, 5), dt.date(2024, 4, 5), dt.date(2024, 3, 5)]})
    s = by_developer(ledger, dt.date(2024, 3, 10))
    assert s.loc["a", ["earned_fen", "withheld_fen", "paid_fen", "carried_fen"]].tolist() == [300, 20, 280, 0]
    assert s.loc["a", "next_pay_by"] == dt.date(2024, 4, 5)  # the March deadline has passed
    assert pd.isna(s.loc["b", "next_pay_by"]) and s.loc["b", "carried_fen"] == 45  # nothing paid: carried below the minimum
