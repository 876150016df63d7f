"""Use cases across clients: opening a portfolio client in the dashboard, saved scenarios,
the audit log."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from sqlalchemy.engine import Engine

from store import repo
from store.demo import DEMO_DIR


def open_portfolio_client(engine: Engine, name: str, inputs: dict, rows: pd.DataFrame, file_name: str, sha256: str,
                          given: Iterable[str], as_of: dt.date, policy: str, team: str | None, who: str) -> int:
    """The dashboard client for a portfolio row: the team's existing one of that name, or a
    new one created with its rows in one transaction. Its id."""
    existing = {c.name: c.id for c in repo.list_clients(engine, team=team)}
    if name in existing:
        return existing[name]
    return repo.create_client_with_rows(engine, name, inputs, rows, file_name, sha256, given, as_of, policy,
                                        team=team, who=who).id


def demo_portfolio_files() -> tuple[bytes, str, bytes, str]:
    """The demo portfolio the Portfolio page shows before any upload (clients, spend)."""
    clients, spend = DEMO_DIR / "portfolio_clients.csv", DEMO_DIR / "portfolio_spend.parquet"
    return clients.read_bytes(), clients.name, spend.read_bytes(), spend.name


def save_scenario(engine: Engine, client_id: int, name: str, inputs: dict, as_of: dt.date, policy: str, who: str) -> int:
    return repo.save_scenario(engine, client_id, name, inputs, as_of, who=who, policy=policy)


def scenarios(engine: Engine, client_id: int) -> list:
    return repo.list_scenarios(engine, client_id)


def audit_log(engine: Engine, client_id: int) -> pd.DataFrame:
    return repo.audit_log(engine, client_id)
