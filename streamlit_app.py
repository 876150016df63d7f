"""The router: shared sidebar controls (language, client, evaluation date) and pages.

Why the controls live here: widgets created in the entry script keep their state across
pages, so switching page never loses the client or the language.
"""
from __future__ import annotations

import streamlit as st

from core.i18n import t
from ui.state import clip_to_year, current_client, policy_of

st.set_page_config(page_title="返货看板 · Rebate dashboard", page_icon="📈", layout="wide")

LANGS = {"zh": "中文", "en": "English"}
if "lang" not in st.session_state:
    st.session_state["lang"] = "zh"
lang = st.sidebar.radio("Language / 语言", list(LANGS), format_func=LANGS.get, key="lang", horizontal=True)
client = current_client()
policy = policy_of(client)
st.sidebar.selectbox(t("app.client", lang), [client.name], key="client")
st.sidebar.date_input(
    t("app.as_of", lang),
    value=clip_to_year(client.default_as_of, policy),
    min_value=policy.year_start,
    max_value=policy.year_end,
    key="as_of",
)
st.sidebar.caption(f"{t('app.policy', lang)}: {policy.title_zh if lang == 'zh' else policy.title}")

pages = [
    st.Page("pages/overview.py", title=t("page.overview", lang), icon="📊", default=True),
    st.Page("pages/assumptions.py", title=t("page.assumptions", lang), icon="📜"),
]
st.navigation(pages).run()

# On a fresh server the first run of the first session creates the sidebar widgets before
# st.navigation has registered the pages, and the user's first click on them is lost
# (seen with Streamlit 1.67 in Chromium). One rerun per new session gives them stable ids.
if not st.session_state.get("_navigation_ready"):
    st.session_state["_navigation_ready"] = True
    st.rerun()
