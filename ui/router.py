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


def pin_navigation_for_apptest() -> None:
    """For AppTest (the tests and `python -m bench.pages`): AppTest resets Streamlit's legacy
    `pages/` flag before every run, so each run would start in the legacy mode a real server
    leaves for good after its first run (see above). Pin the flag to that production state
    so AppTest runs pages through the router exactly as the browser does."""
    original = PagesManager.__init__
    if getattr(original, "_pinned", False):
        return

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    init._pinned = True  # type: ignore[attr-defined]
    PagesManager.__init__ = init


def require_router() -> None:
    """Called first by every page: a page run on its own reruns through the router."""
    if not getattr(_run, "active", False):
        PagesManager.uses_pages_directory = False
        st.rerun()
