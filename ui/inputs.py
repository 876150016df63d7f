"""The sidebar's contract inputs: edited live, saved to the client with an audit entry.

Why callbacks: the new value is saved before the rerun draws the page, so every number
on the page is recomputed from the stored inputs at once.
"""
from __future__ import annotations

import datetime as dt

import streamlit as st

from core.i18n import fmt_money, t
from core.policy import CUSTOMER_TYPES, load_policy
from store import repo
from store.repo import BusyError, ConflictError

from .caches import ClientInputs, engine, policy_of
from .session import user_email, user_team, write_failure
from .text import plain


def _save(client: ClientInputs, key: str, field: str, convert) -> None:
    inputs = dict(client.inputs)
    inputs[field] = convert(st.session_state[key])
    try:
        with st.spinner(t("inputs.saving", st.session_state.get("lang", "zh"))):
            repo.update_client_inputs(engine(), client.id, client.version, inputs, client.default_as_of, who=user_email())
    except (ConflictError, BusyError) as exc:  # the widget keeps the typed value: the user can try again
        st.session_state["_input_error"] = write_failure(exc, st.session_state.get("lang", "zh"))


def _money(value: float) -> float:
    return round(float(value), 2)


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def contract_inputs(client: ClientInputs, lang: str) -> None:
    """Target amount, customer type, main industry, previous year's actual amount, deposit paid date."""
    policy = policy_of(client)
    inp = client.inputs
    k = f"{client.id}"
    kl = f"{client.id}_{lang}"  # selectbox labels follow the language: one widget per language
    with st.sidebar.expander(t("inputs.heading", lang), expanded=True):
        st.number_input(
            t("inputs.target", lang), min_value=1.0, step=1_000_000.0, format="%.2f",
            value=float(inp["target_amount"]), key=f"target_{k}",
            on_change=_save, args=(client, f"target_{k}", "target_amount", _money),
        )
        st.caption(fmt_money(client.terms.target_fen, lang, compact=False))
        st.selectbox(
            t("inputs.customer_type", lang), list(CUSTOMER_TYPES), index=list(CUSTOMER_TYPES).index(inp["customer_type"]),
            format_func=lambda v: t(f"inputs.customer_type.{v}", lang, prev=policy.year_start.year - 1), key=f"ctype_{kl}",
            on_change=_save, args=(client, f"ctype_{kl}", "customer_type", str),
        )
        industries = list(policy.main_industries)
        st.selectbox(
            t("inputs.main_industry", lang), industries, index=industries.index(inp.get("main_industry", "other")),
            format_func=lambda v: t(f"industry.{v}", lang), key=f"industry_{kl}",
            on_change=_save, args=(client, f"industry_{kl}", "main_industry", str),
        )
        st.number_input(
            t("inputs.previous_year", lang, prev=policy.year_start.year - 1), min_value=0.0, step=1_000_000.0, format="%.2f",
            value=float(client.terms.previous_year_fen) / 100, key=f"prev_{k}",
            on_change=_save, args=(client, f"prev_{k}", "previous_year", _money),
        )
        paid = dt.date.fromisoformat(inp["deposit_paid_on"]) if inp.get("deposit_paid_on") else None
        lo, hi = dt.date(policy.year_start.year - 1, 1, 1), policy.year_end
        st.date_input(  # a date from another contract year (the client moved to new terms) stays visible, never crashes
            t("inputs.deposit_paid_on", lang), value=paid, min_value=min(lo, paid or lo), max_value=max(hi, paid or hi),
            key=f"paid_{k}",
            on_change=_save, args=(client, f"paid_{k}", "deposit_paid_on", _date),
        )
    if st.session_state.get("_input_error"):
        st.sidebar.error(st.session_state.pop("_input_error"))  # our own catalogue text


def new_client_form(lang: str) -> None:
    """Sidebar: create a client with the policy's default inputs (the contract's minimum target)."""
    with st.sidebar.expander(t("inputs.new_client", lang)):
        with st.form("new_client", clear_on_submit=True):
            name = st.text_input(t("inputs.client_name", lang), max_chars=80)
            if st.form_submit_button(t("inputs.create", lang)):
                name = name.strip()
                if not name:
                    st.warning(t("inputs.name_needed", lang))
                elif repo.name_taken(engine(), name, user_team()):  # unique within the team only
                    st.warning(t("inputs.name_taken", lang, name=plain(name)))
                else:
                    inputs = load_policy().new_client_inputs()
                    try:
                        created = repo.create_client(engine(), name, inputs, team=user_team(), who=user_email())
                    except (repo.NameTakenError, BusyError):
                        st.warning(t("inputs.name_taken", lang, name=plain(name)))
                        return
                    st.session_state["_select_client"] = created.id  # applied before the picker next run
                    st.rerun()
