"""Checkpoints: 630 and 930 and the year-end levels — where we are, the chance of each
outcome, the spend still needed per day and week, and what each outcome costs."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.assessments import reduction_cost_fen
from core.i18n import fmt_money, fmt_pct, t
from ui.context import page_start
from ui.reliability import reliability_panel

ctx = page_start("checkpoints.heading")
L, policy = ctx.lang, ctx.policy
final = ctx.as_of >= policy.year_end
outlook = None if final else ctx.outlook()
st.subheader(t("checkpoints.final" if final else "checkpoints.required", L))
table = pd.DataFrame([
    {
        t("checkpoints.col.checkpoint", L): t(f"checkpoints.cp.{r.key}", L),
        t("checkpoints.col.status", L): t(f"checkpoints.status.{r.status}", L),  # second: never cut off on a narrow screen
        t("checkpoints.col.by", L): r.by,
        t("checkpoints.col.level", L): fmt_money(r.level_fen, L, compact=False),
        t("checkpoints.col.done", L): fmt_money(r.done_fen, L, compact=False),
        t("checkpoints.col.needed", L): fmt_money(r.needed_fen, L, compact=False),
        **({} if final else {
            t("checkpoints.col.per_day", L): fmt_money(r.per_day_fen, L, compact=False),
            t("checkpoints.col.per_week", L): fmt_money(r.per_week_fen, L, compact=False),
            t("checkpoints.col.multiple", L): "—" if r.multiple_of_run_rate is None else f"{r.multiple_of_run_rate}×",
        }),
    }
    for r in ctx.requirements()
])
narrow = {t("checkpoints.col.checkpoint", L): st.column_config.TextColumn(width="medium")}  # the status stays in view on a phone
st.dataframe(table, hide_index=True, width="stretch", column_config=narrow)
if final:
    st.stop()

st.subheader(t("checkpoints.probabilities", L))
probs = outlook.projection.probabilities()
cols = st.columns(3)
for col, name in zip(cols, ("assessment_630", "assessment_930", "year_end_rule")):
    shown = {t(f"outcome.{k}", L): fmt_pct(v, L) for k, v in probs[name].items() if v > 0}
    col.markdown(f"**{t('overview.a630' if name == 'assessment_630' else 'overview.a930' if name == 'assessment_930' else 'overview.year_end', L)}**")
    col.dataframe(pd.Series(shown, name="%"), width="stretch")
reliability_panel(outlook, L, expanded=True)

st.subheader(t("checkpoints.cost", L))
o = outlook.expected.outcome
q3 = int(o.pre_return[0][policy.assessment_930.withheld_quarter - 1])
st.markdown(t("checkpoints.cost_text", L, reduced=fmt_money(reduction_cost_fen(o.totals, policy), L), q3=fmt_money(q3, L)))
