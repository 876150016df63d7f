"""Deposit: the contract's deduction curve for this client (thresholds and the previous year's amount
marked) with the projected distribution of completion on it."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.deposit import deduction_curve
from core.i18n import fmt_money, fmt_pct, t
from ui.charts import layout, money, share_axis
from ui.context import page_start

ctx = page_start("deposit.heading")
L, client, policy = ctx.lang, ctx.client, ctx.policy
terms = client.terms
grid = np.round(np.linspace(0, 1.2, 241), 4)
curve = deduction_curve(terms, policy, grid)
fig = go.Figure()
fig.add_trace(go.Scatter(x=grid, y=money([int(v) for v in curve], L), mode="lines", line={"shape": "hv", "width": 3},
                         name=t("deposit.curve", L)))
marks = [(policy.threshold(terms.customer_type, terms.main_industry) * 100 / terms.target_fen, t("deposit.threshold", L)),
         (terms.previous_year_fen / terms.target_fen, t("deposit.amount_2023", L, prev=policy.year_start.year - 1))]
for x, name in marks:
    if 0 < float(x) <= 1.2:
        fig.add_vline(x=float(x), line_dash="dot", annotation_text=name, annotation_position="top left")
result = ctx.evaluation()
fig.add_vline(x=result.actual_fen / terms.target_fen, line_color="#1f4e9c", annotation_text=t("deposit.to_date", L),
              annotation_position="bottom right")
if ctx.as_of < policy.year_end:
    outlook = ctx.outlook()
    completion = np.asarray(outlook.projection.outcome.actual, dtype=float) / terms.target_fen
    fig.add_trace(go.Histogram(x=completion, nbinsx=60, yaxis="y2", opacity=0.35, name=t("deposit.projected", L),
                               histnorm="probability"))
    d = outlook.projection.distributions()["deposit_deducted"]
    cols = st.columns(3)
    cols[0].metric(t("deposit.expected", L), fmt_money(round(d["mean"] * 100), L))
    cols[1].metric(t("deposit.p90", L), fmt_money(round(d["p90"] * 100), L))
    cols[2].metric(t("deposit.amount", L), fmt_money(terms.deposit_amount(policy), L))
else:
    cols = st.columns(2)
    cols[0].metric(t("overview.deposit_deducted", L), fmt_money(result.deposit_deducted_fen, L))
    cols[1].metric(t("deposit.amount", L), fmt_money(terms.deposit_amount(policy), L))
share_axis(fig, t("deposit.share_of_paths", L))
fig.update_layout(xaxis={"tickformat": ".0%", "title": t("overview.completion", L)})
st.plotly_chart(layout(fig, t("deposit.chart", L, type=t(f"inputs.customer_type.{terms.customer_type}", L, prev=policy.year_start.year - 1)), L, 460), width="stretch")
bands = policy.deposit.bands(terms.customer_type)
st.caption(t("deposit.rules", L, prev=policy.year_start.year - 1, bands="; ".join(
    f"≥ {fmt_pct(float(b.min_completion), L, 0)}: " + (t("deposit.shortfall_rule", L) if b.deduct == "shortfall" else fmt_pct(float(b.deduct), L, 0))
    for b in bands)))
