"""The database: embedded SQLite by default, any SQLAlchemy URL through DATABASE_URL.

Why WAL and one transaction per write: an import either lands whole or not at all, and
readers (other sessions) never block a writer or see half an import.
"""
from __future__ import annotations

import os
import warnings
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, create_engine

from . import models  # noqa: F401  (registers the tables)

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "var"


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    DEFAULT_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DIR / 'rebate.db'}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")  # then store.repo.with_retry backs off and retries
    cur.close()


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """One engine per URL; tables created on first use."""
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    SQLModel.metadata.create_all(engine)
    _migrate(engine)
    return engine


def _migrate(engine: Engine) -> None:
    """Client names unique per team, not across teams (a name told team B that team A had
    that client). Idempotent: drops the old global unique index where a database has it."""
    with engine.begin() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy cannot reflect the expression index; it is not needed here
        for index in inspect(conn).get_indexes("client"):
            if index["name"] == "ix_client_name" and index.get("unique"):
                conn.execute(text("DROP INDEX ix_client_name"))
                conn.execute(text("CREATE INDEX ix_client_name ON client (name)"))
        conn.execute(text("CREATE UNIQUE INDEX IF NOT EXISTS ux_client_team_name ON client (COALESCE(team, ''), name)"))
        if "warnings" not in {c["name"] for c in inspect(conn).get_columns("spendbatch")}:  # databases from before
            conn.execute(text("ALTER TABLE spendbatch ADD COLUMN warnings INTEGER NOT NULL DEFAULT 0"))
        if "spend_version" not in {c["name"] for c in inspect(conn).get_columns("client")}:  # one version for everything
            conn.execute(text("ALTER TABLE client ADD COLUMN spend_version INTEGER NOT NULL DEFAULT 1"))
        if "policy" not in {c["name"] for c in inspect(conn).get_columns("savedscenario")}:  # scenarios saved unpinned
            conn.execute(text("ALTER TABLE savedscenario ADD COLUMN policy VARCHAR"))
