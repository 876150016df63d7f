"""Keep every run inside the router, even the first one of a fresh server.

Why: with a folder named pages/, Streamlit starts in its legacy multipage mode until the
first st.navigation call. The first run after a restart then runs a page file on its own
(no sidebar controls), or runs the router with widget ids the next run does not
recognise, so the user's first click is lost. Leaving legacy mode and rerunning puts
that run through the router like every other.
"""
from __future__ import annotations

import gc
import logging
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from core.isolation import warm_readers

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
            freeze_new_modules()  # the collection after this run then skips what the imports made
            st.rerun()
    st.session_state["_router_seen"] = True
    _run.active = True
    try:
        yield
    finally:
        _run.active = False
        freeze_new_modules()
        warm_readers_later()


_frozen_at = 0  # len(sys.modules) when the process last froze its long-lived objects


def freeze_new_modules() -> None:
    """Move what the imports created into the collector's permanent generation.

    Why: Streamlit runs a full `gc.collect()` after every script run (runner.postScriptGC),
    and with pandas, plotly and the app imported that walk over ~190,000 long-lived
    objects cost 170–200 ms of every rerun — more than a target what-if itself. Frozen
    objects are skipped by the collector (refcounting still frees them). We freeze only
    after a run that imported new modules (a page's first visit), so per-run data is
    still collected; turning the post-run collection off instead was measured and left
    alone: it saved as much but the server's memory grew by half in 12 rounds.

    Only the young generations are collected before freezing: the old one holds the
    imports' objects, and unreachable ones among them (about 750 after the app's imports)
    are frozen once with them instead of paying a full walk on every first visit."""
    global _frozen_at
    if len(sys.modules) != _frozen_at:
        gc.collect(1)  # the young generations only: a full walk here cost 0.1–0.3 s of a first run
        gc.freeze()
        _frozen_at = len(sys.modules)


WARM_READERS_AFTER_S = 3.0
_warm_timer: threading.Timer | None = None
_warm_lock = threading.Lock()


def warm_readers_later(delay: float = WARM_READERS_AFTER_S) -> threading.Timer:
    """Once per process, `delay` seconds after the first finished run: start the file readers'
    fork server (core.isolation.warm_readers) while the user reads the page, so the first
    upload or Portfolio visit does not wait for it. Why the delay: the fork server imports the
    readers (about 0.6 s of CPU in its own process), which would otherwise compete with the
    browser drawing the first page for a 2-core machine."""
    global _warm_timer
    with _warm_lock:
        if _warm_timer is None:
            _warm_timer = threading.Timer(delay, _warm_readers_logged)
            _warm_timer.daemon = True
            _warm_timer.start()
        return _warm_timer


def _warm_readers_logged() -> None:
    try:
        warm_readers()
    except OSError as exc:  # no fork server now: the first read starts one, as before
        logging.getLogger(__name__).warning("could not start the file readers early: %s", exc)


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
