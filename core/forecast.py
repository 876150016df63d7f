"""Daily spend forecasts per segment, with the error bands learned for the method.

A segment is a set of rows the contract treats alike (same account, platform, network,
class, model …), so its forecast can be turned into counted, base and Σ base × rate by
the engine's own row rules. Components, each a client-level daily path split over
segments by their recent share: `run_rate` (mean of the last 28 days), `seasonal` (the
same shaped by the seasonal profile), `share_of_year` (year-to-date spend over the
profile's year-to-date share) and `ets` (damped trend of the deseasonalised weekly level).
`combined` (the default) mixes them with weights learned by core.calibration; `plan` is
the user's monthly plan, exact. The seasonal profile blends the market profile of
data/forecast.toml, the pooled share-of-year curve and the client's own previous year.
"""
from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .error_model import COMPONENTS, ErrorModel, leap_day_indices
from .error_model import load as load_error_model
from .memo import remembered
from .policy import Policy

SETTINGS = Path(__file__).resolve().parents[1] / "data" / "forecast.toml"
SEGMENT_KEYS = (
    "customer", "account_id", "platform", "network", "bidding", "brand_bidding", "placement", "industry_class",
    "business_model", "ad_model", "kol_reuses_xingtu_video", "via_party_b", "special",
)
STATISTICAL = ("combined",) + COMPONENTS
METHODS = STATISTICAL + ("plan",)


@lru_cache(maxsize=1)
def settings() -> dict[str, Any]:
    return tomllib.loads(SETTINGS.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class History:
    """Daily spend (fen) per segment: ``daily`` is [segment, day] over ``days``."""

    segments: pd.DataFrame  # one row per segment: SEGMENT_KEYS
    days: pd.DatetimeIndex
    daily: np.ndarray  # float64 fen, cash + return (the spend the budget pays for)
    previous_year: np.ndarray | None  # total daily spend of the previous year (all segments), by day of year
    named_by: SpendSegments | None = field(default=None, repr=False, compare=False)  # read from these, when it was
    ids: np.ndarray | None = field(default=None, repr=False, compare=False)  # each segment's number in named_by


@dataclass(frozen=True)
class Forecast:
    method: str
    days: pd.DatetimeIndex  # as_of + 1 .. year end
    mean: np.ndarray  # [segment, day] expected daily spend in fen
    bands: np.ndarray | None  # [quarter, level] learned actual/predicted ratios to each quarter end; None: exact


@dataclass(frozen=True)
class SpendSegments:
    """A client's spend rows of the policy year, each with its segment, day and amount,
    factorised once. Why: naming the segments (13 key columns) is most of a history's cost
    and does not depend on the evaluation date, so every date reads this by masking."""

    segments: pd.DataFrame  # every segment of the year, in order of first appearance
    codes: np.ndarray  # segment of each row
    day: np.ndarray  # day of the year of each row (0 = Jan 1)
    fen: np.ndarray  # float64 amount of each row
    previous: np.ndarray | None  # total daily spend of the previous year
    start: pd.Timestamp
    year_end: pd.Timestamp
    rows: pd.DataFrame = field(repr=False, compare=False)  # the rows it was named from (every funding, every year)

    def row_dates(self) -> np.ndarray:
        """The date of every row of ``rows``."""
        return remembered(self, "row_dates", lambda: self.rows["date"].to_numpy(dtype="datetime64[ns]"), copied=False)

    def history_codes(self, history: History) -> np.ndarray:
        """For every row of ``rows``, its segment's place in ``history.segments`` (-1: none),
        matching the segment key columns as `return_share` always has."""
        every = remembered(self, "row_codes", lambda: pd.MultiIndex.from_frame(self.segments.astype(object)).get_indexer(
            pd.MultiIndex.from_frame(self.rows[list(SEGMENT_KEYS)].astype(object))), copied=False)
        if history.named_by is self and history.ids is not None:
            place = np.full(len(self.segments) + 1, -1, dtype=np.int64)  # the last slot: rows of no segment
            place[history.ids] = np.arange(len(history.ids))
        else:
            place = np.append(pd.MultiIndex.from_frame(history.segments.astype(object)).get_indexer(
                pd.MultiIndex.from_frame(self.segments.astype(object))), -1)
        return place[every]

    def history(self, as_of: dt.date) -> History:
        """Spend per segment and day from Jan 1 to as_of: the segments with spend by then,
        in the order of their first row (as a fresh factorisation of those rows gives them)."""
        end = min(pd.Timestamp(as_of), self.year_end)
        days = pd.date_range(self.start, end, freq="D")
        keep = self.day < len(days)
        if not keep.any():
            return History(pd.DataFrame(columns=list(SEGMENT_KEYS)), days, np.zeros((0, len(days))), self.previous,
                           self, np.zeros(0, dtype=np.int64))
        codes = self.codes[keep]
        present, first_row = np.unique(codes, return_index=True)
        order = present[np.argsort(first_row)]
        remap = np.empty(len(self.segments), dtype=np.int64)
        remap[order] = np.arange(len(order))
        daily = np.zeros((len(order), len(days)))
        np.add.at(daily, (remap[codes], self.day[keep]), self.fen[keep])
        return History(self.segments.iloc[order].reset_index(drop=True), days, daily, self.previous, self, order)


def spend_segments(rows: pd.DataFrame, policy: Policy) -> SpendSegments:
    """The year's cash and return-funded rows (the spend a budget pays for) by segment, and the previous year's daily total."""
    start, end = pd.Timestamp(policy.year_start), pd.Timestamp(policy.year_end)
    spendy = rows[rows["funding"].isin(["cash", "return"]).to_numpy(dtype=bool)]
    this_year = spendy[(spendy["date"] >= start) & (spendy["date"] <= end)]
    keys = list(SEGMENT_KEYS)
    if len(this_year):
        codes, uniques = pd.factorize(pd.MultiIndex.from_frame(this_year[keys].astype(object)))
        segments = pd.DataFrame(list(uniques), columns=keys)
    else:
        codes, segments = np.zeros(0, dtype=np.int64), pd.DataFrame(columns=keys)
    prev_start = pd.Timestamp(dt.date(policy.year_start.year - 1, 1, 1))
    prev = spendy[(spendy["date"] >= prev_start) & (spendy["date"] < start)]
    previous = None
    if len(prev) >= 60:
        previous = np.zeros(len(pd.date_range(prev_start, start - pd.Timedelta(days=1), freq="D")))
        np.add.at(previous, (prev["date"] - prev_start).dt.days.to_numpy(), prev["amount_fen"].to_numpy(dtype=np.float64))
    return SpendSegments(segments, np.asarray(codes, dtype=np.int64), (this_year["date"] - start).dt.days.to_numpy(),
                         this_year["amount_fen"].to_numpy(dtype=np.float64), previous, start, end, rows)


def segment_history(rows: pd.DataFrame, policy: Policy, as_of: dt.date) -> History:
    """Spend per segment and day from Jan 1 to as_of (cash + return funded)."""
    return spend_segments(rows, policy).history(as_of)


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


def account_daily(history: History) -> np.ndarray:
    """[account, day] spend: the segments of each account added up (an account stops or
    starts as a whole; a segment that changes placement has not stopped)."""
    codes, uniques = pd.factorize(history.segments["account_id"].astype(str)) if len(history.segments) else (np.zeros(0, dtype=int), [])
    out = np.zeros((len(uniques), history.daily.shape[1]))
    np.add.at(out, codes, history.daily)
    return out


@lru_cache(maxsize=16)
def _market_year(first: pd.Timestamp, days: int) -> np.ndarray:
    """The market profile (mean 1) of ``days`` days from ``first``: the same for every client
    and every date of a year, so it is built once (its date-string matching is the slow part)."""
    out = _unit_mean(market_profile(pd.date_range(first, periods=days, freq="D")))
    out.flags.writeable = False  # shared by every caller
    return out


def _future_days(policy: Policy, as_of: dt.date) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(as_of) + pd.Timedelta(days=1), pd.Timestamp(policy.year_end), freq="D")


def _unit_mean(values: np.ndarray) -> np.ndarray:
    mean = values.mean() if len(values) else 0.0
    return values / mean if mean > 0 else np.ones(len(values))


def year_profile(year_days: pd.DatetimeIndex, previous: np.ndarray | None, model: ErrorModel) -> np.ndarray:
    """Relative daily level over the year (mean 1): the market profile, the pooled share
    curve and — when there is one — the client's own previous year, blended on the log
    scale with the weights of data/forecast.toml (the own year is smoothed and shrunk,
    never used raw: one campaign last June must not become a forecast for this June)."""
    w = settings()["profile_weights_with_previous" if previous is not None else "profile_weights"]
    market = _market_year(year_days[0], len(year_days))
    pooled = _unit_mean(model.share_curve[leap_day_indices(year_days)])
    log = w["market"] * np.log(market) + w["pooled"] * np.log(pooled)
    if previous is not None:
        log += w["own"] * np.log(_own_shape(previous, year_days))
    return _unit_mean(np.exp(log))


def week_mean(values: np.ndarray) -> np.ndarray:
    """Centred 7-day mean, over the days there are at the ends — the one smoothing of the
    seasonal shape, the previous year and the pooled share curve."""
    kernel = np.ones(7)
    return np.convolve(values, kernel, "same") / np.convolve(np.ones(len(values)), kernel, "same")


def _own_shape(previous: np.ndarray, year_days: pd.DatetimeIndex) -> np.ndarray:
    """Last year's spend on the same calendar days (a week's centred mean; Feb 29 takes
    Feb 28's value), scaled to mean 1 and clipped to 0.1–10x."""
    prev_days = pd.date_range(pd.Timestamp(year_days[0].year - 1, 1, 1), periods=len(previous))
    smooth = week_mean(previous)
    curve = np.full(366, np.nan)
    curve[leap_day_indices(prev_days)] = smooth
    curve = pd.Series(curve).ffill().bfill().to_numpy()
    return np.clip(_unit_mean(np.nan_to_num(curve[leap_day_indices(year_days)])), 0.1, 10.0)


def _ets_level(deseasoned: np.ndarray, horizon: int) -> np.ndarray:
    """Damped-trend exponential smoothing (Holt, ETS(A,Ad,N)) of the log weekly level of
    deseasonalised spend, per future day; the trend's total effect is capped and the
    back-transform corrected by the one-step error variance (a log model's mean, not its median)."""
    cfg = settings()["ets"]
    n_weeks = len(deseasoned) // 7
    weekly = deseasoned[len(deseasoned) - 7 * n_weeks:].reshape(n_weeks, 7).mean(axis=1)
    if n_weeks < 4 or weekly[-4:].sum() <= 0:
        return np.full(horizon, weekly[-1] if n_weeks else (deseasoned.mean() if len(deseasoned) else 0.0))
    y = np.log(np.maximum(weekly, weekly[weekly > 0].min() / 10 if (weekly > 0).any() else 1.0))
    level, trend, errors = y[0], 0.0, []
    alpha, beta, phi = cfg["alpha"], cfg["beta"], cfg["phi"]
    for value in y[1:]:
        guess = level + phi * trend
        errors.append(value - guess)
        new_level = guess + alpha * (value - guess)
        trend = phi * trend + beta * (new_level - level - phi * trend)
        level = new_level
    weeks_ahead = np.arange(horizon) // 7 + 1
    damp = np.cumsum(phi ** np.arange(1, weeks_ahead.max(initial=1) + 1))[weeks_ahead - 1] if horizon else np.zeros(0)
    cap = np.log(cfg["max_trend_factor"])
    path = level + np.clip(trend * damp, -cap, cap)
    variance = min(float(np.var(errors[-26:])), cfg["max_log_variance"])
    return np.exp(path + variance / 2)


def _same_days_last_year(known: np.ndarray, previous: np.ndarray, horizon: int) -> np.ndarray:
    """Last year's spend on the same days (smoothed over a week), scaled by this year's
    year-to-date spend against last year's over the same days."""
    t = len(known)
    smooth = week_mean(previous)
    smooth = np.concatenate([smooth, np.full(max(t + horizon - len(smooth), 0), smooth[-7:].mean())])
    before = smooth[:t].sum()
    return smooth[t: t + horizon] * (known.sum() / before) if before > 0 else np.zeros(horizon)


def live_total(accounts: np.ndarray, t: int, profile: np.ndarray) -> np.ndarray:
    """The client's daily spend to day ``t`` as its live accounts would have spent it:
    an account silent for longer than `stop_silence` allows has stopped and is left out;
    one whose first spend came ``account_start_days`` or more into the year, and that has
    spent on ``account_level_days`` days since, is carried back to Jan 1 along the seasonal
    profile at its level since it started (a first order alone does not make a level). So
    a churned account no longer props up the share of the year, a new one is not diluted
    by the months before it existed, and a migration (one stops, one starts) reads as one
    account. When no account is live the client's raw spend is used (a stop is judged by
    the run-rate window). ``accounts`` is [account, day]; later days are ignored."""
    known = np.asarray(accounts, dtype=np.float64)[:, : t + 1]
    cfg = settings()
    spent = known > 0
    ever = spent.any(axis=1)
    last = t - np.argmax(spent[:, ::-1], axis=1)
    live = ever & (t - last < stop_silence(spent))
    if not live.any():
        return known.sum(axis=0)
    out, spent = known[live], spent[live]
    first = np.argmax(spent, axis=1)
    judged = (first >= cfg["account_start_days"]) & (spent.sum(axis=1) >= cfg["account_level_days"])
    for i in np.flatnonzero(judged):
        s = first[i]
        out[i, :s] = out[i, s:].sum() / profile[s: t + 1].sum() * profile[:s]
    return out.sum(axis=0)


def stop_silence(spent: np.ndarray) -> np.ndarray:
    """Per account ([account, day] of spend-or-not), the silent days that mean it has
    stopped: ``account_stop_days``, or ``account_stop_gaps`` times its usual gap between
    spend days when that is longer — an account billed in bursts (星图 orders, a monthly
    campaign) is judged by its own rhythm, not by a daily account's."""
    cfg = settings()
    out = np.full(len(spent), float(cfg["account_stop_days"]))
    for i, row in enumerate(spent):
        days = np.flatnonzero(row)
        if len(days) >= 3:
            out[i] = max(out[i], cfg["account_stop_gaps"] * float(np.median(np.diff(days))))
    return out


def component_paths(accounts: np.ndarray, t: int, profile: np.ndarray, previous: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Expected daily spend after day ``t`` (index in the year) by each component method,
    from the live accounts' spend to day ``t`` (``live_total``; ``accounts`` is
    [account, day]) — one function for the product, the pooled backtest and the benchmark."""
    known = live_total(accounts, t, profile)
    future = profile[t + 1:]
    n = min(settings()["run_rate_days"], len(known))
    rate = known[-n:].mean() if n else 0.0
    recent_profile = profile[t + 1 - n: t + 1].mean() if n else 1.0
    paths = {
        "run_rate": np.full(len(future), rate),
        "seasonal": rate * future / recent_profile,
        "share_of_year": (known.sum() / profile[: t + 1].sum() if len(known) else 0.0) * future,
    }
    paths["ets"] = _ets_level(known / profile[: t + 1], len(future)) * future if n else np.zeros(len(future))
    paths["last_year"] = _same_days_last_year(known, previous, len(future)) if previous is not None else paths["share_of_year"]
    if rate <= 0:  # nothing spent in the run-rate window: the client has stopped
        paths = {m: np.zeros(len(future)) for m in paths}
    return paths


def combine(paths: dict[str, np.ndarray], weights: np.ndarray, quarter: np.ndarray) -> np.ndarray:
    """The combined path: each day mixes the components with its quarter's weights
    (``weights`` [quarter, component], ``quarter`` 0–3 per future day)."""
    mix = weights[quarter]  # [day, component]
    return np.sum([mix[:, i] * paths[m] for i, m in enumerate(COMPONENTS)], axis=0)


def quarter_index(days: pd.DatetimeIndex) -> np.ndarray:
    """0–3: the calendar quarter of each day."""
    return (days.month.to_numpy() - 1) // 3


def _year_days(policy: Policy) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(policy.year_start), pd.Timestamp(policy.year_end), freq="D")


def statistical(method: str, history: History, policy: Policy, as_of: dt.date, model: ErrorModel | None = None) -> Forecast:
    """A statistical method's client-level path, split over segments by their share of
    the run-rate window (a segment that stopped gets nothing), with the method's learned
    error bands."""
    model = model or load_error_model()
    days = _future_days(policy, as_of)
    t = history.daily.shape[1] - 1
    profile = year_profile(_year_days(policy), history.previous_year, model)
    paths = component_paths(account_daily(history), t, profile, history.previous_year) if t >= 0 else {m: np.zeros(len(days)) for m in COMPONENTS}
    path = combine(paths, model.quarter_weights(as_of), quarter_index(days)) if method == "combined" else paths[method]
    recent = history.daily[:, -settings()["run_rate_days"]:].sum(axis=1) if history.daily.size else np.zeros(len(history.segments))
    share = recent / recent.sum() if recent.sum() > 0 else np.zeros(len(recent))
    return Forecast(method, days, share[:, None] * path[None, :], model.bands(method, as_of))


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
    return Forecast("plan", days, mean, None)


def make_forecast(method: str, history: History, policy: Policy, as_of: dt.date, plan: pd.DataFrame | None = None,
                  model: ErrorModel | None = None) -> Forecast:
    if method in STATISTICAL:
        return statistical(method, history, policy, as_of, model)
    if method == "plan":
        if plan is None:
            raise ValueError("the plan method needs a plan table (month, amount)")
        return plan_forecast(history, policy, as_of, plan)
    raise ValueError(f"unknown method '{method}' (known: {', '.join(METHODS)})")
