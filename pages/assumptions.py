"""Assumptions: every [reading] of the spec, which ones the current result uses, and the
modelling assumptions of the projection in force."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.forecast import settings
from core.i18n import t
from ui.context import PageContext, page_start
from ui.reliability import pool_text
from ui.session import method_choice


def readings_table(ctx: PageContext) -> pd.DataFrame:
    """Every [reading] of the contract, with whether the current result rests on it."""
    L, policy = ctx.lang, ctx.policy
    used = set(ctx.evaluation().reading_ids) if not ctx.client.spend.empty else set()
    factor = str(ctx.client.terms.factor(policy))
    return pd.DataFrame({
        t("assumptions.clause", L): [r.clause for r in policy.readings],
        t("assumptions.reading", L): [(r.zh if L == "zh" else r.en).replace("{factor}", factor) for r in policy.readings],
        t("assumptions.in_result", L): [r.id in used for r in policy.readings],
    })


def model_table(ctx: PageContext) -> pd.DataFrame:
    """The projection's settings in force, in words."""
    L, cfg = ctx.lang, settings()
    rows = [
        (t("app.method", L), t(f"method.{method_choice() or 'combined'}", L)),
        (t("assumptions.m.run_rate_days", L), str(cfg["run_rate_days"])),
        (t("assumptions.m.account_stop", L), t("assumptions.m.account_stop_v", L, stop=cfg["account_stop_days"], gaps=cfg["account_stop_gaps"])),
        (t("assumptions.m.account_start", L), t("assumptions.m.account_start_v", L, start=cfg["account_start_days"],
                                                 level=cfg["account_level_days"])),
        (t("assumptions.m.profile_weights", L), ", ".join(f"{t(f'assumptions.profile.{k}', L)} {v:g}"
                                                           for k, v in cfg["profile_weights_with_previous"].items())),
        (t("assumptions.m.return_share", L), t("assumptions.m.return_share_v", L)),
        (t("assumptions.m.profile", L), "; ".join(p["name_zh" if L == "zh" else "name"] for p in cfg["profile"])),
        (t("assumptions.m.shortfall", L), str(ctx.client.terms.factor(ctx.policy))),
    ]
    return pd.DataFrame(rows, columns=[t("assumptions.m.name", L), t("assumptions.m.value", L)])


def main() -> None:
    ctx = page_start("assumptions.heading", needs_spend=False)
    L = ctx.lang
    st.caption(t("assumptions.intro", L))
    st.dataframe(readings_table(ctx), hide_index=True, width="stretch")
    st.subheader(t("assumptions.model", L))
    st.markdown(f"**{t('assumptions.m.plain', L)}** — {t('assumptions.m.plain_v', L, level=settings()['account_level_days'])}")
    st.markdown(f"**{t('assumptions.m.uncertainty', L)}** — {t('assumptions.m.uncertainty_v', L)} {pool_text(L)}")
    st.dataframe(model_table(ctx), hide_index=True, width="stretch")


main()
