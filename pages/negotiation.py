"""Negotiation: next year's agreement (candidate targets on the base year's spend times a
growth range, under the contract being negotiated), then this year's targets side by side
on the same spend forecast."""
from __future__ import annotations

import io
import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import streamlit as st

from core.export import negotiation_sheets, workbook_bytes
from core.i18n import fmt_money, fmt_pct, t
from core.negotiation import best_targets, break_even_target
from core.next_year import NextYear
from ui.caches import cached_compare, spend_key
from ui.context import PageContext, page_start
from ui.figures import net_figure
from ui.session import method_choice
from ui.terms import (
    NEXT,
    cached_next_year,
    policy_choices,
    save_negotiation,
    saved_negotiations,
)
from ui.text import plain

COLUMNS = (("target_fen", "inputs.target", "money"), ("p_630_pass", "negotiation.p630", "pct"),
           ("p_930_pass", "negotiation.p930", "pct"), ("p_target_met", "negotiation.p_target", "pct"),
           ("p_below_threshold", "negotiation.p_below", "pct"), ("expected_return_fen", "negotiation.return", "money"),
           ("expected_deposit_loss_fen", "negotiation.deposit_loss", "money"), ("expected_net_fen", "negotiation.net", "money"),
           ("net_p10_fen", "negotiation.net_p10", "money"), ("net_p90_fen", "negotiation.net_p90", "money"))


def unit_fen(L: str) -> int:
    """Candidates are typed in 万 (中文) or millions (English); this is one unit in fen."""
    return 1_000_000 if L == "zh" else 100_000_000


def candidates_frame(table: pd.DataFrame, L: str) -> pd.DataFrame:
    """One row per candidate target, in the UI's language (the columns the table has)."""
    def shown(kind: str) -> Callable[[float], str]:
        return (lambda v: fmt_money(round(v), L)) if kind == "money" else (lambda v: fmt_pct(v, L, 0))
    return pd.DataFrame({t(key, L): table[col].map(shown(kind)) for col, key, kind in COLUMNS if col in table})


def typed_targets(typed: str, unit: int) -> tuple[int, ...] | None:
    """'800, 900，1000' in units -> sorted distinct targets in fen; None when one is not a positive number."""
    try:
        targets = tuple(sorted({round(float(x) * unit) for x in typed.replace("，", ",").split(",") if x.strip()}))
    except ValueError:
        return None
    return targets if targets and min(targets) > 0 else None


def next_year_metrics(ny: NextYear, confidence: int, low: int, high: int, L: str) -> None:
    m = st.columns(3)
    m[0].metric(t("negotiation.base", L, year=ny.base.year), fmt_money(ny.base.total_fen, L),
                help=t("negotiation.base_projected" if ny.base.projected else "negotiation.base_full", L))
    m[1].metric(t("negotiation.sure", L, pct=confidence), fmt_money(ny.highest_sure_target_fen, L),
                help=t("negotiation.sure_help", L, pct=confidence, low=low, high=high))
    m[2].metric(t("negotiation.cost", L), fmt_money(ny.deposit_cost_per_10m_fen, L), help=t("negotiation.cost_help", L))


def next_year_section(ctx: PageContext) -> None:
    """Next year's agreement: the highest target met with ≥ X % probability, its deposit cost, every candidate."""
    L, client = ctx.lang, ctx.client
    year = ctx.policy.year_end.year + 1
    st.subheader(t("negotiation.next_heading", L, year=year))
    choices = {NEXT: t("negotiation.current_moved", L, year=year)} | policy_choices(L)
    c1, c2, c3 = st.columns(3)
    ref = c1.selectbox(t("negotiation.next_policy", L), list(choices), format_func=choices.get, key="ny_policy")
    low, high = c2.slider(t("negotiation.growth", L), -50, 100, (-20, 40), step=5, format="%d%%", key="ny_growth")
    confidence = c3.slider(t("negotiation.confidence", L), 50, 95, 80, step=5, format="%d%%", key="ny_conf")
    default = ", ".join(str(round(client.terms.target_fen * k / unit_fen(L))) for k in (0.8, 0.9, 1.0, 1.1, 1.2))
    targets = typed_targets(st.text_input(t("negotiation.candidates", L), value=default, key="ny_targets"), unit_fen(L))
    if targets is None:
        st.warning(t("negotiation.candidates_bad", L))
        return
    with st.spinner(t("negotiation.running", L, n=len(targets))):
        ny = cached_next_year(spend_key(client), client.spend, client.terms, client.policy_name, ref, targets,
                              (low / 100, high / 100), confidence / 100)
    next_year_metrics(ny, confidence, low, high, L)
    st.dataframe(candidates_frame(ny.table, L), hide_index=True, width="stretch")
    st.caption(t("negotiation.next_note", L, low=low, high=high))
    keep_section(ctx, ny, ref, choices[ref], year)


def keep_section(ctx: PageContext, ny: NextYear, ref: str, contract: str, year: int) -> None:
    """Save the negotiation as shown, export it, and read the saved ones."""
    L, client = ctx.lang, ctx.client
    c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    name = c1.text_input(t("negotiation.save_name", L), value=f"{year} · {fmt_money(ny.highest_sure_target_fen, L)}",
                         max_chars=80, key="ny_name")
    if c2.button(t("negotiation.save", L), key="ny_save", disabled=not name.strip()):
        failure = save_negotiation(client, name.strip(), ref, contract, ny, L)
        if failure:
            st.warning(failure)
        else:
            st.success(t("negotiation.saved", L, name=plain(name.strip())))
    c3.download_button(t("negotiation.export", L),  # built on click, not on every rerun
                       lambda: workbook_bytes(negotiation_sheets(client.name, contract, ny.settings(), ny.table, L)),
                       file_name=f"negotiation_{year}.xlsx", key="ny_export",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    saved_section(ctx)


def saved_section(ctx: PageContext) -> None:
    """The negotiations kept for this client, each with its settings and table as saved."""
    L = ctx.lang
    saved = saved_negotiations(ctx.client)
    if not saved:
        return
    with st.expander(t("negotiation.saved_heading", L, n=len(saved))):
        pick = st.selectbox(t("negotiation.saved_pick", L), range(len(saved)), key="ny_saved",
                            format_func=lambda i: saved[i].name)
        chosen = saved[pick]
        s = json.loads(chosen.settings_json)
        st.caption(t("negotiation.saved_caption", L, at=f"{chosen.created_at:%Y-%m-%d %H:%M}", contract=plain(s.get("contract", chosen.policy)),
                     low=fmt_pct(s["growth_low"], L, 0), high=fmt_pct(s["growth_high"], L, 0),
                     pct=fmt_pct(s["confidence"], L, 0)))
        st.dataframe(candidates_frame(pd.read_json(io.StringIO(chosen.result_json), orient="records"), L),
                     hide_index=True, width="stretch")


def this_year_targets(ctx: PageContext) -> list[int] | None:
    """Evenly spaced candidate targets (fen) over the range typed in RMB; None for an empty range."""
    L, current = ctx.lang, ctx.client.terms.target_fen // 100
    c1, c2, c3 = st.columns(3)
    low = c1.number_input(t("negotiation.from", L), min_value=1_000_000, value=int(current * 0.6), step=1_000_000)
    high = c2.number_input(t("negotiation.to", L), min_value=1_000_000, value=int(current * 1.4), step=1_000_000)
    count = c3.slider(t("negotiation.count", L), 3, 15, 9)
    if high <= low:
        st.warning(t("negotiation.range", L))
        return None
    return sorted({int(round(v, -4)) * 100 for v in np.linspace(low, high, count)})


def this_year_metrics(table: pd.DataFrame, L: str) -> None:
    even = break_even_target(table)
    best_lo, best_hi = best_targets(table)
    best_net = table["expected_net_fen"].max()
    m = st.columns(2)
    m[0].metric(t("negotiation.break_even", L), fmt_money(even, L) if even else "—",
                help=t("negotiation.break_even_help", L) if even else t("negotiation.break_even_none", L))
    tied = best_lo != best_hi
    m[1].metric(t("negotiation.best", L), f"{fmt_money(best_lo, L)} – {fmt_money(best_hi, L)}" if tied else fmt_money(best_lo, L),
                help=t("negotiation.best_help", L, net=fmt_money(round(best_net), L))
                + (" " + t("negotiation.best_tied", L) if tied else ""))


def this_year_section(ctx: PageContext) -> None:
    """This year's targets side by side on the same spend forecast."""
    L, client = ctx.lang, ctx.client
    st.subheader(t("negotiation.this_year", L, year=ctx.policy.year_end.year))
    targets = this_year_targets(ctx)
    if targets is None:
        return
    with st.spinner(t("negotiation.running", L, n=len(targets))):
        table = cached_compare(spend_key(client), client.spend, client.terms, client.policy_name, ctx.as_of, tuple(targets),
                               method_choice())
    this_year_metrics(table, L)
    st.plotly_chart(net_figure(table, L), width="stretch")
    st.dataframe(candidates_frame(table, L), hide_index=True, width="stretch")
    st.caption(t("negotiation.note", L))


def main() -> None:
    ctx = page_start("negotiation.heading")
    next_year_section(ctx)
    this_year_section(ctx)


main()
