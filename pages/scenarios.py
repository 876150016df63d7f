"""Scenarios: save the current inputs under a name, compare two side by side on the same
spend data, and read the audit log of every change."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import streamlit as st

from core.i18n import column_label, fmt_money, fmt_pct, t
from services import Database
from services.clients import audit_log, save_scenario, scenarios
from ui.caches import (
    cached_evaluation,
    cached_outlook,
    engine,
    resolve_policy,
    spend_key,
    terms_of,
)
from ui.context import PageContext, page_start
from ui.session import method_choice, try_write, user_email
from ui.tables import audit_table
from ui.terms import policy_choices
from ui.text import plain


def save_form(db: Database, ctx: PageContext) -> None:
    """Save the current inputs, date and contract under a name."""
    L, client = ctx.lang, ctx.client
    with st.form("save_scenario", clear_on_submit=True):
        name = st.text_input(t("scenarios.name", L), max_chars=80)
        if not st.form_submit_button(t("scenarios.save", L)):
            return
        if not name.strip():
            st.warning(t("scenarios.name_needed", L))
            return
        if try_write(lambda: save_scenario(db, client.id, name.strip(), client.inputs, ctx.as_of, client.policy_name,
                                           user_email()), L)[0]:
            st.success(t("scenarios.saved", L, name=plain(name.strip())))


def scenario_inputs(ctx: PageContext, saved: list[Any], choice: str) -> tuple[dict[str, Any], dt.date, str]:
    """The inputs, date and pinned contract of the current client or of a saved scenario."""
    client = ctx.client
    if choice == "current":
        return client.inputs, ctx.as_of, client.policy_name
    s = next(s for s in saved if str(s.id) == choice)
    return json.loads(s.inputs_json), s.as_of or ctx.as_of, s.policy or client.policy_name


def summary(ctx: PageContext, saved: list[Any], choice: str, contracts: dict[str, str]) -> dict[str, str]:
    """One column of the comparison: the scenario's terms and what they give on today's spend."""
    L, client = ctx.lang, ctx.client
    inputs, day, ref = scenario_inputs(ctx, saved, choice)
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


def comparison(db: Database, ctx: PageContext) -> None:
    """Two scenarios (or the current inputs) side by side on the same spend."""
    L = ctx.lang
    contracts = policy_choices(L)
    saved = scenarios(db, ctx.client.id)
    options = {"current": t("scenarios.current", L), **{str(s.id): f"{s.name} ({s.as_of or ''})" for s in saved}}
    if len(options) < 2:
        st.info(t("scenarios.empty", L))
        return
    c1, c2 = st.columns(2)
    left = c1.selectbox(t("scenarios.left", L), list(options), format_func=options.get, key="scenario_left")
    right = c2.selectbox(t("scenarios.right", L), list(options), index=1, format_func=options.get, key="scenario_right")
    table = pd.DataFrame({options[left]: summary(ctx, saved, left, contracts),
                          options[right]: summary(ctx, saved, right, contracts)})
    st.dataframe(table, width="stretch")


def main() -> None:
    ctx = page_start("scenarios.heading", needs_spend=False)
    L = ctx.lang
    db = engine()
    save_form(db, ctx)
    comparison(db, ctx)
    st.subheader(t("scenarios.audit", L))
    log = audit_log(db, ctx.client.id)
    if log.empty:
        st.info(t("scenarios.no_audit", L))
    else:
        st.dataframe(audit_table(log, L), hide_index=True, width="stretch")


main()
