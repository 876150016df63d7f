"""The router: shared sidebar controls (language, client, evaluation date) and pages.

Why the controls live here: widgets created in the entry script keep their state across
pages, so switching page never loses the client or the language.
"""
from __future__ import annotations

import streamlit as st

from ui.preload import preload_frontend

st.set_page_config(page_title="返货看板 · Rebate dashboard", page_icon="📈", layout="wide")
# KPI values stay readable at 1280 px with five cards a row (money in 万 can be 10 characters);
# the preloader below takes no room.
st.html("<style>[data-testid='stMetricValue']{font-size:1.55rem} .st-key-preload{display:none}</style>")
preload_frontend()  # before the app's imports: the browser fetches its modules while this run computes

from core.forecast import STATISTICAL  # noqa: E402
from core.i18n import t  # noqa: E402
from ui.auth import require_team  # noqa: E402
from ui.caches import policy_of  # noqa: E402
from ui.inputs import contract_inputs, new_client_form  # noqa: E402
from ui.router import router_run  # noqa: E402
from ui.session import (  # noqa: E402
    apply_query_params,
    client_choices,
    current_client,
    follow_data_end,
    open_remembered_client,
    remember_opened,
    remember_shared_widgets,
    restore_shared_widgets,
)
from ui.text import plain  # noqa: E402

LANGS = {"zh": "中文", "en": "English"}
apply_query_params()
restore_shared_widgets()
if "lang" not in st.session_state:
    st.session_state["lang"] = "zh"
lang = st.sidebar.radio("Language / 语言", list(LANGS), format_func=LANGS.get, key="lang", horizontal=True)
st.session_state["_team"] = require_team(lang)
choices = client_choices()
if not choices:  # a team without clients yet
    st.info(t("auth.no_clients", lang))
    new_client_form(lang)
    st.stop()
if "_select_client" in st.session_state:
    st.session_state["client"] = st.session_state.pop("_select_client")
open_remembered_client(choices)
st.sidebar.selectbox(t("app.client", lang), list(choices), format_func=choices.get, key="client")
new_client_form(lang)
client = current_client()
remember_opened(client.id)
policy = policy_of(client)
follow_data_end(client, policy)
st.sidebar.date_input(
    t("app.as_of", lang),
    min_value=policy.year_start,
    max_value=policy.year_end,
    key="as_of",
)
METHODS = list(STATISTICAL)
if st.session_state.get("method") not in METHODS:  # also a session from before "combined" existed
    st.session_state["method"] = "combined"
st.sidebar.selectbox(  # one widget per language so the option labels follow it; the choice lives in "method"
    t("app.method", lang), METHODS, index=METHODS.index(st.session_state["method"]),
    format_func=lambda m: t(f"method.{m}", lang), key=f"method_{lang}",
    on_change=lambda: st.session_state.update(method=st.session_state[f"method_{lang}"]),
)
remember_shared_widgets()
contract_inputs(client, lang)
st.sidebar.caption(f"{t('app.policy', lang)}: {plain(policy.title_zh if lang == 'zh' else policy.title)}")  # a saved contract's title is user text

pages = [
    st.Page("pages/overview.py", title=t("page.overview", lang), icon=":material/dashboard:", default=True),
    st.Page("pages/checkpoints.py", title=t("page.checkpoints", lang), icon=":material/flag:"),
    st.Page("pages/deposit.py", title=t("page.deposit", lang), icon=":material/account_balance:"),
    st.Page("pages/returns.py", title=t("page.returns", lang), icon=":material/savings:"),
    st.Page("pages/negotiation.py", title=t("page.negotiation", lang), icon=":material/handshake:"),
    st.Page("pages/portfolio.py", title=t("page.portfolio", lang), icon=":material/table_view:"),
    st.Page("pages/scenarios.py", title=t("page.scenarios", lang), icon=":material/compare:"),
    st.Page("pages/payouts.py", title=t("page.payouts", lang), icon=":material/payments:"),
    st.Page("pages/data.py", title=t("page.data", lang), icon=":material/upload_file:"),
    st.Page("pages/terms.py", title=t("page.terms", lang), icon=":material/edit_document:"),
    st.Page("pages/assumptions.py", title=t("page.assumptions", lang), icon=":material/gavel:"),
]
with router_run():
    st.navigation(pages).run()

