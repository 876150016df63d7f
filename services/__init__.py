"""Use cases: what a page asks the product to do, as functions of plain data and a database.

Why a layer: pages are views (inputs -> one call -> figures) and never touch the store;
every write goes through here as one transaction of `store.repo` with its version check,
and a write the database refused is one error type a page catches (`WriteRefused`), shown
in the UI's language by `ui.session.write_failure`. No Streamlit here: the same functions
serve a test, a script or another front end.
"""
from __future__ import annotations

from sqlalchemy.engine import Engine

from store.repo import BusyError, ConflictError

WriteRefused = (ConflictError, BusyError)  # someone else changed the client, or the database stayed busy
Database = Engine  # what a page holds and passes to a use case, without importing the store's library

__all__ = ["Database", "WriteRefused"]
