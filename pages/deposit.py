"""Deposit: the contract's deduction curve for this client (thresholds and the previous year's amount
marked) with the projected distribution of completion on it."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.deposit import deduction_curve
from core.evaluation import Evaluation
from core.i18n import fmt_money, fmt_pct, t
from ui.charts import layout, money, share_axis
from ui.context import PageContext, page_start


def curve_figure(ctx: PageContext, result: Evaluation) -> go.Figure:
    """The deduction step curve with the threshold, last year's amount and today's completion marked."""
    L, policy, terms = ctx.lang, ctx.policy, ctx.client.terms
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
    fig.add_vline(x=result.actual_fen / terms.target_fen, line_color="#1f4e9c", annotation_text=t("deposit.to_date", L),
                  annotation_position="bottom right")
    return fig


def projected(ctx: PageContext, fig: go.Figure) -> None:
    """Before year end: the projected completion as a histogram on the curve, and the expected deduction."""
    L, terms = ctx.lang, ctx.client.terms
    outlook = ctx.outlook()
    completion = np.asarray(outlook.projection.outcome.actual, dtype=float) / terms.target_fen
    fig.add_trace(go.Histogram(x=completion, nbinsx=60, yaxis="y2", opacity=0.35, name=t("deposit.projected", L),
                               histnorm="probability"))
    d = outlook.projection.distributions()["deposit_deducted"]
    cols = st.columns(3)
    cols[0].metric(t("deposit.expected", L), fmt_money(round(d["mean"] * 100), L))
    cols[1].metric(t("deposit.p90", L), fmt_money(round(d["p90"] * 100), L))
    cols[2].metric(t("deposit.amount", L), fmt_money(terms.deposit_amount(ctx.policy), L))


def settled(ctx: PageContext, result: Evaluation) -> None:
    cols = st.columns(2)
    cols[0].metric(t("overview.deposit_deducted", ctx.lang), fmt_money(result.deposit_deducted_fen, ctx.lang))
    cols[1].metric(t("deposit.amount", ctx.lang), fmt_money(ctx.client.terms.deposit_amount(ctx.policy), ctx.lang))


def rules_caption(ctx: PageContext) -> str:
    L, policy, terms = ctx.lang, ctx.policy, ctx.client.terms
    bands = policy.deposit.bands(terms.customer_type)
    return t("deposit.rules", L, prev=policy.year_start.year - 1, bands="; ".join(
        f"≥ {fmt_pct(float(b.min_completion), L, 0)}: "
        + (t("deposit.shortfall_rule", L) if b.deduct == "shortfall" else fmt_pct(float(b.deduct), L, 0))
        for b in bands))


def main() -> None:
    ctx = page_start("deposit.heading")
    L, policy, terms = ctx.lang, ctx.policy, ctx.client.terms
    result = ctx.evaluation()
    fig = curve_figure(ctx, result)
    if ctx.as_of < policy.year_end:
        projected(ctx, fig)
    else:
        settled(ctx, result)
    share_axis(fig, t("deposit.share_of_paths", L))
    fig.update_layout(xaxis={"tickformat": ".0%", "title": t("overview.completion", L)})
    title = t("deposit.chart", L, type=t(f"inputs.customer_type.{terms.customer_type}", L, prev=policy.year_start.year - 1))
    st.plotly_chart(layout(fig, title, L, 460), width="stretch")
    st.caption(rules_caption(ctx))


main()
