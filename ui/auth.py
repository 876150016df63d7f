"""Optional sign-in (Streamlit's st.login with any OIDC provider) and team isolation.

Off by default: the single-user embedded mode has no [auth] section in secrets.toml and
sees every client. With [auth] configured, a user must sign in; [teams] maps e-mail
addresses to a team, and the user sees and edits only that team's clients — the client
picker, deep links and session state are all filtered through allowed_client_ids().
"""
from __future__ import annotations

import streamlit as st

from core.i18n import t

from .text import plain


def _secrets() -> dict:
    try:
        return st.secrets.to_dict()
    except Exception:  # no secrets.toml: single-user mode
        return {}


def auth_enabled() -> bool:
    return "auth" in _secrets()


def require_team(lang: str) -> str | None:
    """None in single-user mode; else the signed-in user's team (stops the page otherwise)."""
    if not auth_enabled():
        return None
    if not st.user.get("is_logged_in", False):
        st.header(t("auth.heading", lang))
        st.write(t("auth.why", lang))
        if st.button(t("auth.login", lang), type="primary"):
            st.login()
        st.stop()
    email = str(st.user.get("email", "")).lower()
    team = {k.lower(): v for k, v in _secrets().get("teams", {}).items()}.get(email)
    if not team:
        st.error(t("auth.no_team", lang, email=plain(email)))
        if st.button(t("auth.logout", lang)):
            st.logout()
        st.stop()
    st.session_state["_who"] = email
    st.sidebar.caption(t("auth.signed_in", lang, email=plain(email), team=plain(team)))
    if st.sidebar.button(t("auth.logout", lang)):
        st.logout()
    return team
