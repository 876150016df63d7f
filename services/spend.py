"""Use cases of the Data page: remembered column mappings, importing an upload, undoing a
batch, and the account classification."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

import pandas as pd
from sqlalchemy.engine import Engine

from core.columns import layout_key
from store import repo


def recalled_mapping(engine: Engine, headers: list[str], team: str | None) -> dict[str, str] | None:
    """The mapping this team saved for files laid out like this one (None: never saved)."""
    return repo.recall_mapping(engine, layout_key(headers), team=team)


def remember_mapping(engine: Engine, headers: list[str], mapping: dict[str, str], team: str | None) -> None:
    repo.remember_mapping(engine, layout_key(headers), mapping, team=team)


def classification(engine: Engine, client_id: int) -> pd.DataFrame:
    """The client's account classification (one row per account)."""
    return repo.get_classification(engine, client_id)


def overlapping_rows(engine: Engine, client_id: int, rows: pd.DataFrame) -> int:
    """Stored rows on the same account-days as the upload (what "replace" would supersede)."""
    return repo.count_overlap(engine, client_id, rows)


def import_spend(engine: Engine, client_id: int, version: int, file_name: str, data: bytes, rows: pd.DataFrame,
                 given: Iterable[str], mode: str, who: str, progress: Callable[[int, int], None] | None = None,
                 new_accounts: pd.DataFrame | None = None, warnings: int = 0, headers: list[str] | None = None) -> repo.ImportResult:
    """Store a validated upload as one batch (the file's SHA-256 makes a re-upload a no-op),
    checked against the client version the page read."""
    return repo.import_batch(engine, client_id, file_name, hashlib.sha256(data).hexdigest(), rows, given, mode=mode,
                             layout_key=layout_key(headers) if headers else "", expected_version=version, who=who,
                             progress=progress, new_accounts=new_accounts, warnings=warnings)


def batches(engine: Engine, client_id: int) -> pd.DataFrame:
    return repo.list_batches(engine, client_id)


def undo_batch(engine: Engine, client_id: int, version: int, batch_id: int, who: str) -> None:
    repo.undo_batch(engine, client_id, batch_id, expected_version=version, who=who)


def save_classification(engine: Engine, client_id: int, version: int, table: pd.DataFrame, who: str) -> int:
    """Cells changed (each audited); the spend version moves, so every page re-evaluates."""
    return repo.save_classification(engine, client_id, table, expected_version=version, who=who)
