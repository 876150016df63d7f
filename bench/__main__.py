"""python -m bench [--quick]: time the projection against a plain-numpy baseline.

Figure (issue "Projections"): 10,000 Monte-Carlo paths × remaining days for a 20-account
client, evaluated by the engine's own rules (draws, quarterly totals, settle), goal
<= 300 ms on this machine; printed beside the raw numpy cost of drawing the same daily
paths (10,000 × 20 accounts × remaining days lognormal draws summed per quarter).
Timings are medians of several runs; the last line is a one-line summary.
"""
from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import time

import numpy as np
import pandas as pd

from core.forecast import make_forecast, segment_history
from core.policy import load_policy
from core.projection import project
from core.spend import normalise_spend
from core.terms import ContractTerms

PLATFORMS = ["ocean_ads", "oesa", "local", "xingtu_xgl"]
CLASSES = ["A", "B1", "B2", "C1", "C2"]


def client_year(accounts: int, seed: int = 7) -> pd.DataFrame:
    """A synthetic client year: `accounts` accounts × 366 days of cash spend (fixed seed)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", "2024-12-31", freq="D").strftime("%Y-%m-%d")
    frames = []
    for a in range(accounts):
        frames.append(pd.DataFrame({
            "date": days, "account_id": f"A{a:03d}", "customer": f"C{a % 3}", "platform": PLATFORMS[a % 4],
            "network": "douyin", "bidding": "true", "industry_class": CLASSES[a % 5], "business_model": "brand",
            "amount": np.round(rng.lognormal(np.log(8000), 0.3, len(days)), 2).astype(str),
        }))
    return normalise_spend(pd.concat(frames, ignore_index=True).astype(object)).rows


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench")
    ap.add_argument("--quick", action="store_true", help="small sizes, a few seconds (CI)")
    args = ap.parse_args()
    paths, accounts, repeat = (1_000, 5, 3) if args.quick else (10_000, 20, 7)
    policy = load_policy()
    as_of = dt.date(2024, 6, 30)
    rows = client_year(accounts)
    terms = ContractTerms(target_fen=accounts * 366 * 8000 * 100, customer_type="regular", main_industry="other",
                          deposit_paid_on=dt.date(2024, 3, 1))
    history = segment_history(rows, policy, as_of)
    forecast = make_forecast("run_rate", history, policy, as_of)
    days = len(forecast.days)

    def engine_run():
        project(rows, history, forecast, terms, policy, as_of, paths, seed=1)

    def numpy_baseline():
        rng = np.random.default_rng(1)
        draws = np.exp(rng.standard_normal((paths, accounts, days)) * 0.2) * 8000.0
        q = (forecast.days.month.to_numpy() - 1) // 3
        np.stack([draws[:, :, q == i].sum(axis=2) for i in range(4)], axis=2)

    engine_run()  # warm caches and imports
    engine_s = median_time(engine_run, repeat)
    base_s = median_time(numpy_baseline, repeat)
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    print(f"projection: {paths:,} paths x {accounts} accounts x {days} remaining days, {len(rows):,} rows of history")
    print(f"  engine (draws + quarterly totals + settle): {engine_s * 1000:.1f} ms (median of {repeat})")
    print(f"  numpy baseline (draw the same daily paths):  {base_s * 1000:.1f} ms")
    ratio = engine_s / base_s if base_s else float("nan")
    goal = "" if args.quick else f", goal <= 300 ms: {'met' if engine_s <= 0.300 else 'NOT met'}"
    print(f"summary: projection {engine_s * 1000:.0f} ms = {ratio:.2f}x numpy baseline{goal}")


if __name__ == "__main__":
    main()
