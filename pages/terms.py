"""Contract terms: start from a shipped or saved contract, move it to another year, change
its numbers, see what changed and whether it is valid, save it as a new version, and
evaluate the client under it."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from core.i18n import column_label, t
from core.policy import PolicyError, parse_policy
from core.policy_edit import changes, set_value, validated, with_year
from services import WriteRefused
from ui.context import page_start
from ui.session import write_failure
from ui.terms import (
    change_label,
    imported_text,
    other_numbers,
    policy_choices,
    policy_text,
    save_terms,
    use_terms,
    with_number,
    with_other_numbers,
    with_table,
)
from ui.text import plain

ctx = page_start("terms.heading", needs_spend=False)
L, client = ctx.lang, ctx.client
st.caption(t("terms.intro", L))
choices = policy_choices(L)
current = client.policy_name if client.policy_name in choices else next(iter(choices))
base_ref = st.selectbox(t("terms.base", L), list(choices), index=list(choices).index(current), format_func=choices.get,
                        key="terms_base")
base_text = policy_text(base_ref)
upload = st.file_uploader(t("terms.import", L), type=["toml"], key="terms_import")
if upload is not None:  # a contract exported here (or written by hand) as the starting point
    try:
        base_text, base_ref = imported_text(upload.getvalue(), upload.name), f"import:{upload.name}"
    except PolicyError as exc:
        st.error(t("terms.invalid", L, reason=plain(str(exc))))
        st.stop()
base = parse_policy(base_text, source=base_ref)
k = f"{base_ref}"

year = int(st.number_input(t("terms.year", L), min_value=2020, max_value=2035, value=base.year_start.year, step=1,
                           key=f"terms_year_{k}"))
text = with_year(base_text, year) if year != base.year_start.year else base_text
moved = parse_policy(text, source=base_ref)
ky = f"{k}_{year}"

st.subheader(t("terms.dates", L))
cols = st.columns(4)
for col, (key, value) in zip(cols, (("assessment_630.date", moved.assessment_630.date),
                                    ("assessment_930.date", moved.assessment_930.date),
                                    ("deposit.due_before", moved.deposit.due_before),
                                    ("credit_timing.final_deadline", moved.credit_timing.final_deadline))):
    chosen = col.date_input(t(f"terms.f.{key}", L), value=value, key=f"terms_{key}_{ky}",
                            min_value=dt.date(year - 1, 1, 1), max_value=dt.date(year + 2, 12, 31))
    text = set_value(text, key, chosen)

st.subheader(t("terms.numbers", L))
cols = st.columns(4)
for col, (key, value) in zip(cols, (("deposit.rate", moved.deposit.rate), ("assessment_630.pass_at", moved.assessment_630.pass_at),
                                    ("assessment_630.reduced_at", moved.assessment_630.reduced_at),
                                    ("assessment_930.pass_at", moved.assessment_930.pass_at))):
    pct = col.number_input(t(f"terms.f.{key}", L), min_value=0.0, max_value=100.0, value=float(value * 100), step=0.5,
                           format="%.2f", key=f"terms_{key}_{ky}")
    text = with_number(text, key, round(pct, 4), percent=True)

st.markdown(f"**{t('terms.thresholds', L)}**")
thresholds = pd.DataFrame({ct: {ind: int(v) for ind, v in table.items()} for ct, table in moved.thresholds.items()}).T
shown = st.data_editor(thresholds.rename(columns=lambda c: t(f"industry.{c}", L),
                                         index=lambda c: t(f"inputs.customer_type.{c}", L, prev=year - 1)),
                       key=f"terms_thresholds_{ky}", width="stretch")
thresholds.loc[:, :] = shown.to_numpy()

st.markdown(f"**{t('terms.ads_rates', L)}**")
ads = pd.DataFrame({col: {cls: float(v * 100) for cls, v in table.items()} for col, table in moved.rates.ads.items()})
shown_ads = st.data_editor(ads.rename(columns=lambda c: t(f"terms.ads.{c}", L)), key=f"terms_ads_{ky}", width="stretch")
ads.loc[:, :] = shown_ads.to_numpy()

others = other_numbers(text, L)
with st.expander(t("terms.other_numbers", L, n=len(others))):
    st.caption(t("terms.other_numbers.help", L))
    shown_others = st.data_editor(others, disabled=[others.columns[0]], key=f"terms_other_{ky}", width="stretch")

name = st.text_input(t("terms.name", L), value=f"{moved.name}_{client.id}", max_chars=60, key=f"terms_name_{ky}")
try:
    text = with_table(text, "thresholds", thresholds)
    text = with_table(text, "rates.ads", ads.T, percent=True)
    text = with_other_numbers(text, shown_others)
    edited = validated(text, name)
except PolicyError as exc:
    st.error(t("terms.invalid", L, reason=plain(str(exc))))
    st.stop()

diff = changes(base_text, set_value(text, "name", base.name))
st.subheader(t("terms.diff", L, n=len(diff)))
if diff:
    st.dataframe(pd.DataFrame({t("terms.col.key", L): [change_label(c.key, L) for c in diff],
                               t("terms.col.base", L): [str(c.base) for c in diff],
                               t("terms.col.edited", L): [str(c.edited) for c in diff]}), hide_index=True, width="stretch")
else:
    st.info(t("terms.no_changes", L))

c1, c2, c3 = st.columns(3)
c3.download_button(t("terms.export", L), set_value(text, "name", name).encode("utf-8"), file_name=f"{name}.toml",
                   mime="application/toml", key="terms_export")  # the file the CLI takes with --policy
if c1.button(t("terms.save", L), type="primary", disabled=not diff, key="terms_save"):
    try:
        ref = save_terms(name, text, base_ref)
        st.session_state["terms_saved"] = ref
        st.success(t("terms.saved", L, name=plain(name), ref=ref))
    except WriteRefused as exc:
        st.warning(write_failure(exc, L))
saved = st.session_state.get("terms_saved")
if saved and c2.button(t("terms.use", L, client=plain(client.name)), key="terms_use"):
    try:
        use_terms(client, saved)
        st.rerun()
    except WriteRefused as exc:
        st.warning(write_failure(exc, L))
st.caption(t("terms.current", L, policy=plain(choices.get(client.policy_name, client.policy_name)),
             label=column_label("policy", L)))
