"""Scenarios: save the current inputs under a name, compare two side by side on the same
spend data, and read the audit log of every change."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core.i18n import column_label, fmt_money, fmt_pct, t
from services import WriteRefused
from services.clients import audit_log, save_scenario, scenarios
from ui.caches import (
    cached_evaluation,
    cached_outlook,
    engine,
    resolve_policy,
    spend_key,
    terms_of,
)
from ui.context import page_start
from ui.session import method_choice, user_email, write_failure
from ui.tables import audit_table
from ui.terms import policy_choices
from ui.text import plain

ctx = page_start("scenarios.heading", needs_spend=False)
L, client = ctx.lang, ctx.client
contracts = policy_choices(L)
db = engine()

with st.form("save_scenario", clear_on_submit=True):
    name = st.text_input(t("scenarios.name", L), max_chars=80)
    if st.form_submit_button(t("scenarios.save", L)):
        if name.strip():
            try:
                save_scenario(db, client.id, name.strip(), client.inputs, ctx.as_of, client.policy_name, user_email())
                st.success(t("scenarios.saved", L, name=plain(name.strip())))
            except WriteRefused as exc:
                st.warning(write_failure(exc, L))
        else:
            st.warning(t("scenarios.name_needed", L))

saved = scenarios(db, client.id)
options = {"current": t("scenarios.current", L), **{str(s.id): f"{s.name} ({s.as_of or ''})" for s in saved}}
if len(options) < 2:
    st.info(t("scenarios.empty", L))
else:
    c1, c2 = st.columns(2)
    left = c1.selectbox(t("scenarios.left", L), list(options), format_func=options.get, key="scenario_left")
    right = c2.selectbox(t("scenarios.right", L), list(options), index=1, format_func=options.get, key="scenario_right")

    def summary(choice: str) -> dict[str, str]:
        if choice == "current":
            inputs, day, ref = client.inputs, ctx.as_of, client.policy_name
        else:
            s = next(s for s in saved if str(s.id) == choice)
            inputs, day, ref = json.loads(s.inputs_json), s.as_of or ctx.as_of, s.policy or client.policy_name
        pinned = resolve_policy(ref)  # the contract the scenario was saved under, not today's
        terms = terms_of(inputs, pinned)
        result = cached_evaluation(spend_key(client), client.spend, terms, ref, day)
        row = {
            column_label("policy", L): contracts.get(ref, ref),
            t("inputs.target", L): fmt_money(terms.target_fen, L),
            t("inputs.customer_type", L): t(f"inputs.customer_type.{terms.customer_type}", L, prev=pinned.year_start.year - 1),
            t("app.as_of", L): str(day),
            t("overview.completion", L): fmt_pct(result.completion_rate, L),
        }
        if day < pinned.year_end and not client.spend.empty:
            outlook = cached_outlook(spend_key(client), client.spend, terms, ref, day, method_choice())
            d, p = outlook.projection.distributions(), outlook.projection.probabilities()
            row[t("overview.projected_completion", L)] = fmt_pct(d["completion_rate"]["p50"], L)
            row[t("overview.target_chance", L)] = fmt_pct(p["target_met"]["yes"], L, 0)
            row[t("overview.expected_return", L)] = fmt_money(round(d["final_return"]["mean"] * 100), L)
            row[t("overview.deposit_at_risk", L)] = fmt_money(round(d["deposit_deducted"]["mean"] * 100), L)
        else:
            row[t("overview.final_return", L)] = fmt_money(result.final_return_fen, L)
            row[t("overview.deposit_deducted", L)] = fmt_money(result.deposit_deducted_fen, L)
        return row

    table = pd.DataFrame({options[left]: summary(left), options[right]: summary(right)})
    st.dataframe(table, width="stretch")

st.subheader(t("scenarios.audit", L))
log = audit_log(db, client.id)
if log.empty:
    st.info(t("scenarios.no_audit", L))
else:
    st.dataframe(audit_table(log, L), hide_index=True, width="stretch")
