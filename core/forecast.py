"""Daily spend forecasts per segment, and a backtest that picks the method.

A segment is a set of rows the contract treats alike (same account, platform, network,
class, model …), so its forecast can be turned into counted, base and Σ base × rate by
the engine's own row rules. Methods: `run_rate` (mean of the last N days), `seasonal`
(last year's daily profile scaled to this year's level, else the built-in market profile
of data/forecast.toml), `plan` (the user's monthly plan, exact).
"""
from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .policy import Policy

SETTINGS = Path(__file__).resolve().parents[1] / "data" / "forecast.toml"
SEGMENT_KEYS = (
    "customer", "account_id", "platform", "network", "bidding", "brand_bidding", "placement", "industry_class",
    "business_model", "ad_model", "kol_reuses_xingtu_video", "via_party_b", "special",
)
METHODS = ("run_rate", "seasonal", "ets", "plan")
STATISTICAL = ("run_rate", "seasonal", "ets")


@lru_cache(maxsize=1)
def settings() -> dict:
    return tomllib.loads(SETTINGS.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class History:
    """Daily spend (fen) per segment: ``daily`` is [segment, day] over ``days``."""

    segments: pd.DataFrame  # one row per segment: SEGMENT_KEYS
    days: pd.DatetimeIndex
    daily: np.ndarray  # float64 fen, cash + return (the spend the budget pays for)
    previous_year: np.ndarray | None  # total daily spend of the previous year (all segments), by day of year


@dataclass(frozen=True)
class Forecast:
    method: str
    days: pd.DatetimeIndex  # as_of + 1 .. year end
    mean: np.ndarray  # [segment, day] expected daily spend in fen
    log_sd: np.ndarray  # [segment] day-to-day noise (log scale)
    level_sd: np.ndarray  # [segment] uncertainty of the level itself (log scale)


def segment_history(rows: pd.DataFrame, policy: Policy, as_of: dt.date) -> History:
    """Spend per segment and day from Jan 1 to as_of (cash + return funded)."""
    start, end = pd.Timestamp(policy.year_start), pd.Timestamp(min(as_of, policy.year_end))
    spendy = rows[rows["funding"].isin(["cash", "return"]).to_numpy(dtype=bool)]
    this_year = spendy[(spendy["date"] >= start) & (spendy["date"] <= end)]
    keys = list(SEGMENT_KEYS)
    seg_frame = this_year[keys].astype(object)
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(seg_frame)) if len(this_year) else (np.array([], dtype=int), [])
    segments = pd.DataFrame(list(uniques), columns=keys) if len(this_year) else pd.DataFrame(columns=keys)
    days = pd.date_range(start, end, freq="D")
    daily = np.zeros((len(segments), len(days)))
    if len(this_year):
        day_idx = (this_year["date"] - start).dt.days.to_numpy()
        np.add.at(daily, (codes, day_idx), this_year["amount_fen"].to_numpy(dtype=np.float64))
    prev_start = pd.Timestamp(dt.date(policy.year_start.year - 1, 1, 1))
    prev = spendy[(spendy["date"] >= prev_start) & (spendy["date"] < start)]
    previous = None
    if len(prev) >= 60:
        prev_days = pd.date_range(prev_start, start - pd.Timedelta(days=1), freq="D")
        previous = np.zeros(len(prev_days))
        np.add.at(previous, (prev["date"] - prev_start).dt.days.to_numpy(), prev["amount_fen"].to_numpy(dtype=np.float64))
    return History(segments.reset_index(drop=True), days, daily, previous)


def market_profile(days: pd.DatetimeIndex) -> np.ndarray:
    """The built-in Chinese ad-market profile (data/forecast.toml) on the given days."""
    level = np.ones(len(days))
    md = days.strftime("%m-%d")
    for item in settings()["profile"]:
        if "weekdays" in item:
            hit = np.isin(days.dayofweek, item["weekdays"])
        elif "years" in item:
            hit = np.zeros(len(days), dtype=bool)
            for year, (lo, hi) in item["years"].items():
                hit |= (days.year == int(year)) & (md >= lo) & (md <= hi)
        else:
            hit = (md >= item["from"]) & (md <= item["to"])
        level *= np.where(hit, item["level"], 1.0)
    return level


def _noise(history: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Day-to-day log sd per segment from the last n days, and the sd of the level estimate."""
    floor = settings()["min_daily_log_sd"]
    recent = history[:, -n:] if history.shape[1] else np.zeros((history.shape[0], 1))
    logs = np.log(np.where(recent > 0, recent, np.nan))
    with np.errstate(all="ignore"):
        sd = np.nanstd(logs, axis=1)
    sd = np.where(np.isfinite(sd), np.maximum(sd, floor), floor)
    return sd, sd / np.sqrt(max(recent.shape[1], 1))


def _future_days(policy: Policy, as_of: dt.date) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(as_of) + pd.Timedelta(days=1), pd.Timestamp(policy.year_end), freq="D")


def run_rate(history: History, policy: Policy, as_of: dt.date, n: int | None = None) -> Forecast:
    """Mean of the last n days per segment, flat to year end."""
    n = n or settings()["run_rate_days"]
    days = _future_days(policy, as_of)
    recent = history.daily[:, -n:] if history.daily.shape[1] else np.zeros((len(history.segments), 1))
    rate = recent.mean(axis=1) if recent.size else np.zeros(len(history.segments))
    log_sd, level_sd = _noise(history.daily, n)
    return Forecast("run_rate", days, np.repeat(rate[:, None], len(days), axis=1), log_sd, level_sd)


def _profile_for(history: History, days: pd.DatetimeIndex) -> np.ndarray:
    """Relative level on given days: last year's same calendar days, else the market profile."""
    if history.previous_year is not None:
        prev = pd.Series(history.previous_year, index=pd.date_range(
            pd.Timestamp(days[0].year - 1, 1, 1) if len(days) else pd.Timestamp("2000-01-01"), periods=len(history.previous_year)))
        shifted = days - pd.DateOffset(years=1)
        smooth = prev.rolling(7, center=True, min_periods=1).mean()
        values = smooth.reindex(shifted).to_numpy()
        if np.isfinite(values).all() and values.sum() > 0:
            return values
    return market_profile(days)


def seasonal(history: History, policy: Policy, as_of: dt.date, n: int | None = None) -> Forecast:
    """Run rate of the last n days, shaped by the seasonal profile relative to those days."""
    n = n or settings()["run_rate_days"]
    base = run_rate(history, policy, as_of, n)
    recent_days = history.days[-n:] if len(history.days) else pd.DatetimeIndex([pd.Timestamp(as_of)])
    future = _profile_for(history, base.days) if len(base.days) else np.zeros(0)
    past = _profile_for(history, recent_days).mean() if len(recent_days) else 1.0
    shape = future / past if past > 0 else np.ones(len(base.days))
    return Forecast("seasonal", base.days, base.mean * shape[None, :], base.log_sd, base.level_sd)


def ets(history: History, policy: Policy, as_of: dt.date) -> Forecast:
    """Holt-Winters exponential smoothing (damped additive trend, weekly season) on the
    log of total daily spend, split over segments by their share of the last 28 days.
    ETS gives the expected path; the Monte Carlo uses the same level and noise model as
    the other methods, so the methods differ in their mean, not in how uncertainty is drawn."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    days = _future_days(policy, as_of)
    n_seg = len(history.segments)
    total = history.daily.sum(axis=0)
    if len(total) < 28 or total[-28:].sum() <= 0 or n_seg == 0:
        return replace_method(run_rate(history, policy, as_of), "ets")
    y = np.log1p(total)
    with np.errstate(all="ignore"), _quiet():
        fit = ExponentialSmoothing(y, trend="add", damped_trend=True, seasonal="add", seasonal_periods=7,
                                   initialization_method="estimated").fit()
    path = np.expm1(fit.forecast(len(days))) if len(days) else np.zeros(0)
    recent = history.daily[:, -28:].sum(axis=1)
    share = recent / recent.sum()
    log_sd, level_sd = _noise(history.daily, settings()["run_rate_days"])  # same uncertainty model as run_rate
    return Forecast("ets", days, share[:, None] * np.maximum(path, 0)[None, :], log_sd, level_sd)


def replace_method(forecast: Forecast, method: str) -> Forecast:
    return Forecast(method, forecast.days, forecast.mean, forecast.log_sd, forecast.level_sd)


class _quiet:
    """Silence statsmodels' convergence warnings: the backtest judges the fit instead."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def plan_forecast(history: History, policy: Policy, as_of: dt.date, plan: pd.DataFrame) -> Forecast:
    """The user's plan: `month` (YYYY-MM) and `amount` per account (or total when no
    account column), spread evenly over the month's remaining days; no noise."""
    days = _future_days(policy, as_of)
    mean = np.zeros((len(history.segments), len(days)))
    month_of_day = days.strftime("%Y-%m")
    for _, item in plan.iterrows():
        in_month = month_of_day == str(item["month"])
        if not in_month.any():
            continue
        if "account_id" in plan.columns and pd.notna(item.get("account_id")):
            segs = np.flatnonzero(history.segments["account_id"].astype(str) == str(item["account_id"]))
        else:
            segs = np.arange(len(history.segments))
        if len(segs) == 0:
            continue
        share = 1.0 / len(segs)
        mean[np.ix_(segs, np.flatnonzero(in_month))] += float(item["amount_fen"]) * share / in_month.sum()
    zeros = np.zeros(len(history.segments))
    return Forecast("plan", days, mean, zeros, zeros)


def make_forecast(method: str, history: History, policy: Policy, as_of: dt.date, plan: pd.DataFrame | None = None) -> Forecast:
    if method == "run_rate":
        return run_rate(history, policy, as_of)
    if method == "seasonal":
        return seasonal(history, policy, as_of)
    if method == "ets":
        return ets(history, policy, as_of)
    if method == "plan":
        if plan is None:
            raise ValueError("the plan method needs a plan table (month, amount)")
        return plan_forecast(history, policy, as_of, plan)
    raise ValueError(f"unknown method '{method}' (known: {', '.join(METHODS)})")


def backtest(history: History, policy: Policy, as_of: dt.date) -> pd.DataFrame:
    """WAPE of each statistical method on the last 4 and 8 weeks of history."""
    out = []
    for hold in settings()["backtest_holdouts"]:
        if history.daily.shape[1] <= hold + 14:
            continue
        cut = as_of - dt.timedelta(days=hold)
        past = History(history.segments, history.days[:-hold], history.daily[:, :-hold], history.previous_year)
        actual = history.daily[:, -hold:].sum(axis=0)
        for method in STATISTICAL:
            fc = make_forecast(method, past, policy, cut)
            predicted = fc.mean[:, :hold].sum(axis=0)
            denom = actual.sum()
            wape = float(np.abs(actual - predicted).sum() / denom) if denom > 0 else float("nan")
            out.append({"method": method, "holdout_days": hold, "wape": wape})
    return pd.DataFrame(out, columns=["method", "holdout_days", "wape"])


def best_method(scores: pd.DataFrame) -> str:
    """The method with the lowest mean WAPE over the holdouts (run_rate if nothing to score)."""
    if scores.empty or scores["wape"].isna().all():
        return "run_rate"
    return str(scores.groupby("method")["wape"].mean().idxmin())
