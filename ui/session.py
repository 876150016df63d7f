"""The session: who is signed in, which client and evaluation date are open, the shared
sidebar widgets that must survive a page switch, and deep links (?lang=&client=&as_of=)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from core.policy import Policy
from store import repo

from .caches import ClientInputs, engine, load_client, policy_of

T = TypeVar("T")


def method_choice() -> str | None:
    """The sidebar's projection method; None is the default (the combined forecast)."""
    value = st.session_state.get("method", "combined")
    return None if value in ("combined", "auto") else value


def lang() -> str:
    return st.session_state.get("lang", "zh")


def write_failure(exc: Exception, lang: str) -> str:
    """A save that did not land, in the UI's language (the store's messages are English)."""
    from core.i18n import t

    return t("store.busy" if isinstance(exc, repo.BusyError) else "store.conflict", lang)


def try_write(write: Callable[[], T], lang: str) -> tuple[bool, T | None]:
    """Run one write of a use case: (True, its result), or — when the store refused it
    (someone else's change, a database that stayed busy) — the warning in the UI's language
    and (False, None); nothing was saved and the page keeps what was typed."""
    from services import WriteRefused

    try:
        return True, write()
    except WriteRefused as exc:
        st.warning(write_failure(exc, lang))
        return False, None


def user_email() -> str:
    """Who the audit log names: the signed-in e-mail, 'local' in single-user mode."""
    return st.session_state.get("_who") or "local"


def user_team() -> str | None:
    """The signed-in user's team (None: single-user mode, every client visible)."""
    return st.session_state.get("_team")


def client_choices() -> dict[int, str]:
    """The clients this user may see: all in single-user mode, else their team's only."""
    return {c.id: c.name for c in repo.list_clients(engine(), team=user_team())}


def open_remembered_client(choices: dict[int, str]) -> None:
    """A fresh session opens the client this user opened last (not whichever sorts first)."""
    if "client" not in st.session_state:
        remembered = repo.last_client(engine(), user_email(), user_team())
        if remembered in choices:
            st.session_state["client"] = remembered


def remember_opened(client_id: int) -> None:
    """Store the client this user has open, once per change."""
    if st.session_state.get("_remembered_client") != client_id:
        repo.remember_client(engine(), user_email(), user_team(), client_id)
        st.session_state["_remembered_client"] = client_id


def current_client_id() -> int:
    """The chosen client if this user may see it; any other id (from a deep link or the
    session) falls back to the first allowed client."""
    choices = client_choices()
    chosen = st.session_state.get("client")
    return chosen if chosen in choices else next(iter(choices))


def current_client() -> ClientInputs:
    client_id = current_client_id()
    version = repo.get_client(engine(), client_id).version
    return load_client(client_id, version)


def default_day(client: ClientInputs, policy: Policy) -> dt.date:
    """Where a client opens: its saved date, else the data's last day — never today or Dec 31
    for a file that ends in September (that showed a partial year as a settled one)."""
    return policy.clip(client.default_as_of or client.data_end or dt.date.today())


def follow_data_end(client: ClientInputs, policy: Policy) -> None:
    """The sidebar's evaluation date follows the client's data (a new import, another
    client) until the user picks a date; a picked date is kept, clipped to the policy year.
    Without this, a client created at Dec 31 still showed Dec 31 after importing a file
    that ends on 09-15."""
    chosen, auto = st.session_state.get("as_of"), st.session_state.get("_as_of_auto")
    if chosen is None or chosen == auto:  # never picked by the user (or cleared): the data's last day
        st.session_state["as_of"] = st.session_state["_as_of_auto"] = default_day(client, policy)
    else:
        st.session_state["as_of"] = policy.clip(chosen)


def as_of(client: ClientInputs) -> dt.date:
    """The evaluation date the user asked for (the sidebar), clipped to the policy year."""
    policy = policy_of(client)
    chosen = st.session_state.get("as_of")
    return policy.clip(chosen) if chosen else default_day(client, policy)


def evaluated_at(client: ClientInputs, requested: dt.date) -> dt.date:
    """The date the numbers are computed at: the requested one, but never after the data's
    last day — later days are projected from the data's end, not counted as zero spend."""
    end = client.data_end
    return min(requested, end) if end is not None else requested


SHARED_WIDGETS = ("lang", "client", "as_of")


def restore_shared_widgets() -> None:
    """Put back the shared sidebar values a programmatic page switch dropped.

    Why: `st.switch_page` starts the next page without the browser's widget states, so
    Streamlit forgets keyed widget values (the language fell back to 中文 after opening a
    portfolio client). A plain key outlives that; `remember_shared_widgets` keeps it."""
    kept = st.session_state.get("_kept_widgets", {})
    for key, value in kept.items():
        if key not in st.session_state:
            st.session_state[key] = value


def remember_shared_widgets() -> None:
    """Copy the shared widgets' values into a non-widget key, after they are drawn."""
    st.session_state["_kept_widgets"] = {k: st.session_state[k] for k in SHARED_WIDGETS if k in st.session_state}


def apply_query_params() -> None:
    """Deep links: ?lang=en&client=3&as_of=2024-09-15 seed a new session's controls
    (bad values are ignored: a link never breaks the page)."""
    if st.session_state.get("_query_applied"):
        return
    st.session_state["_query_applied"] = True
    q = st.query_params
    if q.get("lang") in ("zh", "en"):
        st.session_state["lang"] = q["lang"]
    if str(q.get("client", "")).isdigit():
        st.session_state["client"] = int(q["client"])
    try:
        if q.get("as_of"):
            st.session_state["as_of"] = dt.date.fromisoformat(q["as_of"])
    except ValueError:
        pass
