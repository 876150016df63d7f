"""ui/preload.py: the browser modules it asks for exist in the installed Streamlit."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.preload import MODULES, module_files


def test_every_preloaded_module_is_one_file_of_this_streamlit():
    """A Streamlit upgrade renames its content-hashed modules: the preloader must find each
    one by name (or this fails, instead of silently preloading nothing)."""
    files = module_files()
    assert sorted(f.split(".")[0] for f in files) == sorted(MODULES)
    folder = Path(st.__file__).parent / "static" / "static" / "js"
    assert all((folder / f).is_file() for f in files)
