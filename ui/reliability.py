"""The "How reliable is this forecast?" panel (Overview and Checkpoints): the client's own
track record — what the product would have said at earlier dates against what happened —
and the pooled calibration the bands were learned from."""
from __future__ import annotations

import streamlit as st

from core.error_model import load as load_error_model
from core.i18n import fmt_pct, t
from ui.figures import method_reason, stage_figure, track_record_chart


def pool_text(lang: str) -> str:
    """Which pool the error bands were learned from, in the user's language."""
    model = load_error_model()
    if model.source.startswith("synthetic"):
        return t("track.pool_synthetic", lang, n=model.client_years)
    return t("track.pool_store", lang, n=model.client_years)


def spread_text(spread: float, lang: str) -> str:
    """What the client's own record did to the pooled bands."""
    if spread < 0.95:
        return t("track.narrower", lang, pct=fmt_pct(1 - spread, lang, 0))
    if spread > 1.05:
        return t("track.wider", lang, pct=fmt_pct(spread - 1, lang, 0))
    return t("track.as_pool", lang)


def reliability_panel(outlook, lang: str, expanded: bool = False) -> None:
    """Coverage of this client's earlier P10–P90 bands, the chart, the weights and the pool."""
    with st.expander(t("track.heading", lang), expanded=expanded):
        record = outlook.track_record
        if record.empty:
            st.info(t("track.none", lang))
        else:
            inside = int(record["inside"].sum())
            st.markdown(t("track.coverage", lang, k=inside, n=len(record), pct=fmt_pct(inside / len(record), lang, 0),
                          first=f"{record['origin'].min():%Y-%m-%d}"))
            st.plotly_chart(stage_figure(outlook, "track_record", lang, lambda: track_record_chart(record, lang)), width="stretch")
            st.caption(spread_text(outlook.spread, lang))
        st.caption(t("track.method", lang, reason=method_reason(outlook, lang)))
        st.caption(pool_text(lang))
        events = load_error_model().event_shares(outlook.as_of)
        if events:
            st.caption(t("track.events", lang, stop=fmt_pct(events["stop"], lang, 0), start=fmt_pct(events["start"], lang, 0)))
