"""Contract terms: start from a shipped or saved contract, move it to another year, change
its numbers, see what changed and whether it is valid, save it as a new version, and
evaluate the client under it."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from core.i18n import column_label, t
from core.policy import Policy, PolicyError, parse_policy
from core.policy_edit import changes, set_value, validated, with_year
from ui.context import PageContext, page_start
from ui.session import try_write
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

DATES = ("assessment_630.date", "assessment_930.date", "deposit.due_before", "credit_timing.final_deadline")
PERCENTS = ("deposit.rate", "assessment_630.pass_at", "assessment_630.reduced_at", "assessment_930.pass_at")


def starting_point(ctx: PageContext, choices: dict[str, str]) -> tuple[str, str]:
    """The contract to start from (shipped, saved, or an imported TOML file): (ref, text)."""
    L, client = ctx.lang, ctx.client
    current = client.policy_name if client.policy_name in choices else next(iter(choices))
    base_ref = st.selectbox(t("terms.base", L), list(choices), index=list(choices).index(current), format_func=choices.get,
                            key="terms_base")
    upload = st.file_uploader(t("terms.import", L), type=["toml"], key="terms_import")
    if upload is None:
        return base_ref, policy_text(base_ref)
    try:  # a contract exported here (or written by hand) as the starting point
        return f"import:{upload.name}", imported_text(upload.getvalue(), upload.name)
    except PolicyError as exc:
        st.error(t("terms.invalid", L, reason=plain(str(exc))))
        st.stop()
        raise  # st.stop() raises; this line only tells the type checker


def dates_section(text: str, moved: Policy, year: int, ky: str, L: str) -> str:
    """The four key dates of the moved contract, editable."""
    st.subheader(t("terms.dates", L))
    for col, key in zip(st.columns(4), DATES):
        section, field = key.split(".")
        chosen = col.date_input(t(f"terms.f.{key}", L), value=getattr(getattr(moved, section), field), key=f"terms_{key}_{ky}",
                                min_value=dt.date(year - 1, 1, 1), max_value=dt.date(year + 2, 12, 31))
        text = set_value(text, key, chosen)
    return text


def percents_section(text: str, moved: Policy, ky: str, L: str) -> str:
    """The deposit rate and the 630/930 bands, in percent."""
    st.subheader(t("terms.numbers", L))
    for col, key in zip(st.columns(4), PERCENTS):
        section, field = key.split(".")
        value = getattr(getattr(moved, section), field)
        pct = col.number_input(t(f"terms.f.{key}", L), min_value=0.0, max_value=100.0, value=float(value * 100), step=0.5,
                               format="%.2f", key=f"terms_{key}_{ky}")
        text = with_number(text, key, round(pct, 4), percent=True)
    return text


def tables_section(moved: Policy, year: int, ky: str, L: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Year-end thresholds by customer type × industry, and the ADS rate table (percent)."""
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
    return thresholds, ads


def others_section(text: str, ky: str, L: str) -> pd.DataFrame:
    """Every other number, date and code of the contract, in one grid."""
    others = other_numbers(text, L)
    with st.expander(t("terms.other_numbers", L, n=len(others))):
        st.caption(t("terms.other_numbers.help", L))
        return st.data_editor(others, disabled=[others.columns[0]], key=f"terms_other_{ky}", width="stretch")


def diff_section(base_text: str, base_name: str, text: str, L: str) -> bool:
    """What differs from the starting contract; True when anything does."""
    diff = changes(base_text, set_value(text, "name", base_name))
    st.subheader(t("terms.diff", L, n=len(diff)))
    if not diff:
        st.info(t("terms.no_changes", L))
        return False
    st.dataframe(pd.DataFrame({t("terms.col.key", L): [change_label(c.key, L) for c in diff],
                               t("terms.col.base", L): [str(c.base) for c in diff],
                               t("terms.col.edited", L): [str(c.edited) for c in diff]}), hide_index=True, width="stretch")
    return True


def save_section(ctx: PageContext, name: str, text: str, base_ref: str, changed: bool) -> None:
    """Export the TOML, save it as a new version, and point the client at a saved version."""
    L, client = ctx.lang, ctx.client
    c1, c2, c3 = st.columns(3)
    c3.download_button(t("terms.export", L), set_value(text, "name", name).encode("utf-8"), file_name=f"{name}.toml",
                       mime="application/toml", key="terms_export")  # the file the CLI takes with --policy
    if c1.button(t("terms.save", L), type="primary", disabled=not changed, key="terms_save"):
        ok, ref = try_write(lambda: save_terms(name, text, base_ref), L)
        if ok:
            st.session_state["terms_saved"] = ref
            st.success(t("terms.saved", L, name=plain(name), ref=ref))
    saved = st.session_state.get("terms_saved")
    if saved and c2.button(t("terms.use", L, client=plain(client.name)), key="terms_use"):
        if try_write(lambda: use_terms(client, saved), L)[0]:
            st.rerun()


def main() -> None:
    ctx = page_start("terms.heading", needs_spend=False)
    L, client = ctx.lang, ctx.client
    st.caption(t("terms.intro", L))
    choices = policy_choices(L)
    base_ref, base_text = starting_point(ctx, choices)
    base = parse_policy(base_text, source=base_ref)
    year = int(st.number_input(t("terms.year", L), min_value=2020, max_value=2035, value=base.year_start.year, step=1,
                               key=f"terms_year_{base_ref}"))
    text = with_year(base_text, year) if year != base.year_start.year else base_text
    moved = parse_policy(text, source=base_ref)
    ky = f"{base_ref}_{year}"
    text = percents_section(dates_section(text, moved, year, ky, L), moved, ky, L)
    thresholds, ads = tables_section(moved, year, ky, L)
    shown_others = others_section(text, ky, L)
    name = st.text_input(t("terms.name", L), value=f"{moved.name}_{client.id}", max_chars=60, key=f"terms_name_{ky}")
    try:
        text = with_other_numbers(with_table(with_table(text, "thresholds", thresholds), "rates.ads", ads.T, percent=True),
                                  shown_others)
        validated(text, name)
    except PolicyError as exc:
        st.error(t("terms.invalid", L, reason=plain(str(exc))))
        return
    save_section(ctx, name, text, base_ref, diff_section(base_text, base.name, text, L))
    st.caption(t("terms.current", L, policy=plain(choices.get(client.policy_name, client.policy_name)),
                 label=column_label("policy", L)))


main()
