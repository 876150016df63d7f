"""Shared fixtures: the 2024 policy and a builder for spend rows and terms."""
from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Every test session gets its own embedded database (the app, AppTest and the e2e server).
if not os.environ.get("KEEP_DATABASE_URL"):
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='rebate-test-')}/test.db"

from ui.router import pin_navigation_for_apptest  # noqa: E402

pin_navigation_for_apptest()  # AppTest runs pages through the router, as a real server does

from core.ingest import read_spend_file  # noqa: E402
from core.policy import load_policy  # noqa: E402
from core.scenario import load_scenario  # noqa: E402
from core.terms import ContractTerms  # noqa: E402
from core.validate import normalise_spend  # noqa: E402

MILLION_FEN = 100_000_000  # 1,000,000 RMB in fen

# Test lanes (README, "Tests"): `pytest` runs everything; the inner loop is
# `pytest -m "not slow and not e2e"`. Tests marked bench, fuzz (coverage-guided and long
# hypothesis runs) or app (whole pages through AppTest) are slow as well, and the fast lane
# runs every property test with fewer examples (`examples`).
def pytest_configure(config) -> None:
    # an environment variable, not a global: test modules import this file as tests.conftest,
    # a second copy of the module pytest loaded as conftest
    fast = "not slow" in " ".join((config.getoption("markexpr") or "").split())
    os.environ["REBATE_FAST_LANE"] = "1" if fast else ""


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if any(item.get_closest_marker(m) for m in ("bench", "fuzz", "app")):
            item.add_marker(pytest.mark.slow)


def examples(n: int) -> int:
    """Hypothesis examples for a property: n in the full lane, at most 8 in the fast lane."""
    return min(n, 8) if os.environ.get("REBATE_FAST_LANE") else n


@pytest.fixture(scope="session")
def policy():
    return load_policy("ocean_engine_2024")


def row(date: str, amount: float, **kw) -> dict:
    """One canonical spend row with the worked examples' defaults."""
    base = dict(
        date=date, customer="Jinan Yanling", account_id="1700001", platform="ocean_ads", network="douyin",
        bidding=True, industry_class="B1", business_model="brand", amount=amount,
    )
    base.update(kw)
    return base


def rows(*items: dict) -> pd.DataFrame:
    parsed = normalise_spend(pd.DataFrame(list(items), dtype=object))
    assert not parsed.errors, parsed.errors
    return parsed.rows


def terms(**kw) -> ContractTerms:
    base = dict(
        target_fen=50 * MILLION_FEN, customer_type="regular", main_industry="other",
        previous_year_fen=30 * MILLION_FEN, signed_on=dt.date(2024, 1, 1), deposit_paid_on=dt.date(2024, 3, 10),
    )
    base.update(kw)
    return ContractTerms(**base)


def quarterly(q1: float, q2: float, q3: float, q4: float, **kw) -> list[dict]:
    """Four rows on the 15th of Feb/May/Aug/Nov, like the worked examples."""
    return [row(d, a, **kw) for d, a in zip(("2024-02-15", "2024-05-15", "2024-08-15", "2024-11-15"), (q1, q2, q3, q4)) if a]


DEMO = ROOT / "data" / "demo"


def demo_scenario():
    """The demo client read straight from its files with core only (what the CLI does)."""
    return load_scenario(DEMO / "client.json", spend=lambda p: read_spend_file(DEMO / "spend_2024.csv", p).rows)


def demo_portfolio_table(as_of: dt.date, project: bool = False) -> pd.DataFrame:
    """The core's table for the demo portfolio the Portfolio page shows without uploads."""
    from core.portfolio import read_clients, read_portfolio_spend, run_portfolio
    from store.demo import DEMO_DIR

    policy = load_policy("ocean_engine_2024")
    clients = read_clients((DEMO_DIR / "portfolio_clients.csv").read_bytes(), "portfolio_clients.csv", policy)
    spend = read_portfolio_spend((DEMO_DIR / "portfolio_spend.parquet").read_bytes(), "portfolio_spend.parquet", policy)
    return run_portfolio(clients, spend, policy, as_of, project=project).table
