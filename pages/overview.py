"""Overview: completion, checkpoints, deposit and returns of the selected client."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.i18n import fmt_money, fmt_pct, t
from core.policy import QUARTERS
from core.progress import checkpoints
from ui.router import require_router
from ui.state import (
    as_of,
    cached_daily_counted,
    cached_evaluation,
    current_client,
    lang,
    policy_of,
)

require_router()
L = lang()
client = current_client()
policy = policy_of(client)
day = as_of(client)
st.header(t("overview.heading", L, client=client.name))

if client.spend.empty:
    st.info(t("overview.empty", L))
    st.stop()

result = cached_evaluation(client.spend, client.terms, client.policy_name, day)
cols = st.columns(5)
cols[0].metric(
    t("overview.completion", L), fmt_pct(result.completion_rate, L),
    help=t("overview.completion_help", L, target=fmt_money(result.target_fen, L)),
)
cols[1].metric(t("overview.a630", L), t(f"outcome.{result.assessment_630}", L))
cols[2].metric(t("overview.a930", L), t(f"outcome.{result.assessment_930}", L))
cols[3].metric(t("overview.year_end", L), t(f"outcome.{result.year_end_rule}", L))
cols[4].metric(t("overview.deposit_deducted", L), fmt_money(result.deposit_deducted_fen, L))

cols = st.columns(5)
cols[0].metric(t("overview.actual", L), fmt_money(result.actual_fen, L))
cols[1].metric(t("overview.final_return", L), fmt_money(result.final_return_fen, L))
cols[2].metric(t("overview.settlement", L), fmt_money(result.year_end_settlement_fen, L))
cols[3].metric(t("overview.clawback", L), fmt_money(result.clawback_fen, L))
cols[4].metric(t("overview.refundable", L), fmt_money(result.deposit_refundable_fen, L))

left, right = st.columns([3, 2])
with left:
    daily = cached_daily_counted(client.spend, client.terms, client.policy_name, day)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=daily["date"], y=daily["cumulative_fen"] / 100, name=t("overview.actual", L), mode="lines"))
    for cp in checkpoints(policy, client.terms):
        fig.add_trace(
            go.Scatter(
                x=[policy.year_start, cp.by], y=[cp.amount_fen(client.terms) / 100] * 2, mode="lines",
                line={"dash": "dot", "width": 1}, name=t("overview.target_line", L, pct=fmt_pct(float(cp.share), L, 0)),
            )
        )
    fig.update_layout(
        title=t("overview.cumulative", L), height=380, margin={"l": 10, "r": 10, "t": 50, "b": 10},
        xaxis_title=t("overview.date", L), yaxis_title=t("overview.amount", L), legend={"orientation": "h", "y": -0.2},
    )
    st.plotly_chart(fig, width="stretch")
with right:
    frame = pd.DataFrame(
        {
            t("overview.quarter", L): list(QUARTERS),
            t("overview.pre_return", L): [v / 100 for v in result.pre_return_fen],
            t("overview.credited", L): [v / 100 for v in result.credited_fen] + [None],
        }
    )
    bars = go.Figure(
        [
            go.Bar(x=frame.iloc[:, 0], y=frame.iloc[:, 1], name=t("overview.pre_return", L)),
            go.Bar(x=frame.iloc[:, 0], y=frame.iloc[:, 2], name=t("overview.credited", L)),
        ]
    )
    bars.update_layout(
        title=t("overview.pre_return_by_quarter", L), height=380, barmode="group",
        margin={"l": 10, "r": 10, "t": 50, "b": 10}, yaxis_title=t("overview.amount", L),
        legend={"orientation": "h", "y": -0.2},
    )
    st.plotly_chart(bars, width="stretch")

with st.expander(t("page.assumptions", L)):
    for text in result.assumptions(policy, L):
        st.markdown(f"- {text}")
