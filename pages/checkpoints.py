"""Checkpoints: 630 and 930 and the year-end levels — where we are, the chance of each
outcome, the spend still needed per day and week, and what each outcome costs."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.assessments import reduction_cost_fen, withheld_by_930_fen
from core.i18n import fmt_money, fmt_pct, t
from core.outlook import Outlook
from core.policy import Policy
from ui.context import PageContext, page_start
from ui.reliability import reliability_panel

HEADINGS = {"assessment_630": "overview.a630", "assessment_930": "overview.a930", "year_end_rule": "overview.year_end"}


def requirements_table(ctx: PageContext, final: bool) -> pd.DataFrame:
    """Required spend per checkpoint; at year end only what was reached and missed."""
    L = ctx.lang

    def fen(v: int) -> str:
        return fmt_money(v, L, compact=False)

    return pd.DataFrame([
        {
            t("checkpoints.col.checkpoint", L): t(f"checkpoints.cp.{r.key}", L),
            t("checkpoints.col.status", L): t(f"checkpoints.status.{r.status}", L),  # second: never cut off on a narrow screen
            t("checkpoints.col.by", L): r.by,
            t("checkpoints.col.level", L): fen(r.level_fen),
            t("checkpoints.col.done", L): fen(r.done_fen),
            t("checkpoints.col.needed", L): fen(r.needed_fen),
            **({} if final else {
                t("checkpoints.col.per_day", L): fen(r.per_day_fen),
                t("checkpoints.col.per_week", L): fen(r.per_week_fen),
                t("checkpoints.col.multiple", L): "—" if r.multiple_of_run_rate is None else f"{r.multiple_of_run_rate}×",
            }),
        }
        for r in ctx.requirements()
    ])


def probabilities(outlook: Outlook, L: str) -> None:
    st.subheader(t("checkpoints.probabilities", L))
    probs = outlook.projection.probabilities()
    for col, name in zip(st.columns(3), HEADINGS):
        shown = {t(f"outcome.{k}", L): fmt_pct(v, L) for k, v in probs[name].items() if v > 0}
        col.markdown(f"**{t(HEADINGS[name], L)}**")
        col.dataframe(pd.Series(shown, name="%"), width="stretch")


def costs(outlook: Outlook, policy: Policy, L: str) -> None:
    """What a 630 reduction and a failed 930 would cost on the expected path."""
    st.subheader(t("checkpoints.cost", L))
    o = outlook.expected.outcome
    st.markdown(t("checkpoints.cost_text", L, reduced=fmt_money(reduction_cost_fen(o.totals, policy), L),
                  q3=fmt_money(withheld_by_930_fen(o.pre_return[0], policy), L)))


def main() -> None:
    ctx = page_start("checkpoints.heading")
    L, policy = ctx.lang, ctx.policy
    final = ctx.as_of >= policy.year_end
    outlook = None if final else ctx.outlook()
    st.subheader(t("checkpoints.final" if final else "checkpoints.required", L))
    narrow = {t("checkpoints.col.checkpoint", L): st.column_config.TextColumn(width="medium")}  # the status stays in view on a phone
    st.dataframe(requirements_table(ctx, final), hide_index=True, width="stretch", column_config=narrow)
    if outlook is None:
        return
    probabilities(outlook, L)
    reliability_panel(outlook, L, expanded=True)
    costs(outlook, policy, L)


main()
