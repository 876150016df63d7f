"""Fetch the browser's element modules while the server computes the first run.

Why: Streamlit's frontend loads each element's JavaScript module only when the first element
of that kind arrives, one after another, and Plotly's is 4.7 MB — about a second of the
browser's main thread on this machine, spent after the KPIs had arrived. Importing those
modules as the page opens overlaps that second with the server's first run.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import streamlit as st
from streamlit.components.v2.types import ComponentRenderer

# What the Overview (the landing page) and the sidebar draw; the other pages' tables load on their first visit.
MODULES = ("PlotlyChart", "Metric", "NumberInput", "DateInput", "Selectbox", "Radio", "Html", "TextInput",
           "DownloadButton", "Spinner")


@lru_cache(maxsize=1)
def module_files() -> tuple[str, ...]:
    """This Streamlit's file names for those modules (content-hashed: they change with its version)."""
    folder = Path(st.__file__).parent / "static" / "static" / "js"
    return tuple(sorted(p.name for name in MODULES for p in folder.glob(f"{name}.*.js")))


JS = """
export default function(component) {
  const files = %s;
  const entry = document.querySelector('script[type=module][src*="/static/js/"]');
  if (!entry) return;
  const base = new URL('.', entry.src);
  for (const f of files) import(new URL(f, base).href).catch(() => {});
}
"""


@lru_cache(maxsize=1)
def _component() -> ComponentRenderer:
    """Registered once per process (Streamlit warns and replaces a component registered again)."""
    return st.components.v2.component("rebate_preload", js=JS % json.dumps(list(module_files())))


def preload_frontend() -> None:
    """Emit the hidden preloader (on every run: the browser imports each module once per page load)."""
    if module_files():
        _component()(key="preload")
