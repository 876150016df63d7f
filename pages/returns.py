"""Returns: pre-return by quarter, the year-end settlement as a waterfall, and the return
balances by bucket with their expiry and projected unused amounts."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.i18n import fmt_money, t, value_label
from core.year_end import settlement_steps
from ui.context import PageContext, page_start
from ui.figures import expiry_figure, pre_return_bars, settlement_waterfall


@dataclass(frozen=True)
class Amounts:
    """The settled year's amounts at year end, the projection's means before (the Overview's KPIs)."""

    pre: list[int]
    credited: list[int]
    entitlement: int | None
    settlement: int
    clawback: int


def amounts(ctx: PageContext, final: bool) -> Amounts:
    result = ctx.evaluation()
    if final:
        return Amounts(list(result.pre_return_fen), list(result.credited_fen), result.final_return_fen,
                       result.year_end_settlement_fen, result.clawback_fen)
    e = ctx.outlook().projection.expected_fen()
    return Amounts(list(e["pre_return"]), list(e["credited"]), e["final_return"], e["year_end_settlement"], e["clawback"])


def charts(a: Amounts, L: str) -> None:
    left, right = st.columns(2)
    with left:
        st.plotly_chart(pre_return_bars(a.pre, L), width="stretch")
    with right:
        st.plotly_chart(settlement_waterfall(settlement_steps(a.pre, a.credited, a.entitlement), L), width="stretch")
        st.caption(f"{t('returns.w.settlement', L)}: {fmt_money(a.settlement, L)} · "
                   f"{t('returns.w.clawback', L)}: {fmt_money(a.clawback, L)}")


def ledger_table(ledger: pd.DataFrame, L: str) -> pd.DataFrame:
    def fen(column: str) -> pd.Series:
        return ledger[column].map(lambda v: fmt_money(v, L, compact=False))

    return pd.DataFrame({
        t("returns.col.quarter", L): ledger["quarter"],
        t("returns.col.bucket", L): ledger["bucket"].map(lambda b: value_label("bucket", b, L)),
        t("returns.col.credited", L): fen("credited_fen"),
        t("returns.col.credit_date", L): ledger["credit_date"],
        t("returns.col.expiry", L): ledger["expiry"],
        t("returns.col.balance", L): fen("balance_at_as_of_fen"),
        t("returns.col.unused", L): fen("projected_unused_fen"),
        t("returns.col.per_day", L): fen("needed_per_day_fen"),
    })


def main() -> None:
    ctx = page_start("returns.heading")
    L = ctx.lang
    outlook = ctx.outlook()
    final = ctx.as_of >= ctx.policy.year_end
    st.caption(t("returns.basis_actual", L) if final else t("returns.basis_expected", L, paths=f"{outlook.projection.paths:,}"))
    charts(amounts(ctx, final), L)
    st.subheader(t("returns.ledger", L))
    if outlook.ledger.empty:
        st.info(t("returns.no_credits", L))
        return
    st.dataframe(ledger_table(outlook.ledger, L), hide_index=True, width="stretch")
    st.plotly_chart(expiry_figure(outlook.ledger, L), width="stretch")


main()
