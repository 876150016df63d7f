"""Plotly figures shared by pages (titles and axes in the chosen language)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.i18n import fmt_pct, t
from core.memo import remembered
from core.outlook import Outlook
from core.policy import Policy
from core.progress import checkpoints
from core.terms import ContractTerms


def outlook_figure(outlook: Outlook | None, name: str, lang: str, build: Callable[[], go.Figure],
                   terms_free: bool = False) -> go.Figure:
    """A figure built once per cached outlook and language, kept on the outlook itself.

    Why it is safe: every input of these figures (the outlook's paths, fan and track record,
    the evaluation and counted spend of the same spend version, terms, contract and date) is a
    function of the key the outlook was cached under, so the figure lives and dies with it.
    Why: building and validating Plotly figures was a third of a no-op rerun's CPU. Streamlit
    only serialises the figure (a copy), so the kept one is never changed. ``terms_free``: a
    figure of the forecast alone (the track record) is kept on the forecast stage, so a
    what-if on the terms does not build it again."""
    if outlook is None:
        return build()
    owner = outlook.stage if terms_free and outlook.stage is not None else outlook
    return remembered(owner, f"figure_{name}_{lang}", build, copied=False)


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


def layout(fig: go.Figure, title: str, lang: str, height: int = 380, money_axes: str = "y") -> go.Figure:
    """Title, size, legend below; ``money_axes``: which axes ("y", "x", "xy" or "") carry money() values."""
    fig.update_layout(title=title, height=height, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      legend={"orientation": "h", "y": -0.22})
    for axis in money_axes:
        money_axis(fig, lang, axis)
    if lang == "zh" and _dates_on_x(fig):  # Plotly writes English month names on date axes; 中文 readers get 2024-07
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
    for cp in checkpoints(policy, terms):
        fig.add_trace(go.Scatter(
            x=[policy.year_start, cp.by], y=money([cp.amount_fen(terms)] * 2, lang), mode="lines",
            line={"dash": "dot", "width": 1}, name=t("overview.target_line", lang, pct=fmt_pct(float(cp.share), lang, 0)),
        ))
    fig.update_xaxes(title=t("overview.date", lang))
    return layout(fig, t("overview.cumulative", lang), lang)


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
