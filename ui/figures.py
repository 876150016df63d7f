"""Every Plotly figure the pages draw (titles and axes in the chosen language).

Why one module: a page is inputs -> one call -> figures; the figures' data come from core
(amounts in fen, converted here to the axis unit of the language: 元 or 万元), and a figure
kept on a cached stage (`stage_figure`, `cumulative_figure`, `pre_return_chart`) is built here once."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.deposit import deduction_curve
from core.evaluation import Evaluation
from core.i18n import fmt_pct, t
from core.memo import remembered
from core.money import to_fen
from core.outlook import Outlook
from core.policy import QUARTERS, Policy
from core.progress import checkpoints
from core.terms import ContractTerms

from .text import plotly_text


def stage_figure(outlook: Outlook | None, name: str, lang: str, build: Callable[[], go.Figure]) -> go.Figure:
    """A figure of the forecast alone (the track record), built once per forecast stage and
    language and kept on the stage: a what-if on the terms reuses it. Streamlit only
    serialises the figure (a copy), so the kept one is never changed. (The Overview's
    figures are kept by what they draw: `cumulative_figure`, `pre_return_chart`.)"""
    if outlook is None or outlook.stage is None:
        return build()
    return remembered(outlook.stage, f"figure_{name}_{lang}", build, copied=False)


def money(fen, lang: str) -> np.ndarray:
    """Chart values of fen amounts: 万元 in Chinese (a 中文 reader counts in 万), yuan in
    English (Plotly then writes 50M / 300k)."""
    return np.asarray(fen, dtype=np.float64) / (1_000_000 if lang == "zh" else 100)


def money_axis(fig: go.Figure, lang: str, axis: str = "y", title_key: str = "chart.amount") -> None:
    """The axis of money() values: its unit in the title, thousands separators in 中文, SI suffixes in English."""
    settings = {"title": t(title_key, lang), "tickformat": ",~f" if lang == "zh" else "~s"}
    fig.update_layout({f"{axis}axis": settings})  # the primary axis only: a secondary axis keeps its own unit


def share_axis(fig: go.Figure, title: str = "", full_range: bool = False) -> None:
    """A right-hand percent axis over the money axis, with its own even ticks (Streamlit's
    Plotly theme syncs an overlaying axis to the left one, which gave ticks like 82 % / 61 % / 41 %)."""
    ticks = {"tickmode": "linear", "tick0": 0, "dtick": 0.2, "range": [0, 1]} if full_range else {"tickmode": "auto", "nticks": 6}
    fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%", "showgrid": False,
                              "rangemode": "tozero", "title": title, **ticks})


AUTO_MARGIN: Mapping[str, int] = MappingProxyType({"l": 10, "r": 10, "t": 50, "b": 10})  # Plotly grows them to fit labels and legend
# The cumulative chart is drawn anew on every what-if on the terms (its checkpoint levels
# move). From the auto margins Plotly draws it, measures the axis labels and the legend, and
# draws it again; margins that already hold them (en: 73 px left, a four-row legend in 138 px
# at 1280 px; 中文 80 and 123) let it draw once — about 30 ms less of the browser's main
# thread per what-if, measured in Chromium. A narrower page still grows them.
CUMULATIVE_MARGIN: Mapping[str, int] = MappingProxyType({"l": 80, "r": 10, "t": 50, "b": 140})


def layout(fig: go.Figure, title: str, lang: str, height: int = 380, money_axes: str = "y", dated: bool | None = None,
           margin: Mapping[str, int] = AUTO_MARGIN) -> go.Figure:
    """Title, size, legend below; ``money_axes``: which axes ("y", "x", "xy" or "") carry money() values;
    ``dated``: whether x is a date axis (None: judged from the first trace with x values)."""
    fig.update_layout(title=title, height=height, margin=dict(margin), legend={"orientation": "h", "y": -0.22})
    for axis in money_axes:
        money_axis(fig, lang, axis)
    if lang == "zh" and (_dates_on_x(fig) if dated is None else dated):  # Plotly writes English month names on date axes; 中文 readers get 2024-07
        fig.update_layout(xaxis={"tickformat": "%Y-%m"})
    return fig


def _dates_on_x(fig: go.Figure) -> bool:
    """Whether the figure's x values are dates (Plotly decides the axis type only when drawing)."""
    for trace in fig.data:
        values = getattr(trace, "x", None)
        if values is not None and len(values):
            first = values[0]
            return isinstance(first, (dt.date, np.datetime64)) or (isinstance(first, str) and len(first) >= 10 and first[4] == "-")
    return False


def cumulative_chart(daily: pd.DataFrame, fan: pd.DataFrame | None, policy: Policy, terms: ContractTerms, lang: str) -> go.Figure:
    """Actual cumulative counted spend, the projection fan, and every checkpoint level."""
    fig = _spend_and_fan(daily, fan, lang)
    fig.add_traces(checkpoint_lines(policy, terms, lang))
    return fig


def _spend_and_fan(daily: pd.DataFrame, fan: pd.DataFrame | None, lang: str) -> go.Figure:
    """The cumulative chart without the checkpoint levels: what the contract terms do not change."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=daily["date"], y=money(daily["cumulative_fen"], lang), name=t("overview.actual", lang), mode="lines",
                             line={"width": 3, "color": "#1f4e9c"}))
    if fan is not None and len(fan):
        fig.add_trace(go.Scatter(x=fan["date"], y=money(fan["p90"], lang), mode="lines", line={"width": 0}, showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=fan["date"], y=money(fan["p10"], lang), mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor="rgba(31,78,156,0.18)", name=t("overview.fan", lang)))
        fig.add_trace(go.Scatter(x=fan["date"], y=money(fan["p50"], lang), mode="lines", line={"dash": "dash", "color": "#1f4e9c"},
                                 name=t("overview.projected_p50", lang)))
    fig.update_xaxes(title=t("overview.date", lang))
    return layout(fig, t("overview.cumulative", lang), lang, dated=True, margin=CUMULATIVE_MARGIN)


def checkpoint_lines(policy: Policy, terms: ContractTerms, lang: str) -> list[dict]:
    """Each checkpoint's level from Jan 1 to its date, as Plotly scatter traces (plain dicts)."""
    return [{"type": "scatter", "x": [policy.year_start, cp.by], "y": money([cp.amount_fen(terms)] * 2, lang), "mode": "lines",
             "line": {"dash": "dot", "width": 1}, "name": t("overview.target_line", lang, pct=fmt_pct(float(cp.share), lang, 0))}
            for cp in checkpoints(policy, terms)]


def cumulative_figure(outlook: Outlook, daily: pd.DataFrame, policy: Policy, terms: ContractTerms, lang: str) -> go.Figure:
    """`cumulative_chart` of an outlook, for a what-if in a blink: the spend and fan part is
    built and validated once per row stage and language (the terms do not change it) and
    the checkpoint levels of these terms are added to a copy without validating it again —
    Plotly's validation was most of a what-if's figure time. A test checks that the result
    serialises to the same JSON as `cumulative_chart`."""
    if outlook.rows_stage is None:
        return cumulative_chart(daily, outlook.fan, policy, terms, lang)
    base = remembered(outlook.rows_stage, f"figure_spend_fan_{lang}", lambda: _spend_and_fan(daily, outlook.fan, lang).to_dict(),
                      copied=False)
    return go.Figure({"data": [*base["data"], *checkpoint_lines(policy, terms, lang)], "layout": base["layout"]}, _validate=False)


def method_reason(outlook, lang: str) -> str:
    """Why this projection method: the learned weights of the combined forecast, or the user's choice."""
    if outlook.method != "combined":
        return t("method.reason_user", lang)
    weights = ", ".join(f"{t(f'method.{m}', lang)} {fmt_pct(w, lang, 0)}" for m, w in outlook.weights.items() if w > 0)
    return t("method.reason_combined", lang, weights=weights)


def track_record_chart(record: pd.DataFrame, lang: str) -> go.Figure:
    """For the quarter end with the most earlier forecasts: the P10–P90 band and P50 the
    product gave at each earlier date, against what was spent by then."""
    target = record.groupby("target").size().idxmax()
    part = record[record["target"] == target]
    fig = go.Figure([
        go.Scatter(x=part["origin"], y=money(part["p90"], lang), mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"),
        go.Scatter(x=part["origin"], y=money(part["p10"], lang), mode="lines", line={"width": 0}, fill="tonexty",
                   fillcolor="rgba(31,78,156,0.18)", name=t("track.band", lang)),
        go.Scatter(x=part["origin"], y=money(part["p50"], lang), mode="lines+markers", line={"dash": "dash", "color": "#1f4e9c"},
                   name=t("overview.projected_p50", lang)),
        go.Scatter(x=part["origin"], y=money(part["actual"], lang), mode="lines", line={"color": "#c0392b", "width": 2},
                   name=t("track.actual", lang, target=f"{target:%Y-%m-%d}")),
    ])
    fig.update_xaxes(title=t("track.origin", lang))
    return layout(fig, t("track.chart_title", lang, target=f"{target:%Y-%m-%d}"), lang, height=340)


def pre_return_figure(result: Evaluation, outlook: Outlook | None, L: str) -> go.Figure:
    """Pre-return per quarter (expected before year end) beside what was credited."""
    pre = outlook.expected.outcome.pre_return[0] if outlook is not None else result.pre_return_fen
    frame = pd.DataFrame({"q": list(QUARTERS), "pre": money([int(v) for v in pre], L),
                          "credited": list(money(result.credited_fen, L)) + [None]})
    bars = go.Figure([
        go.Bar(x=frame["q"], y=frame["pre"], name=t("overview.pre_return_expected" if outlook is not None else "overview.pre_return", L)),
        go.Bar(x=frame["q"], y=frame["credited"], name=t("overview.credited", L)),
    ])
    bars.update_layout(barmode="group")
    return layout(bars, t("overview.pre_return_by_quarter", L), L)


def pre_return_chart(result: Evaluation, outlook: Outlook | None, L: str) -> go.Figure:
    """`pre_return_figure`, kept per row stage and the amounts it draws: a what-if that
    leaves the pre-returns and credits as they were (most target changes) reuses it."""
    if outlook is None or outlook.rows_stage is None:
        return pre_return_figure(result, outlook, L)
    amounts = (tuple(int(v) for v in outlook.expected.outcome.pre_return[0]), result.credited_fen)
    return remembered(outlook.rows_stage, f"figure_pre_return_{L}_{amounts}", lambda: pre_return_figure(result, outlook, L),
                      copied=False)


def expiry_figure(ledger: pd.DataFrame, L: str) -> go.Figure:
    by_expiry = ledger.groupby("expiry")[["credited_fen", "projected_unused_fen"]].sum().reset_index()
    fig = go.Figure([
        go.Bar(x=by_expiry["expiry"], y=money(by_expiry["credited_fen"], L), name=t("returns.col.credited", L)),
        go.Bar(x=by_expiry["expiry"], y=money(by_expiry["projected_unused_fen"], L), name=t("returns.col.unused", L)),
    ])
    fig.update_layout(barmode="group")
    return layout(fig, t("returns.expiry_chart", L), L)


def net_figure(table: pd.DataFrame, L: str) -> go.Figure:
    """Expected net (return − deposit loss) and P(target met) across the candidate targets."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=money(table["target_fen"], L), y=money(table["expected_net_fen"], L), mode="lines+markers",
                             name=t("negotiation.net", L)))
    fig.add_trace(go.Scatter(x=money(table["target_fen"], L), y=table["p_target_met"], mode="lines", yaxis="y2",
                             line={"dash": "dot"}, name=t("negotiation.p_target", L)))
    share_axis(fig, t("negotiation.p_target", L), full_range=True)
    fig = layout(fig, t("negotiation.chart", L), L, money_axes="xy")
    fig.update_xaxes(title=t("chart.target", L))
    return fig


def risk_figure(table: pd.DataFrame, L: str) -> go.Figure:
    """Completion against target, coloured by risk."""
    fig = go.Figure()
    for risk, color in (("red", "#d62728"), ("amber", "#ff9f1c"), ("green", "#2ca02c")):
        part = table[table["risk"] == risk]
        fig.add_trace(go.Scatter(
            x=money(part["target_fen"], L), y=part["completion_rate"], mode="markers", name=t(f"portfolio.risk.{risk}", L),
            marker={"color": color, "size": 9, "opacity": 0.8}, text=part["name"].map(plotly_text),
            hovertemplate="%{text}<br>%{x:,.0f}<br>%{y:.1%}<extra></extra>",
        ))
    fig.update_xaxes(type="log")
    fig.update_yaxes(tickformat=".0%")
    fig = layout(fig, t("portfolio.chart", L), L, money_axes="x")
    fig.update_xaxes(title=t("chart.target", L))
    fig.update_yaxes(title=t("portfolio.col.completion", L))
    return fig


def calendar_figure(calendar: pd.DataFrame, day: dt.date, L: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=calendar["week"], y=money(calendar["paid_fen"], L), name=t("payouts.col.paid", L)))
    fig.add_vline(x=pd.Timestamp(day).value // 1_000_000, line_dash="dot")  # epoch ms: plotly cannot add a date to an annotation offset
    return layout(fig, t("payouts.calendar", L), L)


def pre_return_bars(pre_fen: list[int], lang: str) -> go.Figure:
    """Pre-return per quarter (the Returns page)."""
    fig = go.Figure([go.Bar(x=list(QUARTERS), y=money(pre_fen, lang), name=t("overview.pre_return", lang))])
    return layout(fig, t("returns.by_quarter", lang), lang)


def settlement_waterfall(steps: list[tuple[str, int, str]], lang: str) -> go.Figure:
    """The year-end settlement's steps (core.year_end.settlement_steps) as a waterfall."""
    fig = go.Figure(go.Waterfall(x=[t(f"returns.w.{key}", lang) for key, _, _ in steps],
                                 y=money([fen for _, fen, _ in steps], lang), measure=[m for _, _, m in steps]))
    return layout(fig, t("returns.waterfall", lang), lang)


def deduction_figure(terms: ContractTerms, policy: Policy, actual_fen: int, completion: np.ndarray | None,
                     lang: str) -> go.Figure:
    """The contract's deposit deduction by completion (a step curve), the threshold, last
    year's amount and today's completion marked, and — before year end — the projected
    completion of every path as a histogram on it."""
    grid = np.round(np.linspace(0, 1.2, 241), 4)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=grid, y=money([int(v) for v in deduction_curve(terms, policy, grid)], lang), mode="lines",
                             line={"shape": "hv", "width": 3}, name=t("deposit.curve", lang)))
    prev = policy.year_start.year - 1
    marks = [(to_fen(policy.threshold(terms.customer_type, terms.main_industry)) / terms.target_fen, t("deposit.threshold", lang)),
             (terms.previous_year_fen / terms.target_fen, t("deposit.amount_2023", lang, prev=prev))]
    for x, name in marks:
        if 0 < float(x) <= 1.2:
            fig.add_vline(x=float(x), line_dash="dot", annotation_text=name, annotation_position="top left")
    fig.add_vline(x=actual_fen / terms.target_fen, line_color="#1f4e9c", annotation_text=t("deposit.to_date", lang),
                  annotation_position="bottom right")
    if completion is not None:
        fig.add_trace(go.Histogram(x=completion, nbinsx=60, yaxis="y2", opacity=0.35, name=t("deposit.projected", lang),
                                   histnorm="probability"))
    share_axis(fig, t("deposit.share_of_paths", lang))
    fig.update_layout(xaxis={"tickformat": ".0%", "title": t("overview.completion", lang)})
    title = t("deposit.chart", lang, type=t(f"inputs.customer_type.{terms.customer_type}", lang, prev=prev))
    return layout(fig, title, lang, 460)
