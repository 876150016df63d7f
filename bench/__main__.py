"""python -m bench [--quick] [--no-5m]: the performance figures, each against a baseline
measured in the same run (data generated with fixed seeds; medians of >= 3 runs).

- projection: 10,000 Monte-Carlo paths × remaining days for a 20-account client through
  the engine's own rules (draws, quarterly totals, settle) vs plain numpy drawing the same
  daily paths; goal <= 300 ms.
- what-if: the Overview of the demo client through AppTest (bench/pages.py), a target
  change and an evaluation-date change against a no-op rerun of the same round; goals
  <= 2x and <= 4x.
- portfolio: ingest + full evaluation of 150 clients from one CSV (1.1M rows: 3,000
  accounts × 365 days; 5M rows: 13,700 accounts) vs the same file's read + one group-by in
  Arrow (the floor) and, when installed (requirements-bench.txt), polars and duckdb: each
  run in a fresh process, interleaved over 5 rounds with the order rotated; medians of wall,
  CPU and peak memory. Goals: CPU <= 1.5x polars, peak memory <= polars'.
The last line is a one-line summary. --quick (CI) uses small sizes: its ratios mean little.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from core.forecast import make_forecast, segment_history
from core.policy import load_policy
from core.projection import project
from core.terms import ContractTerms
from core.validate import normalise_spend
from tools.portfolio_data import write as write_portfolio

ROOT = Path(__file__).resolve().parents[1]

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


def projection_figure(quick: bool) -> tuple[float, float]:
    """10,000 paths × 20 accounts × remaining days: the engine vs plain numpy daily draws."""
    paths, accounts, repeat = (1_000, 5, 3) if quick else (10_000, 20, 7)
    policy = load_policy()
    as_of = dt.date(2024, 6, 30)
    rows = client_year(accounts)
    terms = client_terms(accounts)
    history = segment_history(rows, policy, as_of)
    forecast = make_forecast("run_rate", history, policy, as_of)
    days = len(forecast.days)

    def engine_run():
        project(rows, history, forecast, terms, policy, as_of, paths, seed=1)

    engine_run()  # warm caches and imports
    engine_s = median_time(engine_run, repeat)
    base_s = median_time(lambda: numpy_draws(paths, accounts, forecast.days), repeat)
    print(f"projection: {paths:,} paths x {accounts} accounts x {days} remaining days, {len(rows):,} rows of history")
    print(f"  engine (draws + quarterly totals + settle): {engine_s * 1000:.1f} ms (median of {repeat})")
    print(f"  numpy baseline (draw the same daily paths):  {base_s * 1000:.1f} ms")
    return engine_s, base_s


def client_terms(accounts: int) -> ContractTerms:
    return ContractTerms(target_fen=accounts * 366 * 8000 * 100, customer_type="regular", main_industry="other",
                         deposit_paid_on=dt.date(2024, 3, 1))


def numpy_draws(paths: int, accounts: int, days: pd.DatetimeIndex) -> None:
    """The raw cost of drawing the same paths day by day and summing them per quarter."""
    rng = np.random.default_rng(1)
    draws = np.exp(rng.standard_normal((paths, accounts, len(days))) * 0.2) * 8000.0
    q = (days.month.to_numpy() - 1) // 3
    np.stack([draws[:, :, q == i].sum(axis=2) for i in range(4)], axis=2)


def whatif_figure(quick: bool) -> dict[str, float]:
    """The dashboard's own what-if path (bench/pages.py: the Overview through AppTest, the
    same cached functions a browser session uses): a target change and a date change, each
    against the no-op rerun of the same round."""
    from bench.pages import page_times, report

    rounds = 2 if quick else 10
    print(f"what-if on the Overview of the demo client (AppTest, {rounds} interleaved rounds):")
    return report(page_times(rounds))


def fresh_run(mode: str, clients_csv: Path, spend_csv: Path, as_of: dt.date) -> dict:
    """One run of a mode in a fresh process (bench/memory.py): wall, CPU, peak memory."""
    from bench.memory import measured

    return measured(mode, clients_csv, spend_csv, as_of)


def peers() -> list[str]:
    """The product, Arrow's floor, and the optional peers that are installed here."""
    from importlib.util import find_spec

    return ["engine", "arrow"] + [m for m in ("polars", "duckdb") if find_spec(m) is not None]


def portfolio_figure(label: str, clients: int, accounts: int, rounds: int, workdir: Path) -> dict[str, dict[str, float]]:
    """Portfolio ingest + full evaluation against Arrow's CSV read + one group-by (the floor)
    and, when installed, polars and duckdb doing the same read + group-by: every run in a
    fresh process, the modes interleaved round by round with the order rotated, medians of
    wall time, CPU time and peak memory above the interpreter."""
    clients_csv, spend_csv = write_portfolio(workdir / label, clients, accounts)
    as_of = dt.date(2024, 9, 30)
    modes = peers()
    samples: dict[str, list[dict]] = {m: [] for m in modes}
    for r in range(rounds):
        for mode in modes[r % len(modes):] + modes[:r % len(modes)]:
            samples[mode].append(fresh_run(mode, clients_csv, spend_csv, as_of))
    med = {m: {k: statistics.median(s[k] for s in runs) for k in ("wall", "cpu")}
           | {"peak": statistics.median(s["peak_bytes"] - s["base_bytes"] for s in runs)} for m, runs in samples.items()}
    rows = samples["engine"][0]["rows"]
    print(f"portfolio {label}: {rows:,} rows, {clients} clients, {accounts:,} accounts, CSV {spend_csv.stat().st_size / 1e6:.0f} MB, "
          f"{rounds} rounds (fresh process per run, order rotated)")
    for m, v in med.items():
        what = "ingest + full evaluation" if m == "engine" else "CSV read + one group-by"
        ratio = "" if m == "engine" else (f"  product/{m}: wall {med['engine']['wall'] / v['wall']:.2f}x, "
                                           f"cpu {med['engine']['cpu'] / v['cpu']:.2f}x, memory {med['engine']['peak'] / v['peak']:.2f}x")
        print(f"  {m:7s} {what:26s} wall {v['wall']:6.2f} s  cpu {v['cpu']:6.2f} s  peak {v['peak'] / 1e6:6.0f} MB{ratio}")
    return med


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench")
    ap.add_argument("--quick", action="store_true", help="small sizes, a few seconds (CI)")
    ap.add_argument("--no-5m", action="store_true", help="skip the 5M-row portfolio (about a minute)")
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
          f"{platform.python_version()}, pandas {pd.__version__}, pyarrow {pa.__version__}")
    engine_s, base_s = projection_figure(args.quick)
    whatif = whatif_figure(args.quick)
    sizes = [("quick", 20, 150, 2)] if args.quick else [("1.1M", 150, 3000, 5)] + ([] if args.no_5m else [("5M", 150, 13_700, 5)])
    with tempfile.TemporaryDirectory(prefix="rebate-bench-") as tmp:
        results = {label: portfolio_figure(label, c, a, r, Path(tmp)) for label, c, a, r in sizes}
    parts = [f"projection {engine_s * 1000:.0f} ms = {engine_s / base_s:.2f}x numpy baseline",
             f"what-if target {whatif['target change']:.2f}x no-op rerun (goal <= 2), "
             f"date {whatif['date change']:.2f}x (goal <= 4)"]
    for label, med in results.items():
        e = med["engine"]
        parts += [f"portfolio {label} cpu " + ", ".join(f"{e['cpu'] / v['cpu']:.2f}x {m}" for m, v in med.items() if m != "engine")
                  + " (goal <= 1.5x polars), peak memory " + ", ".join(f"{e['peak'] / v['peak']:.2f}x {m}" for m, v in med.items() if m != "engine")]
    print("summary: " + "; ".join(parts))


if __name__ == "__main__":
    main()
