"""Payouts: developer revenue-share under the SDK cooperation agreement — what is owed on
a date, to whom, and by when it must be paid."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core.export import csv_bytes, workbook_bytes
from core.i18n import fmt_money, localise, localise_frame, report_frame, t, value_label
from core.payouts import (
    Flag,
    SettlementPolicy,
    by_developer,
    cash_calendar,
    load_settlement_policy,
    owed_at,
    read_earnings,
    settle_payouts,
)
from core.problems import InputError
from core.working_days import (
    CalendarRangeError,
    weekends_only_assumption,
    weekends_only_beyond_calendar,
)
from ui.context import bare_page_start
from ui.figures import calendar_figure
from ui.text import plain

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "earnings_2024.csv"
FLAG_COLUMNS = {"product": str, "from_month": str, "to_month": str, "action": str, "flagged_on": "datetime64[ns]"}


@st.cache_data(show_spinner=False, max_entries=8)
def cached_read(data: bytes, name: str) -> tuple[pd.DataFrame, list[Any]]:
    return read_earnings(data, name)


def earnings_input(L: str) -> pd.DataFrame:
    """The uploaded earnings (or the demo file), with its problems listed; a file we cannot read stops the page."""
    upload = st.file_uploader(t("payouts.upload", L), type=["csv", "xlsx", "xls", "txt"], key="earnings_upload")
    data, name = (upload.getvalue(), upload.name) if upload else (DEMO.read_bytes(), DEMO.name)
    if upload is None:
        st.info(t("payouts.demo", L))
    try:
        earnings, problems = cached_read(data, name)
    except InputError as exc:
        st.error(plain(exc))
        st.stop()
    if problems:
        st.warning(t("payouts.problems", L, n=len(problems)))
        st.dataframe(report_frame(problems, L), hide_index=True, width="stretch")
    return earnings


def flags_input(earnings: pd.DataFrame, L: str) -> list[Flag]:
    """Months of a product flagged for withholding or clawback, typed in a grid."""
    st.subheader(t("payouts.flags", L))
    st.caption(t("payouts.flags_help", L))
    table = st.data_editor(
        pd.DataFrame({c: pd.Series(dtype=d) for c, d in FLAG_COLUMNS.items()}),
        num_rows="dynamic", key="flags_editor", width="stretch",
        column_config={
            "product": st.column_config.SelectboxColumn(t("payouts.col.product", L), options=sorted(earnings["product"].unique())),
            "from_month": st.column_config.TextColumn(t("payouts.col.from", L), help="YYYY-MM"),
            "to_month": st.column_config.TextColumn(t("payouts.col.to", L), help="YYYY-MM"),
            "action": st.column_config.SelectboxColumn(t("payouts.col.action", L), options=["withhold", "clawback"],
                                                       format_func=lambda a: value_label("action", a, L)),
            "flagged_on": st.column_config.DateColumn(t("payouts.col.flagged_on", L)),
        },
    )
    return [
        Flag(str(r.product), str(r.from_month), str(r.to_month or r.from_month), r.action,
             r.flagged_on.date() if pd.notna(r.flagged_on) else None)
        for r in table.itertuples() if r.product and r.from_month and r.action in ("withhold", "clawback")
    ]


def settled(earnings: pd.DataFrame, flags: list[Flag], policy: SettlementPolicy, day: dt.date,
            L: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """The payout ledger and what is owed at ``day``; a deadline beyond the official calendar
    needs the weekends-only assumption accepted, a bad flag stops the page with its message."""
    try:
        ledger = settle_payouts(earnings, flags, policy)
        return ledger, owed_at(ledger, day)
    except CalendarRangeError as exc:  # a payment deadline in a year the official calendar does not cover yet
        st.error(plain(localise(exc.problems[0], L)))
        if not st.checkbox(t("payouts.weekends_only", L), key="payouts_weekends_only"):
            st.stop()
    except InputError as exc:
        st.error(plain(localise(exc.problems[0], L)))
        st.stop()
    with weekends_only_beyond_calendar() as fallback_years:
        ledger = settle_payouts(earnings, flags, policy)
        owed = owed_at(ledger, day)
    for year in sorted(fallback_years):
        st.warning(weekends_only_assumption(year, L))
    return ledger, owed


def developer_table(summary: pd.DataFrame, L: str) -> pd.DataFrame:
    return pd.DataFrame({
        t("payouts.col.developer", L): summary.index,
        **{t(f"payouts.col.{c}", L): summary[f"{c}_fen"].map(lambda v: fmt_money(int(v), L, compact=False)).to_numpy()
           for c in ("earned", "withheld", "clawback", "paid", "carried")},
        t("payouts.col.next_pay_by", L): summary["next_pay_by"].map(
            lambda d: d.isoformat() if isinstance(d, dt.date) else t("payouts.nothing_due", L)).to_numpy(),
    })


def exports(ledger: pd.DataFrame, summary: pd.DataFrame, calendar: pd.DataFrame, day: dt.date, L: str) -> None:
    sheets = {t(f"sheet.{name}", L): localise_frame(frame, L) for name, frame in
              (("Payouts", ledger), ("By developer", summary.reset_index()), ("Cash calendar", calendar))}
    st.download_button(t("export.excel", L), lambda: workbook_bytes(sheets),  # built on click, not every run
                       file_name=f"payouts_{day:%Y%m%d}.xlsx", key="payouts_xlsx")
    st.download_button(t("export.csv", L), lambda: csv_bytes(localise_frame(ledger, L)), file_name="payouts.csv", key="payouts_csv")


def main() -> None:
    L = bare_page_start("payouts.heading")
    policy = load_settlement_policy()
    st.caption(policy.title_zh if L == "zh" else policy.title)
    earnings = earnings_input(L)
    c1, _ = st.columns([1, 3])
    day = c1.date_input(t("payouts.as_of", L), value=dt.date(2024, 12, 31), key="payouts_as_of")
    ledger, owed = settled(earnings, flags_input(earnings, L), policy, day, L)
    for col, key in zip(st.columns(4), ("statement_pending_fen", "invoice_pending_fen", "payment_pending_fen", "carried_fen")):
        col.metric(t(f"payouts.{key[:-4]}", L), fmt_money(owed[key], L), help=t(f"payouts.{key[:-4]}_help", L))
    st.subheader(t("payouts.by_developer", L))
    summary = by_developer(ledger, day)
    st.dataframe(developer_table(summary, L), hide_index=True, width="stretch")
    calendar = cash_calendar(ledger)
    st.plotly_chart(calendar_figure(calendar, day, L), width="stretch")
    with st.expander(t("payouts.detail", L)):
        st.dataframe(localise_frame(ledger, L), hide_index=True, width="stretch")
    exports(ledger, summary, calendar, day, L)
    with st.expander(t("page.assumptions", L)):
        for r in policy.readings:
            st.markdown(f"- {r.zh if L == 'zh' else r.en} ({r.clause})")


main()
