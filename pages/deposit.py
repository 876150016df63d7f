"""Deposit: the contract's deduction curve for this client (thresholds and the previous year's amount
marked) with the projected distribution of completion on it."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.evaluation import Evaluation
from core.i18n import fmt_money, fmt_pct, t
from ui.context import PageContext, page_start
from ui.figures import deduction_figure


def projected(ctx: PageContext) -> np.ndarray:
    """Before year end: the expected and P90 deduction; returns each path's completion."""
    L, terms = ctx.lang, ctx.client.terms
    outlook = ctx.outlook()
    d = outlook.projection.distributions()["deposit_deducted"]
    cols = st.columns(3)
    cols[0].metric(t("deposit.expected", L), fmt_money(round(d["mean"] * 100), L))
    cols[1].metric(t("deposit.p90", L), fmt_money(round(d["p90"] * 100), L))
    cols[2].metric(t("deposit.amount", L), fmt_money(terms.deposit_amount(ctx.policy), L))
    return np.asarray(outlook.projection.outcome.actual, dtype=float) / terms.target_fen


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
    completion = None
    if ctx.as_of < policy.year_end:
        completion = projected(ctx)
    else:
        settled(ctx, result)
    st.plotly_chart(deduction_figure(terms, policy, result.actual_fen, completion, L), width="stretch")
    st.caption(rules_caption(ctx))


main()
