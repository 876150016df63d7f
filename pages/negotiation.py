"""Negotiation: candidate targets side by side on the same spend forecast."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.i18n import fmt_money, fmt_pct, t
from core.negotiation import break_even_target
from ui.charts import layout, money, share_axis
from ui.state import cached_compare, method_choice, page_start, spend_key

ctx = page_start("negotiation.heading")
L, client, policy = ctx.lang, ctx.client, ctx.policy
current = client.terms.target_fen // 100
c1, c2, c3 = st.columns(3)
low = c1.number_input(t("negotiation.from", L), min_value=1_000_000, value=int(current * 0.6), step=1_000_000)
high = c2.number_input(t("negotiation.to", L), min_value=1_000_000, value=int(current * 1.4), step=1_000_000)
count = c3.slider(t("negotiation.count", L), 3, 15, 9)
if high <= low:
    st.warning(t("negotiation.range", L))
    st.stop()
targets = sorted({int(round(v, -4)) * 100 for v in np.linspace(low, high, count)})


with st.spinner(t("negotiation.running", L, n=len(targets))):
    table = cached_compare(spend_key(client), client.spend, client.terms, client.policy_name, ctx.as_of, tuple(targets), method_choice())
even = break_even_target(table)
best = table.loc[table["expected_net_fen"].idxmax()]
m = st.columns(2)
m[0].metric(t("negotiation.break_even", L), fmt_money(even, L) if even else "—", help=t("negotiation.break_even_help", L))
m[1].metric(t("negotiation.best", L), fmt_money(int(best["target_fen"]), L),
            help=t("negotiation.best_help", L, net=fmt_money(round(best["expected_net_fen"]), L)))
fig = go.Figure()
fig.add_trace(go.Scatter(x=money(table["target_fen"], L), y=money(table["expected_net_fen"], L), mode="lines+markers", name=t("negotiation.net", L)))
fig.add_trace(go.Scatter(x=money(table["target_fen"], L), y=table["p_target_met"], mode="lines", yaxis="y2", line={"dash": "dot"},
                         name=t("negotiation.p_target", L)))
share_axis(fig, t("negotiation.p_target", L), full_range=True)
fig = layout(fig, t("negotiation.chart", L), L, money_axes="xy")
fig.update_xaxes(title=t("chart.target", L))
st.plotly_chart(fig, width="stretch")
shown = pd.DataFrame({
    t("inputs.target", L): table["target_fen"].map(lambda v: fmt_money(int(v), L)),
    t("negotiation.p630", L): table["p_630_pass"].map(lambda v: fmt_pct(v, L, 0)),
    t("negotiation.p930", L): table["p_930_pass"].map(lambda v: fmt_pct(v, L, 0)),
    t("negotiation.p_target", L): table["p_target_met"].map(lambda v: fmt_pct(v, L, 0)),
    t("negotiation.return", L): table["expected_return_fen"].map(lambda v: fmt_money(round(v), L)),
    t("negotiation.deposit_loss", L): table["expected_deposit_loss_fen"].map(lambda v: fmt_money(round(v), L)),
    t("negotiation.net", L): table["expected_net_fen"].map(lambda v: fmt_money(round(v), L)),
})
st.dataframe(shown, hide_index=True, width="stretch")
st.caption(t("negotiation.note", L))
