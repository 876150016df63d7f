"""Returns: pre-return by quarter, the year-end settlement as a waterfall, and the return
balances by bucket with their expiry and projected unused amounts."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.i18n import fmt_money, t, value_label
from core.policy import QUARTERS
from ui.charts import layout, money
from ui.context import page_start

ctx = page_start("returns.heading")
L, policy = ctx.lang, ctx.policy
outlook = ctx.outlook()
final = ctx.as_of >= policy.year_end
result = ctx.evaluation()
st.caption(t("returns.basis_actual", L) if final else t("returns.basis_expected", L, paths=f"{outlook.projection.paths:,}"))
expected = None if final else outlook.projection.expected_fen()  # the same means as the Overview's KPIs
pre = list(result.pre_return_fen) if final else list(expected["pre_return"])
credited = list(result.credited_fen) if final else list(expected["credited"])
entitlement = result.final_return_fen if final else expected["final_return"]
settlement = result.year_end_settlement_fen if final else expected["year_end_settlement"]
clawback = result.clawback_fen if final else expected["clawback"]

left, right = st.columns(2)
with left:
    fig = go.Figure([go.Bar(x=list(QUARTERS), y=money(pre, L), name=t("overview.pre_return", L))])
    st.plotly_chart(layout(fig, t("returns.by_quarter", L), L), width="stretch")
with right:
    pre_q1_q3 = sum(pre[:3])
    withheld = pre_q1_q3 - sum(credited)
    steps = [
        (t("returns.w.pre_returns", L), pre_q1_q3, "absolute"),
        (t("returns.w.withheld", L), -withheld, "relative"),
        (t("returns.w.credited", L), sum(credited), "total"),
        (t("returns.w.recalc", L), (entitlement or 0) - sum(credited), "relative"),
        (t("returns.w.final", L), entitlement or 0, "total"),
    ]
    fig = go.Figure(go.Waterfall(x=[s[0] for s in steps], y=money([s[1] for s in steps], L), measure=[s[2] for s in steps]))
    st.plotly_chart(layout(fig, t("returns.waterfall", L), L), width="stretch")
    st.caption(f"{t('returns.w.settlement', L)}: {fmt_money(settlement, L)} · {t('returns.w.clawback', L)}: {fmt_money(clawback, L)}")

st.subheader(t("returns.ledger", L))
ledger = outlook.ledger
if ledger.empty:
    st.info(t("returns.no_credits", L))
else:
    shown = pd.DataFrame({
        t("returns.col.quarter", L): ledger["quarter"],
        t("returns.col.bucket", L): ledger["bucket"].map(lambda b: value_label("bucket", b, L)),
        t("returns.col.credited", L): ledger["credited_fen"].map(lambda v: fmt_money(v, L, compact=False)),
        t("returns.col.credit_date", L): ledger["credit_date"],
        t("returns.col.expiry", L): ledger["expiry"],
        t("returns.col.balance", L): ledger["balance_at_as_of_fen"].map(lambda v: fmt_money(v, L, compact=False)),
        t("returns.col.unused", L): ledger["projected_unused_fen"].map(lambda v: fmt_money(v, L, compact=False)),
        t("returns.col.per_day", L): ledger["needed_per_day_fen"].map(lambda v: fmt_money(v, L, compact=False)),
    })
    st.dataframe(shown, hide_index=True, width="stretch")
    by_expiry = ledger.groupby("expiry")[["credited_fen", "projected_unused_fen"]].sum().reset_index()
    fig = go.Figure([
        go.Bar(x=by_expiry["expiry"], y=money(by_expiry["credited_fen"], L), name=t("returns.col.credited", L)),
        go.Bar(x=by_expiry["expiry"], y=money(by_expiry["projected_unused_fen"], L), name=t("returns.col.unused", L)),
    ])
    fig.update_layout(barmode="group")
    st.plotly_chart(layout(fig, t("returns.expiry_chart", L), L), width="stretch")
