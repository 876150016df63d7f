"""Keep every run inside the router, even the first one of a fresh server.

Why: with a folder named pages/, Streamlit starts in its legacy multipage mode until the
first st.navigation call. The first run after a restart then runs a page file on its own
(no sidebar controls), or runs the router with widget ids the next run does not
recognise, so the user's first click is lost. Leaving legacy mode and rerunning puts
that run through the router like every other.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

_run = threading.local()  # each session's script runs in its own thread


@contextmanager
def router_run() -> Iterator[None]:
    """Wrap the router's run; leaves legacy mode first if the server is still in it.
    Only a session's first run reruns (Streamlit's AppTest re-enters legacy mode on every
    run, where a rerun would swallow the click under test)."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if not st.session_state.get("_router_seen"):
            st.session_state["_router_seen"] = True
            st.rerun()
    st.session_state["_router_seen"] = True
    _run.active = True
    try:
        yield
    finally:
        _run.active = False


def require_router() -> None:
    """Called first by every page: a page run on its own reruns through the router."""
    if not getattr(_run, "active", False):
        PagesManager.uses_pages_directory = False
        st.rerun()
