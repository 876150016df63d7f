"""Do the projection's probabilities come true? `python -m bench.calibration [--clients N]`.

Generates synthetic client-years (bench.synthetic: a world the forecast does not assume),
fits the error model on half of them (as the product fits it on the clients a store holds)
and projects the other half at four evaluation dates with the dashboard's own path
(segment_history → make_forecast → project). Against the truth of each full year it prints:
coverage of the P10–P90 and P5–P95 bands of year-end completion, Brier scores of P(630),
P(930) and P(target met) beside a naive baseline (year-to-date run rate with a normal error
fitted on the same training half), a reliability table, the share of confident-and-wrong
predictions and the MAPE of the P50 — and whether each target of issue 14 is met.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from bench.synthetic import ClientYear, client_years
from core.calibration import SpendYear, calibrated_forecast, fit
from core.engine import settle, totals_from_rows
from core.error_model import LEVELS, ErrorModel
from core.forecast import Forecast, make_forecast, segment_history
from core.policy import load_policy
from core.projection import project
from core.terms import ContractTerms

DATES = (dt.date(2024, 4, 30), dt.date(2024, 6, 15), dt.date(2024, 8, 31), dt.date(2024, 10, 31))
POLICY = load_policy("ocean_engine_2024")
EVENTS = ("p_630", "p_930", "p_target")
BINS = np.linspace(0, 1, 11)


def spend_year(c: ClientYear) -> SpendYear:
    this = c.days.year == c.year
    return SpendYear(c.year, c.spend[:, this].astype(np.float64), c.total[~this].astype(np.float64))


def terms_of(c: ClientYear) -> ContractTerms:
    previous = int(c.total[c.days.year == c.year - 1].sum())
    return ContractTerms(target_fen=c.target_fen, customer_type="regular", main_industry="other",
                         previous_year_fen=previous, signed_on=dt.date(2024, 1, 1), deposit_paid_on=dt.date(2024, 1, 10))


@dataclass(frozen=True)
class Truth:
    completion: float
    passed_630: bool
    passed_930: bool
    target_met: bool


def truth(rows: pd.DataFrame, terms: ContractTerms) -> Truth:
    o = settle(totals_from_rows(rows, terms, POLICY, POLICY.year_end), terms, POLICY, POLICY.year_end)
    actual = float(o.actual[0])
    return Truth(actual / terms.target_fen, o.assessment_630[0] == "pass", o.assessment_930[0] == "pass",
                 actual >= terms.target_fen)


def naive_errors(train: list[ClientYear]) -> dict[dt.date, tuple[float, float]]:
    """Mean and sd of actual ÷ predicted remaining spend of the year-to-date run rate, per date."""
    out = {}
    for day in DATES:
        t = (day - dt.date(day.year, 1, 1)).days
        ratios = []
        for c in train:
            total = c.total[c.days.year == c.year]
            predicted = total[: t + 1].mean() * (len(total) - t - 1)
            if predicted > 0:
                ratios.append(total[t + 1:].sum() / predicted)
        out[day] = (float(np.mean(ratios)), float(np.std(ratios)))
    return out


def naive_forecast(rows: pd.DataFrame, day: dt.date, error: tuple[float, float]) -> tuple[Forecast, object]:
    history = segment_history(rows, POLICY, day)
    base = make_forecast("run_rate", history, POLICY, day)
    ytd = history.daily.sum(axis=1) / max(history.daily.shape[1], 1)
    levels = np.clip(LEVELS, 0.0005, 0.9995)
    normal = NormalDist(error[0], max(error[1], 1e-9))
    ratios = np.maximum([normal.inv_cdf(float(p)) for p in levels], 0.0)
    return Forecast("naive", base.days, np.repeat(ytd[:, None], len(base.days), axis=1), np.tile(ratios, (4, 1))), history


def predictions(rows: pd.DataFrame, terms: ContractTerms, day: dt.date, model: ErrorModel,
                error: tuple[float, float], paths: int) -> dict[str, dict]:
    history = segment_history(rows, POLICY, day)
    out = {}
    for name, (forecast, hist) in {"product": (calibrated_forecast("combined", history, POLICY, day, model)[0], history),
                                   "naive": naive_forecast(rows, day, error)}.items():
        p = project(rows, hist, forecast, terms, POLICY, day, paths, seed=1, cash_only=True)
        completion = p.outcome.actual.astype(np.float64) / terms.target_fen
        out[name] = {
            "p5": np.percentile(completion, 5), "p10": np.percentile(completion, 10), "p50": np.percentile(completion, 50),
            "p90": np.percentile(completion, 90), "p95": np.percentile(completion, 95),
            "p_630": float(np.mean(p.outcome.assessment_630 == "pass")),
            "p_930": float(np.mean(p.outcome.assessment_930 == "pass")),
            "p_target": float(np.mean(completion >= 1.0)),
        }
    return out


def run(clients: int, seed: int, paths: int) -> pd.DataFrame:
    """One row per (test client, date, model) with predictions and the truth."""
    pool = client_years(clients, seed)
    train, test = pool[0::2], pool[1::2]
    model = fit([spend_year(c) for c in train], f"bench seed {seed}, {len(train)} client-years")
    errors = naive_errors(train)
    records = []
    for c in test:
        terms, rows = terms_of(c), c.rows()
        real = truth(rows, terms)
        for day in DATES:
            known = rows[rows["date"] <= pd.Timestamp(day)].reset_index(drop=True)
            for name, pred in predictions(known, terms, day, model, errors[day], paths).items():
                records.append({"client": c.name, "date": day, "model": name, **pred, "completion": real.completion,
                                "y_630": real.passed_630, "y_930": real.passed_930, "y_target": real.target_met})
    return pd.DataFrame(records)


def undecided(frame: pd.DataFrame, event: str) -> pd.Series:
    """An assessment already made at the evaluation date is not a forecast."""
    if event == "p_630":
        return frame["date"] < POLICY.assessment_630.date
    if event == "p_930":
        return frame["date"] < POLICY.assessment_930.date
    return frame["date"] < POLICY.year_end


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (day, name), g in frame.groupby(["date", "model"]):
        rec = {"date": day, "model": name,
               "cover_80": float(((g.completion >= g.p10) & (g.completion <= g.p90)).mean()),
               "cover_90": float(((g.completion >= g.p5) & (g.completion <= g.p95)).mean()),
               "mape_p50": float((np.abs(g.p50 - g.completion) / g.completion.clip(lower=0.01)).mean())}
        for event in EVENTS:
            sel = undecided(g, event)
            y = g.loc[sel, "y" + event[1:]].astype(float)
            rec["brier" + event[1:]] = float(((g.loc[sel, event] - y) ** 2).mean()) if sel.any() else np.nan
        rows.append(rec)
    return pd.DataFrame(rows)


def reliability(frame: pd.DataFrame, model: str) -> pd.DataFrame:
    """Every undecided probability of the model, binned: mean forecast vs how often it happened."""
    parts = []
    g = frame[frame.model == model]
    for event in EVENTS:
        sel = undecided(g, event)
        parts.append(pd.DataFrame({"p": g.loc[sel, event], "y": g.loc[sel, "y" + event[1:]].astype(float)}))
    allp = pd.concat(parts)
    allp["bin"] = pd.cut(allp.p, BINS, include_lowest=True)
    table = allp.groupby("bin", observed=True).agg(n=("p", "size"), forecast=("p", "mean"), happened=("y", "mean")).reset_index()
    low, high = wilson(table["happened"].to_numpy(), table["n"].to_numpy())
    return table.assign(ci95_low=low, ci95_high=high)


def wilson(share: np.ndarray, n: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """95 % Wilson interval of an observed frequency: how far a bin may sit from the
    diagonal by chance alone (a bin of 30 predictions has about ±17 points)."""
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def confident_wrong(frame: pd.DataFrame, model: str) -> tuple[int, int]:
    g = frame[frame.model == model]
    wrong = total = 0
    for event in EVENTS:
        sel = undecided(g, event)
        p, y = g.loc[sel, event], g.loc[sel, "y" + event[1:]]
        sure = (p <= 0.02) | (p >= 0.98)
        total += int(sure.sum())
        wrong += int((sure & ((p >= 0.98) != y)).sum())
    return wrong, total


def points_off(share: pd.Series, centre: float) -> pd.Series:
    """Percentage points from the centre, free of binary fractions: 516 of 600 (86.0 %) is
    4 points from 90 %, where float subtraction says 4.000000000000004."""
    return ((share - centre) * 100).abs().round(9)


def verdicts(s: pd.DataFrame, rel: pd.DataFrame, wrong: tuple[int, int]) -> list[tuple[str, bool]]:
    product, naive = s[s.model == "product"].set_index("date"), s[s.model == "naive"].set_index("date")
    out = [("P10–P90 coverage 80 % ± 5 at every date", bool((points_off(product.cover_80, 0.80) <= 5).all())),
           ("P5–P95 coverage 90 % ± 4 at every date", bool((points_off(product.cover_90, 0.90) <= 4).all()))]
    for event in ("630", "930", "target"):
        ratio = product["brier_" + event] / naive["brier_" + event]
        ok = ratio.dropna()
        out.append((f"Brier P({event}) ≤ 0.85 × naive at every date (worst {ok.max():.2f}×)", bool((ok <= 0.85).all())))
    out.append((f"confident and wrong ≤ 1 % ({wrong[0]} of {wrong[1]})", wrong[1] == 0 or wrong[0] / wrong[1] <= 0.01))
    big = rel[rel.n >= 30]
    off = big[(big.forecast - big.happened).abs() > 0.08]
    chance = off[(off.forecast >= off.ci95_low) & (off.forecast <= off.ci95_high)]
    text = (f"reliability: bins with ≥ 30 within 8 points ({len(off)} of {len(big)} outside; "
            f"{len(chance)} of those with the forecast inside the 95 % interval of what happened)")
    out.append((text, off.empty))
    return out


def pooled(clients: int, seeds: list[int], paths: int) -> pd.DataFrame:
    """`run` for each seed (its own fit, its own test half), the results side by side: a
    reliability bin of 85 predictions is ±10 points by chance alone, so the mid-range bins
    are judged on more seeds at once. Seeds run in parallel processes, one per core."""
    if len(seeds) == 1:
        return run(clients, seeds[0], paths)
    with ProcessPoolExecutor(max_workers=min(len(seeds), os.cpu_count() or 1)) as pool:
        frames = list(pool.map(run, [clients] * len(seeds), seeds, [paths] * len(seeds)))
    return pd.concat(frames, ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.calibration", description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=1200,  # 600 tested: a reliability bin of 50 predictions is ±14 points by chance alone
                    help="client-years generated per seed (half fit, half tested)")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--seeds", type=lambda v: [int(x) for x in v.split(",")], default=None,
                    help="several seeds, e.g. 14,15,16: each fits and tests its own client-years; the figures pool them")
    ap.add_argument("--paths", type=int, default=2000)
    a = ap.parse_args(argv)
    seeds = a.seeds or [a.seed]
    wall, cpu = time.perf_counter(), time.process_time()
    frame = pooled(a.clients, seeds, a.paths)
    s = summary(frame)
    pd.set_option("display.width", 160)
    print(f"calibration: {len(seeds)} × {a.clients // 2} client-years fitted, {len(seeds)} × {a.clients - a.clients // 2} tested × "
          f"{len(DATES)} dates, {a.paths} paths (seeds {', '.join(map(str, seeds))})\n")
    print(s.round(3).to_string(index=False))
    rel = reliability(frame, "product")
    print("\nreliability (product, every undecided P(630), P(930), P(target)):")
    print(rel.round(3).to_string(index=False))
    print("\nreliability (naive):")
    print(reliability(frame, "naive").round(3).to_string(index=False))
    wrong = confident_wrong(frame, "product")
    nw = confident_wrong(frame, "naive")
    print(f"\nconfident (≤2 % or ≥98 %) and wrong: product {wrong[0]} of {wrong[1]}, naive {nw[0]} of {nw[1]}")
    print("\ntargets:")
    for text, ok in verdicts(s, rel, wrong):
        print(f"  {'met ' if ok else 'MISS'}  {text}")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\n{time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu + children.ru_utime + children.ru_stime:.1f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
