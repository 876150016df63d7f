"""Projection to year end: forecast spend -> quarterly totals per Monte-Carlo path ->
the engine's settle(), so every path is judged by exactly the rules of the actual year.

How a path's totals are built: each segment (core.forecast) is run once per quarter
through the engine's own row rules (classify_rows, row_rates) as a one-fen row; that
gives, per segment and quarter, whether its cash counts, is in the base, via Party B, its
agreed rate and shortfall zero group. A path's projected cash per segment and quarter
times those factors is exactly what the row rules would give for rows of that spend.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .assessments import OUTCOMES_630, OUTCOMES_930
from .classification import classify_rows
from .engine import Outcome, settle, totals_from_rows
from .error_model import sample_ratios
from .forecast import Forecast, History, SpendSegments, settings
from .memo import once
from .money import INT64_SAFE
from .policy import Policy, to_ppm
from .pre_return import QuarterTotals
from .rates import N_ZERO_GROUPS, row_rates
from .spend import typed_rows
from .terms import ContractTerms
from .year_end import YEAR_END_RULES

DEFAULT_PATHS = 10_000


@dataclass(frozen=True)
class SegmentFactors:
    """[segment, quarter] facts from the row rules for one fen of cash spend."""

    counted: np.ndarray  # bool
    party_b: np.ndarray  # bool
    base: np.ndarray  # bool
    ppm: np.ndarray  # int64 agreed rate
    zero_group: np.ndarray  # int8


def segment_factors(segments: pd.DataFrame, terms: ContractTerms, policy: Policy) -> SegmentFactors:
    """Run each segment through classify_rows and row_rates once per quarter."""
    n = len(segments)
    shape = (n, 4)
    if n == 0:
        z = np.zeros(shape, dtype=bool)
        return SegmentFactors(z, z, z, np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int8))
    starts = [dt.date(policy.year_start.year, 3 * q - 2, 1) for q in range(1, 5)]
    frame = pd.concat([segments.assign(date=pd.Timestamp(d)) for d in starts], ignore_index=True)
    rows = typed_rows(frame.assign(amount_fen=1, funding="cash"))
    classes = classify_rows(rows, policy, terms)
    rates = row_rates(rows, classes.quarter, policy, terms)

    def grid(values: np.ndarray) -> np.ndarray:
        return values.reshape(4, n).T

    return SegmentFactors(grid(classes.counted), grid(classes.party_b), grid(classes.base),
                          grid(rates.agreed_ppm), grid(rates.zero_group))


def return_share(rows: pd.DataFrame, history: History, policy: Policy, as_of: dt.date, days: int | None = None,
                 segmented: SpendSegments | None = None) -> np.ndarray:
    """Share of each segment's recent spend paid from return balances: that share of its
    projected spend is not cash, so it neither counts nor earns (rules §1.1, §6).
    ``segmented``: `spend_segments` of these rows, whose rows are already named by segment
    (a date change then names none again); its own rows are read, so a frame that is not
    the one it named can never be matched against its codes."""
    days = days or settings()["run_rate_days"]
    lo, hi = pd.Timestamp(as_of) - pd.Timedelta(days=days - 1), pd.Timestamp(as_of)
    if history.segments.empty:
        return np.zeros(0)
    if segmented is not None:
        code, dates = segmented.history_codes(history), segmented.row_dates()
        recent = (dates >= lo.to_datetime64()) & (dates <= hi.to_datetime64())
        rows = segmented.rows.loc[recent]
        code = code[recent]
    else:
        rows = rows[(rows["date"] >= lo) & (rows["date"] <= hi)]
        if rows.empty:
            return np.zeros(len(history.segments))
        key = pd.MultiIndex.from_frame(rows[list(history.segments.columns)].astype(object))
        code = pd.MultiIndex.from_frame(history.segments.astype(object)).get_indexer(key)
    fen = rows["amount_fen"].to_numpy(dtype=np.float64)
    ok = code >= 0
    total = np.bincount(code[ok], weights=fen[ok], minlength=len(history.segments))
    is_return = (rows["funding"] == "return").to_numpy(dtype=bool) & ok
    ret = np.bincount(code[is_return], weights=fen[is_return], minlength=len(history.segments))
    with np.errstate(all="ignore"):
        return np.where(total > 0, ret / total, 0.0)


def quarter_spend(forecast: Forecast) -> np.ndarray:
    """Expected spend [segment, quarter] of the forecast days."""
    out = np.zeros((forecast.mean.shape[0], 4))
    q = (forecast.days.month.to_numpy() - 1) // 3
    for i in range(4):
        out[:, i] = forecast.mean[:, q == i].sum(axis=1)
    return out


def draw_paths(forecast: Forecast, paths: int, seed: int) -> np.ndarray:
    """Spend [path, segment, quarter] (float fen). Each path draws one quantile u of the
    method's learned actual ÷ predicted ratios (core.error_model) and applies it to the
    predicted spend from the evaluation date to every quarter end: one shared client-level
    shock, as wide as the method's past misses at this time of year and horizon. Quarter
    spend is the difference of those cumulative amounts, split over segments like the mean."""
    mean_q = quarter_spend(forecast)
    if paths == 1 or forecast.bands is None:
        return np.broadcast_to(mean_q, (paths, *mean_q.shape)).copy()
    u = np.random.default_rng(seed).random(paths)
    predicted = np.cumsum(mean_q.sum(axis=0))  # [quarter] from as_of to each quarter end
    cumulative = np.maximum.accumulate(predicted[None, :] * sample_ratios(forecast.bands, u), axis=1)
    per_quarter = np.diff(cumulative, axis=1, prepend=0.0)  # [path, quarter]
    totals = mean_q.sum(axis=0)
    split = np.divide(mean_q, totals[None, :], out=np.zeros_like(mean_q), where=totals[None, :] > 0)
    return split[None, :, :] * per_quarter[:, None, :]


def whole_fen(cash: np.ndarray, f: SegmentFactors) -> np.ndarray:
    """Projected cash rounded to whole fen: int64 when every Σ over segments of cash × rate
    stays below INT64_SAFE (bounded by the largest cell, rate and segment count), else
    Python integers — an absurd but valid amount must never wrap around silently."""
    rounded = np.rint(cash)
    peak = float(np.abs(rounded).max()) if rounded.size else 0.0
    if peak * max(int(f.ppm.max(initial=0)), 1) * max(cash.shape[1], 1) < INT64_SAFE:
        return rounded.astype(np.int64)
    return np.array([int(v) for v in rounded.ravel()], dtype=object).reshape(rounded.shape)


def projected_totals(cash: np.ndarray, f: SegmentFactors, policy: Policy) -> QuarterTotals:
    """Quarterly totals of projected cash [path, segment, quarter], rounded to whole fen."""
    cash = whole_fen(cash, f)
    base_cash = cash * f.base[None]
    reduced_ppm = np.maximum(f.ppm - to_ppm(policy.assessment_630.rate_reduction), 0)
    groups = (f.zero_group[..., None] == np.arange(N_ZERO_GROUPS)).astype(cash.dtype)  # [segment, quarter, group]

    def per_quarter(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Σ over segments of values × weights, one pass without a [path, segment, quarter]
        temporary per sum (einsum: half the time of the products and sums it replaced,
        the same integers — int64 or Python, as whole_fen chose)."""
        return np.einsum("psq,sq...->pq...", values, weights.astype(cash.dtype))

    return QuarterTotals(  # int64 where whole_fen kept int64 (its bound covers these sums), else Python integers
        counted=per_quarter(cash, f.counted),
        party_b=per_quarter(cash, f.party_b),
        base=base_cash.sum(axis=1),
        agreed_units=per_quarter(base_cash, f.ppm[..., None] * groups),
        reduced_units=per_quarter(base_cash, reduced_ppm[..., None] * groups),
    )


@dataclass(frozen=True)
class Projection:
    method: str
    paths: int
    seed: int
    as_of: dt.date
    outcome: Outcome  # one entry per path, year end decided
    target_fen: int

    @once
    def probabilities(self) -> dict[str, dict[str, float]]:
        o = self.outcome

        def share(values: np.ndarray, v: str) -> float:
            return float(np.mean(values == v))

        def decided(outcomes: tuple[str, ...]) -> list[str]:
            return [v for v in outcomes if v != "pending"]  # a projection settles every path

        return {
            "assessment_630": {v: share(o.assessment_630, v) for v in decided(OUTCOMES_630)},
            "assessment_930": {v: share(o.assessment_930, v) for v in decided(OUTCOMES_930)},
            "year_end_rule": {v: share(o.year_end_rule, v) for v in decided(YEAR_END_RULES)},
            "target_met": {"yes": float(np.mean(o.actual.astype(float) >= self.target_fen))},
        }

    @once
    def expected_fen(self) -> dict[str, Any]:
        """Mean over the paths of each amount, rounded once to the fen (half-up): the one
        source of every "expected" figure the pages show, so Overview and Returns agree."""
        o = self.outcome

        def mean(values: np.ndarray, axis: int | None = None) -> Any:
            m = np.asarray(values, dtype=np.float64).mean(axis=axis)
            return np.floor(m + 0.5).astype(np.int64)

        return {
            "pre_return": tuple(int(v) for v in mean(o.pre_return, 0)),
            "credited": tuple(int(v) for v in mean(o.credited, 0)),
            "final_return": int(mean(o.final_return)),
            "year_end_settlement": int(mean(o.year_end_settlement)),
            "clawback": int(mean(o.clawback)),
            "deposit_deducted": int(mean(o.deposit_deducted)),
        }

    @once
    def distributions(self) -> dict[str, dict[str, float]]:
        o = self.outcome

        def stats(values: np.ndarray, scale: float) -> dict[str, float]:
            v = np.asarray(values, dtype=np.float64) / scale
            p10, p50, p90 = np.percentile(v, [10, 50, 90])
            return {"mean": float(v.mean()), "p10": float(p10), "p50": float(p50), "p90": float(p90)}

        return {
            "completion_rate": stats(o.actual, self.target_fen),
            "final_return": stats(o.final_return, 100),
            "deposit_deducted": stats(o.deposit_deducted, 100),
            "clawback": stats(o.clawback, 100),
        }


def project(
    rows: pd.DataFrame, history: History, forecast: Forecast, terms: ContractTerms, policy: Policy, as_of: dt.date,
    paths: int = DEFAULT_PATHS, seed: int = 0, cash_only: bool = False, factors: SegmentFactors | None = None,
    draws: np.ndarray | None = None, share: np.ndarray | None = None, actual: QuarterTotals | None = None,
) -> Projection:
    """Actual totals to as_of + projected totals per path, settled at year end
    (``factors``, ``draws``, ``share``: pass them when projecting the same segments
    repeatedly — draws depend only on the forecast, paths and seed, never on the terms;
    ``actual``: the rows' totals when already known, as in a portfolio run)."""
    totals = year_totals(rows, history, forecast, terms, policy, as_of, paths, seed, cash_only, factors, draws, share, actual)
    return settled(totals, forecast.method, seed, as_of, terms, policy)


def year_totals(
    rows: pd.DataFrame, history: History, forecast: Forecast, terms: ContractTerms, policy: Policy, as_of: dt.date,
    paths: int = DEFAULT_PATHS, seed: int = 0, cash_only: bool = False, factors: SegmentFactors | None = None,
    draws: np.ndarray | None = None, share: np.ndarray | None = None, actual: QuarterTotals | None = None,
) -> QuarterTotals:
    """`project` without the settlement: every path's quarterly totals for the year. The row
    rules never read the target (core.actuals.row_terms), so candidate targets settle one of
    these (core.negotiation, core.next_year) instead of projecting the year once per target."""
    actual = totals_from_rows(rows, terms, policy, as_of) if actual is None else actual
    factors = factors or segment_factors(history.segments, terms, policy)
    spend = draw_paths(forecast, paths, seed) if draws is None else draws
    if share is None:
        share = np.zeros(len(history.segments)) if cash_only else return_share(rows, history, policy, as_of)
    return actual + projected_totals(spend * (1 - share)[None, :, None], factors, policy)


def settled(totals: QuarterTotals, method: str, seed: int, as_of: dt.date, terms: ContractTerms, policy: Policy) -> Projection:
    """Year-end settlement of every path's quarterly totals (actual + projected): the only
    step a what-if on the target, customer type or deposit amount has to redo."""
    return Projection(method, totals.counted.shape[0], seed, as_of, settle(totals, terms, policy, policy.year_end), terms.target_fen)

