"""Assumptions: every [reading] of the spec, and which ones the current result uses."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.i18n import t
from ui.router import require_router
from ui.state import as_of, cached_evaluation, current_client, lang, policy_of

require_router()
L = lang()
client = current_client()
policy = policy_of(client)
st.header(t("assumptions.heading", L))
st.caption(t("assumptions.intro", L))
used: set[str] = set()
if not client.spend.empty:
    used = set(cached_evaluation(client.spend, client.terms, client.policy_name, as_of(client)).reading_ids)
factor = str(client.terms.factor(policy))
table = pd.DataFrame(
    {
        t("assumptions.clause", L): [r.clause for r in policy.readings],
        t("assumptions.reading", L): [(r.zh if L == "zh" else r.en).replace("{factor}", factor) for r in policy.readings],
        t("assumptions.in_result", L): [r.id in used for r in policy.readings],
    }
)
st.dataframe(table, hide_index=True, width="stretch")
