"""Payouts: developer revenue-share under the SDK cooperation agreement — what is owed on
a date, to whom, and by when it must be paid."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.export import csv_bytes, workbook_bytes
from core.i18n import fmt_money, localise, localise_frame, report_frame, t, value_label
from core.payouts import (
    Flag,
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
from ui.charts import layout, money
from ui.router import require_router
from ui.session import lang
from ui.text import plain

require_router()
L = lang()
policy = load_settlement_policy()
st.header(t("payouts.heading", L))
st.caption(policy.title_zh if L == "zh" else policy.title)
DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "earnings_2024.csv"


@st.cache_data(show_spinner=False, max_entries=8)
def cached_read(data: bytes, name: str):
    return read_earnings(data, name)


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

c1, c2 = st.columns([1, 3])
day = c1.date_input(t("payouts.as_of", L), value=dt.date(2024, 12, 31), key="payouts_as_of")
st.subheader(t("payouts.flags", L))
st.caption(t("payouts.flags_help", L))
flag_table = st.data_editor(
    pd.DataFrame({"product": pd.Series(dtype=str), "from_month": pd.Series(dtype=str), "to_month": pd.Series(dtype=str),
                  "action": pd.Series(dtype=str), "flagged_on": pd.Series(dtype="datetime64[ns]")}),
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
flags = [
    Flag(str(r.product), str(r.from_month), str(r.to_month or r.from_month), r.action,
         r.flagged_on.date() if pd.notna(r.flagged_on) else None)
    for r in flag_table.itertuples() if r.product and r.from_month and r.action in ("withhold", "clawback")
]
try:
    ledger = settle_payouts(earnings, flags, policy)
    owed = owed_at(ledger, day)
except CalendarRangeError as exc:  # a payment deadline in a year the official calendar does not cover yet
    st.error(plain(localise(exc.problems[0], L)))
    if not st.checkbox(t("payouts.weekends_only", L), key="payouts_weekends_only"):
        st.stop()
    with weekends_only_beyond_calendar() as fallback_years:
        ledger = settle_payouts(earnings, flags, policy)
        owed = owed_at(ledger, day)
    for year in sorted(fallback_years):
        st.warning(weekends_only_assumption(year, L))
except InputError as exc:
    st.error(plain(localise(exc.problems[0], L)))
    st.stop()
m = st.columns(4)
for col, key in zip(m, ("statement_pending_fen", "invoice_pending_fen", "payment_pending_fen", "carried_fen")):
    col.metric(t(f"payouts.{key[:-4]}", L), fmt_money(owed[key], L), help=t(f"payouts.{key[:-4]}_help", L))

st.subheader(t("payouts.by_developer", L))
summary = ledger.groupby("developer").agg(earned_fen=("earned_fen", "sum"), withheld_fen=("withheld_fen", "sum"),
                                          clawback_fen=("clawback_fen", "sum"), paid_fen=("paid_fen", "sum"))
summary["carried_fen"] = ledger.sort_values("month").groupby("developer")["carried_out_fen"].last()
upcoming = ledger[(ledger["paid_fen"] > 0) & (ledger["pay_by"] >= day)].sort_values("pay_by").groupby("developer").head(1)
summary["next_pay_by"] = upcoming.set_index("developer")["pay_by"]
shown = pd.DataFrame({
    t("payouts.col.developer", L): summary.index,
    **{t(f"payouts.col.{c}", L): summary[f"{c}_fen"].map(lambda v: fmt_money(int(v), L, compact=False)).to_numpy()
       for c in ("earned", "withheld", "clawback", "paid", "carried")},
    t("payouts.col.next_pay_by", L): summary["next_pay_by"].map(
        lambda d: d.isoformat() if isinstance(d, dt.date) else t("payouts.nothing_due", L)).to_numpy(),
})
st.dataframe(shown, hide_index=True, width="stretch")

calendar = cash_calendar(ledger)
fig = go.Figure(go.Bar(x=calendar["week"], y=money(calendar["paid_fen"], L), name=t("payouts.col.paid", L)))
fig.add_vline(x=pd.Timestamp(day).value // 1_000_000, line_dash="dot")  # epoch ms: plotly cannot add a date to an annotation offset
st.plotly_chart(layout(fig, t("payouts.calendar", L), L), width="stretch")

with st.expander(t("payouts.detail", L)):
    st.dataframe(localise_frame(ledger, L), hide_index=True, width="stretch")
sheets = {t(f"sheet.{name}", L): localise_frame(frame, L) for name, frame in
          (("Payouts", ledger), ("By developer", summary.reset_index()), ("Cash calendar", calendar))}
st.download_button(t("export.excel", L), lambda: workbook_bytes(sheets),  # built on click, not every run
                   file_name=f"payouts_{day:%Y%m%d}.xlsx", key="payouts_xlsx")
st.download_button(t("export.csv", L), lambda: csv_bytes(localise_frame(ledger, L)), file_name="payouts.csv", key="payouts_csv")
with st.expander(t("page.assumptions", L)):
    for r in policy.readings:
        st.markdown(f"- {r.zh if L == 'zh' else r.en} ({r.clause})")
