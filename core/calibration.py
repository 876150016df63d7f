"""Learning the forecast's uncertainty from its own errors, and showing its track record.

A rolling-origin backtest runs the forecast's components at many past dates (every few
days of every client-year in a pool) and compares what each predicted for the window to
each quarter end with what was spent. From those windows `fit` learns the pooled
seasonal curve, the weights of the combined centre and the quantiles of actual ÷
predicted (core.error_model). The same backtest on one client gives its track record:
what the product would have said at earlier dates and how often the truth fell in its band.
"""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, replace
from itertools import product
from typing import Any

import numpy as np
import pandas as pd

from .error_model import (
    COMPONENTS,
    LEVELS,
    PERIODS,
    ErrorModel,
    leap_day_indices,
    period,
    scale_bands,
)
from .forecast import (
    Forecast,
    History,
    account_daily,
    combine,
    component_paths,
    make_forecast,
    quarter_index,
    stop_silence,
    week_mean,
    year_profile,
)
from .policy import Policy

SCALE_PRIOR = 8.0  # observations' worth of belief that a client is as predictable as the pool
SCALE_LIMITS = (0.5, 1.5)
MIN_CELL = 60  # backtest windows a ratio cell needs before it stops borrowing from its neighbours
GRID_STEP = 0.1
RECORD_COLUMNS = ["origin", "target", "p10", "p50", "p90", "actual", "inside", "miss"]


@dataclass(frozen=True)
class SpendYear:
    """One client's daily spend (fen) per account [account, day] over a full calendar
    year, and its total spend in the year before if known."""

    year: int
    accounts: np.ndarray
    previous: np.ndarray | None = None

    @property
    def total(self) -> np.ndarray:
        return self.accounts.sum(axis=0)


@dataclass(frozen=True)
class Windows:
    """Backtest windows: origin period, the quarter the window ends in, each component's
    prediction [window, component] from the origin to that quarter's end and, in
    ``segment``, for that quarter's part of it alone; what was spent. An origin's windows
    are consecutive, in quarter order (``first`` marks the first of each origin)."""

    period: np.ndarray
    quarter: np.ndarray
    predicted: np.ndarray
    actual: np.ndarray
    segment: np.ndarray
    first: np.ndarray


def pool_from_rows(rows: pd.DataFrame) -> list[SpendYear]:
    """Every (client, calendar year) of a spend table (with a ``client`` column) whose data
    run from the first to the last week of the year; the year before rides along when it
    is full too. Spend = cash + return funded, the spend a budget pays for."""
    spendy = rows[rows["funding"].isin(["cash", "return"]).to_numpy(dtype=bool)]
    pool = []
    for _, mine in spendy.groupby("client", observed=True, sort=True):
        daily = mine.pivot_table(index="date", columns=mine["account_id"].astype(str), values="amount_fen", aggfunc="sum",
                                 fill_value=0)
        years = {}
        for year in sorted(set(daily.index.year)):
            days = _year_days(year)
            part = daily[(daily.index >= days[0]) & (daily.index <= days[-1])]
            if len(part) and part.index.min() <= days[6] and part.index.max() >= days[-7]:
                years[year] = part.reindex(days, fill_value=0).to_numpy(dtype=np.float64).T
        pool += [SpendYear(y, accounts, years[y - 1].sum(axis=0) if y - 1 in years else None) for y, accounts in years.items()]
    return pool


def _year_days(year: int) -> pd.DatetimeIndex:
    return pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")


def quarter_end_index(year: int) -> np.ndarray:
    """Day-of-year index (0-based) of each quarter's last day."""
    return np.array([(dt.date(year, m, d) - dt.date(year, 1, 1)).days for m, d in ((3, 31), (6, 30), (9, 30), (12, 31))])


def quarter_of_period(p: int) -> int:
    """The quarter a week of the year starts in (windows from it end in that quarter or later).
    Any non-leap year gives the same months for day 7p; 2001 is only the calendar used."""
    return ((dt.date(2001, 1, 1) + dt.timedelta(days=7 * p)).month - 1) // 3


def share_curve(pool: list[SpendYear]) -> np.ndarray:
    """Pooled relative daily level by day of a leap year (every full year in the pool,
    each scaled to mean 1 so big clients do not dominate), smoothed over a week."""
    acc, n = np.zeros(366), np.zeros(366)
    for item in pool:
        for year, total in ((item.year, item.total), (item.year - 1, item.previous)):
            if total is None or total.sum() <= 0:
                continue
            idx = leap_day_indices(_year_days(year))
            np.add.at(acc, idx, total / total.mean())
            np.add.at(n, idx, 1)
    curve = np.where(n > 0, acc / np.maximum(n, 1), 1.0)
    smooth = week_mean(np.concatenate([curve[-7:], curve, curve[:7]]))[7:-7]  # the year wraps around
    return smooth / smooth.mean()


def windows(pool: list[SpendYear], model: ErrorModel, every: int = 3, first: int = 14) -> Windows:
    """Rolling origins every ``every`` days from day ``first``: each component's predicted
    spend to every later quarter end in the year (and within that quarter), and the spend that followed."""
    periods, qs, pred, seg, act, firsts = [], [], [], [], [], []
    for item in pool:
        days = _year_days(item.year)
        profile = year_profile(days, item.previous, model)
        cum = np.concatenate([[0.0], np.cumsum(item.total)])
        ends = quarter_end_index(item.year)
        for t in range(first, len(days) - 1, every):
            paths = component_paths(item.accounts, t, profile, item.previous)
            cums = np.array([np.concatenate([[0.0], np.cumsum(paths[m])]) for m in COMPONENTS])  # [component, day]
            start = 0
            for q, end in enumerate(ends):
                if end <= t:
                    continue
                periods.append(period(days[t].date()))
                qs.append(q)
                firsts.append(start == 0)
                pred.append(cums[:, end - t])
                seg.append(cums[:, end - t] - cums[:, start])
                act.append(cum[end + 1] - cum[t + 1])
                start = end - t
    return Windows(np.array(periods, dtype=np.int64), np.array(qs, dtype=np.int64), np.array(pred, dtype=np.float64).reshape(-1, len(COMPONENTS)),
                   np.array(act, dtype=np.float64), np.array(seg, dtype=np.float64).reshape(-1, len(COMPONENTS)),
                   np.array(firsts, dtype=bool))


def combined_prediction(w: Windows, weights: np.ndarray) -> np.ndarray:
    """The combined centre's prediction for every window: each quarter's part of the path
    mixed with that quarter's weights ([period, quarter, component]), summed from the origin."""
    part = (w.segment * weights[w.period, w.quarter]).sum(axis=1)
    out = np.cumsum(part)
    starts = np.flatnonzero(w.first)
    before = np.concatenate([[0.0], out])[starts]  # the running sum where each origin starts
    return out - np.repeat(before, np.diff(np.append(starts, len(part))))


def _log_error(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """|log(actual / predicted)| with both floored at 1 % of the prediction (a stop is a big error, not an infinite one)."""
    floor = np.maximum(predicted * 0.01, 1.0)
    return np.abs(np.log(np.maximum(actual, floor) / np.maximum(predicted, floor)))


def _simplex(step: float = GRID_STEP) -> np.ndarray:
    k = round(1 / step)
    return np.array([c for c in product(range(k + 1), repeat=len(COMPONENTS)) if sum(c) == k], dtype=np.float64) / k


def fit_weights(w: Windows) -> np.ndarray:
    """[period, quarter, component] weights. Each quarter's part of the path gets its own
    mix, chosen (quarter by quarter, the earlier parts' mixes fixed) to minimise the mean
    absolute log error of the window to that quarter's end — so a 15-day window to June 30
    leans on the run rate while the year end leans on the share of the year. Each week is
    judged with the two weeks either side (steadier choices); a thin cell keeps the mix of
    the quarter before (or even weights)."""
    grid = _simplex()
    out = np.full((PERIODS, 4, len(COMPONENTS)), 1 / len(COMPONENTS))
    usable = w.predicted.min(axis=1) > 0
    for q in range(4):
        fixed = _before(w, out)  # each window's prediction from the quarters already mixed
        for p in range(PERIODS):
            if q > quarter_of_period(p):  # a thin cell keeps the quarter before's mix
                out[p, q] = out[p, q - 1]
            sel = usable & (w.quarter == q) & (np.abs(w.period - p) <= 2)
            if sel.sum() < MIN_CELL:
                continue
            combos = fixed[sel][:, None] + w.segment[sel] @ grid.T  # [window, combo]
            out[p, q] = grid[int(np.argmin(_log_error(w.actual[sel][:, None], combos).mean(axis=0)))]
    return out


def _before(w: Windows, weights: np.ndarray) -> np.ndarray:
    """For every window, the prediction of its origin's earlier quarters (the window before
    it, which ends where this one's own quarter starts; 0 for an origin's first window)."""
    comb = combined_prediction(w, weights)
    return np.where(w.first, 0.0, np.concatenate([[0.0], comb[:-1]]))


def ratio_table(predicted: np.ndarray, w: Windows) -> tuple[np.ndarray, np.ndarray]:
    """[period, quarter, level] quantiles of actual ÷ predicted and the windows behind
    each cell; a thin cell widens to neighbouring weeks (same quarter end) until it has
    MIN_CELL windows."""
    table = np.ones((PERIODS, 4, len(LEVELS)))
    counts = np.zeros((PERIODS, 4), dtype=np.int64)
    ok = predicted > 0
    ratio = np.where(ok, w.actual / np.where(ok, predicted, 1.0), 1.0)
    for p, q in product(range(PERIODS), range(4)):
        if q < quarter_of_period(p):
            continue
        base = ok & (w.quarter == q)
        for reach in range(PERIODS):
            sel = base & (np.abs(w.period - p) <= reach)
            if sel.sum() >= MIN_CELL or reach == PERIODS - 1:
                break
        if sel.any():
            table[p, q] = np.quantile(ratio[sel], LEVELS)
            counts[p, q] = int(sel.sum())
    return table, counts


def event_rates(pool: list[SpendYear]) -> dict[str, np.ndarray]:
    """[period] shares of the pool's client-years in which, after the first day of that week,
    an account then spending stopped for good (silent to the year end for longer than
    `core.forecast.stop_silence` allows) — ``stop`` — or a new account made its first spend
    — ``start``. Shown beside the bands: they are why a band is as wide as it is, and the learned ratio
    quantiles already hold them (each backtest window saw the events that followed it)."""
    stops, starts = np.zeros(PERIODS), np.zeros(PERIODS)
    for item in pool:
        spent = item.accounts > 0
        n = spent.shape[1]
        first = np.where(spent.any(axis=1), np.argmax(spent, axis=1), n)
        last = np.where(spent.any(axis=1), n - 1 - np.argmax(spent[:, ::-1], axis=1), -1)
        silence = stop_silence(spent)
        for p in range(PERIODS):
            t = min(7 * p, n - 1)
            live = (t - last < silence) & (first <= t)
            stops[p] += bool((live & (n - 1 - last >= silence)).any())
            starts[p] += bool(((first > t) & (first < n)).any())
    size = max(len(pool), 1)
    return {"stop": stops / size, "start": starts / size}


def fit(pool: list[SpendYear], source: str, every: int = 3) -> ErrorModel:
    """The error model of a pool of client-years (see the module docstring)."""
    curve = share_curve(pool)
    even = np.full((PERIODS, 4, len(COMPONENTS)), 1 / len(COMPONENTS))
    shaped = ErrorModel(ratios={}, counts={}, weights=even, share_curve=curve, client_years=len(pool), source=source)
    w = windows(pool, shaped, every)
    weights = fit_weights(w)
    ratios, counts = {}, {}
    for i, m in enumerate(COMPONENTS):
        ratios[m], counts[m] = ratio_table(w.predicted[:, i], w)
    ratios["combined"], counts["combined"] = ratio_table(combined_prediction(w, weights), w)
    return ErrorModel(ratios=ratios, counts=counts, weights=weights, share_curve=curve, client_years=len(pool), source=source,
                      events=event_rates(pool))


# ---------------------------------------------------------------- one client's track record


def _track_year(year: int, accounts: np.ndarray, previous: np.ndarray | None, last: int, model: ErrorModel,
                method: str, every: int) -> list[dict[str, Any]]:
    """Origins every ``every`` days of one year ([account, day] spend): the band predicted
    for each quarter end up to day ``last`` against the spend to that quarter end."""
    days = _year_days(year)
    profile = year_profile(days, previous, model)
    cum = np.cumsum(accounts.sum(axis=0))
    out = []
    for t in range(27, last, every):
        origin = days[t].date()
        paths = component_paths(accounts, t, profile, previous)
        path = combine(paths, model.quarter_weights(origin), quarter_index(days[t + 1:])) if method == "combined" else paths[method]
        bands = model.bands(method, origin)
        for q, end in enumerate(quarter_end_index(year)):
            if end <= t or end > last:
                continue
            predicted = path[: end - t].sum()
            p10, p50, p90 = (cum[t] + predicted * np.interp(p, LEVELS, bands[q]) for p in (0.1, 0.5, 0.9))
            low, high = (np.interp(p, LEVELS, bands[q]) for p in (0.25, 0.75))
            spent = cum[end] - cum[t]
            out.append({"origin": origin, "target": days[end].date(), "p10": p10, "p50": p50, "p90": p90,
                        "actual": float(cum[end]), "inside": bool(p10 <= cum[end] <= p90),
                        "miss": _standard_miss(spent, predicted, np.interp(0.5, LEVELS, bands[q]), low, high)})
    return out


def _standard_miss(spent: float, predicted: float, median: float, low: float, high: float) -> float:
    """|log(actual ÷ median prediction)| in units of the pooled half-interquartile range
    (about 1 for a client as predictable as the pool's typical one); NaN when undefined."""
    if predicted <= 0 or median <= 0 or low <= 0 or high <= low:
        return float("nan")
    floor = predicted * median * 0.01
    return abs(np.log(max(spent, floor) / (predicted * median))) / (np.log(high / low) / 2)


def own_scale(record: pd.DataFrame) -> float:
    """How much wider (>1) or narrower (<1) this client's own misses have been than the
    pool's, shrunk towards 1 by how little evidence there is (windows to the same quarter
    end share one outcome, so each target counts as two observations) and kept within
    SCALE_LIMITS: a client with a long steady history gets sharper bands, a new one the pool's."""
    misses = record["miss"].dropna() if "miss" in record else pd.Series(dtype=float)
    if misses.empty:
        return 1.0
    evidence = 2.0 * record.loc[misses.index, "target"].nunique()
    raw = float(np.median(misses))
    factor = (evidence * raw + SCALE_PRIOR) / (evidence + SCALE_PRIOR)
    return float(np.clip(factor, *SCALE_LIMITS))


def calibrated_forecast(method: str, history: History, policy: Policy, as_of: dt.date, model: ErrorModel,
                        plan: pd.DataFrame | None = None) -> tuple[Forecast, pd.DataFrame, float]:
    """The forecast with its learned bands widened or narrowed by the client's own track
    record, the record itself, and the factor applied (1 for the plan: it has no bands)."""
    forecast = make_forecast(method, history, policy, as_of, plan, model)
    record = track_record(history, as_of, model, method)
    if forecast.bands is None:
        return forecast, record, 1.0
    factor = own_scale(record)
    return replace(forecast, bands=scale_bands(forecast.bands, factor)), record, factor


_PREVIOUS_RECORDS: dict[tuple[Any, ...], tuple[ErrorModel, list[dict[str, Any]]]] = {}
_PREVIOUS_LOCK = threading.Lock()


def _previous_year_record(year: int, previous: np.ndarray, model: ErrorModel, method: str, every: int) -> list[dict[str, Any]]:
    """The previous year's part of a track record, kept per (year, its spend, model, method):
    it does not depend on the evaluation date, and every date change would redo it."""
    key = (year, previous.tobytes(), method, every, id(model))
    with _PREVIOUS_LOCK:
        hit = _PREVIOUS_RECORDS.get(key)
    if hit is not None and hit[0] is model:  # the same model object, not one that reused its id
        return hit[1]
    rows = _track_year(year, previous[None, :], None, len(previous) - 1, model, method, every)
    with _PREVIOUS_LOCK:
        if len(_PREVIOUS_RECORDS) >= 64:
            _PREVIOUS_RECORDS.pop(next(iter(_PREVIOUS_RECORDS)))
        _PREVIOUS_RECORDS[key] = (model, rows)
    return rows


def track_record(history: History, as_of: dt.date, model: ErrorModel, method: str = "combined",
                 every: int = 14) -> pd.DataFrame:
    """What the product would have said every ``every`` days about each quarter end that
    has since passed — in the previous year (when its data cover the year) and this year —
    against the spend that happened (fen, cumulative from Jan 1)."""
    if method not in ("combined",) + COMPONENTS:
        return pd.DataFrame(columns=RECORD_COLUMNS)
    year = history.days[0].year if len(history.days) else as_of.year
    rows: list[dict[str, Any]] = []
    prev = history.previous_year
    if prev is not None and len(prev) >= 365 and prev[-31:].sum() > 0:
        rows += _previous_year_record(year - 1, prev, model, method, every)
    if history.daily.shape[1]:
        rows += _track_year(year, account_daily(history), prev, history.daily.shape[1] - 1, model, method, every)
    return pd.DataFrame(rows, columns=RECORD_COLUMNS)
