"""Overview: where the year stands, where it will land (P10–P90), what is at risk next."""
from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.evaluation import Evaluation
from core.export import csv_bytes, export_sheets, sheet_names, workbook_bytes
from core.headline import Headline, headline
from core.i18n import fmt_money, fmt_pct, t
from core.ledger import expiring_balance_fen
from core.outlook import Outlook
from ui.caches import counted_by_day
from ui.context import PageContext, page_start
from ui.figures import cumulative_chart, cumulative_figure, method_reason, pre_return_chart
from ui.reliability import reliability_panel
from ui.text import plain


def show_headline(h: Headline, L: str) -> None:
    """The outcome that drives the money at risk and what avoids it, in one sentence."""
    values = {"p": fmt_pct(h.probability, L, 0), "outcome": t(f"outcome.{h.outcome}", L), "risk": fmt_money(h.at_risk_fen, L),
              "deposit": fmt_money(h.deposit_fen, L), "clawback": fmt_money(h.clawback_fen, L)}
    if h.kind == "on_course":
        st.success(t("headline.on_course", L, **values))
        return
    text = t(f"headline.{h.kind}", L, **values)
    r = h.requirement
    if r is not None:
        key = "headline.avoid_unreachable" if r.status == "unreachable" else "headline.avoid"
        text += t(key, L, per_day=fmt_money(r.per_day_fen, L), by=f"{r.by:%Y-%m-%d}", level=fmt_money(r.level_fen, L),
                  level_name=t(f"checkpoints.cp.{r.key}", L),
                  multiple="—" if r.multiple_of_run_rate is None else f"{r.multiple_of_run_rate}×")
    (st.error if h.probability >= 0.5 else st.warning)(text)


def assessment_metric(col: DeltaGenerator, label_key: str, decided: str, chances: dict[str, float], L: str) -> None:
    """A decided checkpoint shows its outcome; an open one the probability of passing (or
    'not applicable' when no path is assessed)."""
    if decided != "pending":
        col.metric(t(label_key, L), t(f"outcome.{decided}", L))
    elif chances.get("not_applicable", 0.0) == 1.0:
        col.metric(t(label_key, L), t("outcome.not_applicable", L))
    else:
        col.metric(t(label_key, L), t("overview.chance", L, pct=fmt_pct(chances.get("pass", 0.0), L, 0)),
                   help=t("overview.chance_help", L))


def projected_kpis(ctx: PageContext, result: Evaluation, outlook: Outlook) -> None:
    L = ctx.lang
    dist, probs = outlook.projection.distributions(), outlook.projection.probabilities()
    expected = outlook.projection.expected_fen()
    c = dist["completion_rate"]
    cols = st.columns(5)
    cols[0].metric(t("overview.completion", L), fmt_pct(result.completion_rate, L),
                   help=t("overview.completion_help", L, target=fmt_money(result.target_fen, L)))
    cols[1].metric(t("overview.projected_completion", L), fmt_pct(c["p50"], L),
                   help=t("overview.projected_help", L, p10=fmt_pct(c["p10"], L), p90=fmt_pct(c["p90"], L),
                          method=t(f"method.{outlook.method}", L)))
    assessment_metric(cols[2], "overview.a630", result.assessment_630, probs["assessment_630"], L)
    assessment_metric(cols[3], "overview.a930", result.assessment_930, probs["assessment_930"], L)
    cols[4].metric(t("overview.deposit_at_risk", L), fmt_money(expected["deposit_deducted"], L),
                   help=t("overview.deposit_at_risk_help", L, p90=fmt_money(round(dist["deposit_deducted"]["p90"] * 100), L)))
    cols = st.columns(5)
    cols[0].metric(t("overview.actual", L), fmt_money(result.actual_fen, L))
    cols[1].metric(t("overview.target_chance", L), fmt_pct(probs["target_met"]["yes"], L, 0))
    cols[2].metric(t("overview.expected_return", L), fmt_money(expected["final_return"], L), help=t("overview.expected_help", L))
    cols[3].metric(t("overview.expected_clawback", L), fmt_money(expected["clawback"], L), help=t("overview.expected_help", L))
    cols[4].metric(t("overview.expiring_30", L), fmt_money(expiring_balance_fen(outlook.ledger, ctx.as_of), L),
                   help=t("overview.expiring_help", L))


def next_deadline(ctx: PageContext, outlook: Outlook) -> None:
    """The next date that moves money: 630, 930, year end or a return's expiry."""
    L, policy, ledger = ctx.lang, ctx.policy, outlook.ledger
    deadlines = [(policy.assessment_630.date, "630"), (policy.assessment_930.date, "930"), (policy.year_end, t("overview.year_end_short", L))]
    deadlines += [(e, t("overview.credit_expiry", L, q=q)) for q, e in zip(ledger["quarter"], ledger["expiry"])]
    upcoming = sorted((d_, name) for d_, name in deadlines if d_ > ctx.as_of)
    if upcoming:
        when, name = upcoming[0]
        st.caption(t("overview.next_deadline_text", L, date=f"{when:%Y-%m-%d}", name=name, n=(when - ctx.as_of).days))


def settled_kpis(result: Evaluation, L: str) -> None:
    cols = st.columns(5)
    cols[0].metric(t("overview.completion", L), fmt_pct(result.completion_rate, L),
                   help=t("overview.completion_help", L, target=fmt_money(result.target_fen, L)))
    cols[1].metric(t("overview.a630", L), t(f"outcome.{result.assessment_630}", L))
    cols[2].metric(t("overview.a930", L), t(f"outcome.{result.assessment_930}", L))
    cols[3].metric(t("overview.year_end", L), t(f"outcome.{result.year_end_rule}", L))
    cols[4].metric(t("overview.deposit_deducted", L), fmt_money(result.deposit_deducted_fen, L))
    cols = st.columns(5)
    for col, key, fen in ((cols[0], "actual", result.actual_fen), (cols[1], "final_return", result.final_return_fen),
                          (cols[2], "settlement", result.year_end_settlement_fen), (cols[3], "clawback", result.clawback_fen),
                          (cols[4], "refundable", result.deposit_refundable_fen)):
        col.metric(t(f"overview.{key}", L), fmt_money(fen, L))


def charts(ctx: PageContext, result: Evaluation, outlook: Outlook | None) -> None:
    L, daily = ctx.lang, counted_by_day(ctx.client, ctx.as_of)
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(cumulative_chart(daily, None, ctx.policy, ctx.client.terms, L) if outlook is None
                        else cumulative_figure(outlook, daily, ctx.policy, ctx.client.terms, L), width="stretch")
    with right:
        st.plotly_chart(pre_return_chart(result, outlook, L), width="stretch")


@st.fragment  # picking another CSV sheet reruns this section only, not the page and its figures
def export_section(ctx: PageContext, result: Evaluation, outlook: Outlook | None) -> None:
    L, client, day = ctx.lang, ctx.client, ctx.as_of
    st.subheader(t("export.heading", L))
    report_of, report = st.session_state.get("last_validation_report", (None, None))
    report = report if report_of == client.id and report is not None and len(report) else None

    def sheets() -> dict:
        """The workbook's tables, built on click (not on every rerun of a what-if)."""
        return export_sheets(client.name, client.inputs, result, ctx.policy, L, outlook, report)

    c1, c2, c3 = st.columns([1, 1, 2])
    c1.download_button(t("export.excel", L), lambda: workbook_bytes(sheets()),
                       file_name=f"rebate_{day:%Y%m%d}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="export_xlsx")
    which = c3.selectbox(t("export.csv_which", L), sheet_names(L, outlook is not None, report is not None), key="export_csv_sheet",
                         label_visibility="collapsed")
    c2.download_button(t("export.csv", L), lambda: csv_bytes(sheets()[which]), file_name=f"{which.lower().replace(' ', '_')}.csv",
                       mime="text/csv", key="export_csv")
    st.caption(t("export.png_hint", L))


def main() -> None:
    ctx = page_start("overview.heading")
    L, policy = ctx.lang, ctx.policy
    result = ctx.evaluation()
    outlook = ctx.outlook() if ctx.as_of < policy.year_end else None
    if outlook is None:
        settled_kpis(result, L)
    else:
        projected_kpis(ctx, result, outlook)
        show_headline(headline(outlook), L)
        next_deadline(ctx, outlook)
        st.caption(t("overview.method_caption", L, method=t(f"method.{outlook.method}", L), reason=method_reason(outlook, L),
                     paths=f"{outlook.projection.paths:,}"))
        reliability_panel(outlook, L)
    charts(ctx, result, outlook)
    with st.expander(t("page.assumptions", L)):
        for text in result.assumptions(policy, L):
            st.markdown(f"- {plain(text)}")  # readings of a saved or imported contract are user text
    export_section(ctx, result, outlook)


main()
