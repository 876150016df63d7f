"""Negotiating next year's agreement: candidate targets judged on next year's spend, modelled
as the base year's spend (same accounts, same seasonal shape) times a growth drawn per path.

Why the base year's own shape: the contract's rules work per segment and quarter (rates,
630/930, the threshold), so next year is the base year's segments and quarters scaled — not
one total. The base year is the client's latest full calendar year, or this year's data plus
the expected rest of the year when no full year exists.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .error_model import load as load_error_model
from .forecast import Forecast, make_forecast, segment_history
from .policy import Policy
from .policy_edit import shift_day
from .projection import settled, year_totals
from .terms import ContractTerms

DEFAULT_CONFIDENCE = 0.8


@dataclass(frozen=True)
class BaseYear:
    year: int
    quarters: np.ndarray  # [segment, quarter] cash spend in fen, on next year's segments
    segments: pd.DataFrame
    total_fen: int
    projected: bool  # True: this year's data plus the expected rest of the year


def _full_years(rows: pd.DataFrame) -> list[int]:
    dates = rows["date"]
    return [y for y in sorted(set(dates.dt.year))
            if dates[dates.dt.year == y].min() <= pd.Timestamp(y, 1, 7) and dates[dates.dt.year == y].max() >= pd.Timestamp(y, 12, 25)]


def base_year(rows: pd.DataFrame, policy: Policy, next_policy: Policy) -> BaseYear:
    """The year next year's spend is modelled on (see the module docstring)."""
    years = _full_years(rows) if len(rows) else []
    year = years[-1] if years else policy.year_start.year
    mine = rows[(rows["date"].dt.year == year).to_numpy() & (rows["funding"] == "cash").to_numpy()]  # cash: what counts
    moved = mine.assign(date=pd.to_datetime([shift_day(d, next_policy.year_start.year - year) for d in mine["date"].dt.date]))
    history = segment_history(moved, next_policy, next_policy.year_end)
    q = (history.days.month.to_numpy() - 1) // 3
    quarters = np.stack([history.daily[:, q == i].sum(axis=1) for i in range(4)], axis=1)
    projected = not years
    if projected and len(mine):  # this year so far + the combined forecast's expected rest of the year
        last = min(mine["date"].max().date(), policy.year_end)
        rest = make_forecast("combined", segment_history(mine, policy, last), policy, last, model=load_error_model())
        rq = (rest.days.month.to_numpy() - 1) // 3
        quarters = quarters + np.stack([rest.mean[:, rq == i].sum(axis=1) for i in range(4)], axis=1)
    return BaseYear(year, quarters, history.segments, int(round(quarters.sum())), projected)


def _growth(paths: int, low: float, high: float, seed: int) -> np.ndarray:
    """Growth factors 1 + g, g uniform in [low, high] (the range the user believes in)."""
    return 1.0 + np.random.default_rng(seed).uniform(low, high, paths)


@dataclass(frozen=True)
class NextYear:
    base: BaseYear
    table: pd.DataFrame  # one row per candidate target
    highest_sure_target_fen: int  # the highest target met with at least `confidence` probability
    confidence: float
    deposit_cost_per_10m_fen: int  # extra expected deposit loss of 1,000万 more target around it
    growth: tuple[float, float] = (-0.2, 0.4)

    def settings(self) -> dict[str, Any]:
        """What the table was computed from and its headline answers (saved and exported with it)."""
        return {"base_year": self.base.year, "base_total_fen": self.base.total_fen, "base_projected": self.base.projected,
                "growth_low": self.growth[0], "growth_high": self.growth[1], "confidence": self.confidence,
                "highest_sure_target_fen": self.highest_sure_target_fen,
                "deposit_cost_per_10m_fen": self.deposit_cost_per_10m_fen}


def next_year_targets(rows: pd.DataFrame, terms: ContractTerms, policy: Policy, next_policy: Policy,
                      targets_fen: list[int], growth: tuple[float, float] = (-0.2, 0.4),
                      confidence: float = DEFAULT_CONFIDENCE, paths: int = 5_000, seed: int = 0) -> NextYear:
    """Every candidate target under next year's contract, on the same growth paths."""
    base = base_year(rows, policy, next_policy)
    draws = base.quarters[None, :, :] * _growth(paths, *growth, seed)[:, None, None]
    start = next_policy.year_start
    next_terms = replace(terms, signed_on=start,
                         deposit_paid_on=None if terms.deposit_paid_on is None else shift_day(
                             terms.deposit_paid_on, start.year - terms.deposit_paid_on.year))
    history = segment_history(rows.iloc[:0], next_policy, start)
    history = replace(history, segments=base.segments)
    dummy = Forecast("growth", pd.DatetimeIndex([]), np.zeros((len(base.segments), 0)), None)
    before = start - dt.timedelta(days=1)
    # the previous-year amount of next year's contract: the base year's spend counted by next year's rules
    counted_base = year_totals(rows.iloc[:0], history, dummy, next_terms, next_policy, before, 1, seed, cash_only=True,
                               draws=base.quarters[None]).counted.sum(axis=1)[0]
    next_terms = replace(next_terms, previous_year_fen=int(counted_base))

    totals = year_totals(rows.iloc[:0], history, dummy, next_terms, next_policy, before, paths, seed, cash_only=True,
                         draws=draws)  # the same for every target: each candidate only settles it

    def judge(target: int) -> dict[str, Any]:
        p = settled(totals, dummy.method, seed, before, next_terms.with_target(int(target)), next_policy)
        o = p.outcome
        final, deposit = np.asarray(o.final_return, dtype=float), np.asarray(o.deposit_deducted, dtype=float)
        net = final - deposit - np.asarray(o.clawback, dtype=float)
        rules = np.asarray(o.year_end_rule)
        return {"target_fen": int(target), "p_630_pass": float(np.mean(np.isin(o.assessment_630, ["pass", "not_applicable"]))),
                "p_930_pass": float(np.mean(o.assessment_930 == "pass")),
                "p_target_met": float(np.mean(o.actual.astype(float) >= target)),
                "p_below_threshold": float(np.mean(rules == "below_threshold")),
                "expected_return_fen": final.mean(), "expected_deposit_loss_fen": deposit.mean(),
                "expected_net_fen": net.mean(), "net_p10_fen": float(np.percentile(net, 10)),
                "net_p90_fen": float(np.percentile(net, 90))}

    table = pd.DataFrame([judge(t) for t in sorted(set(int(t) for t in targets_fen))])
    counted = totals.counted.sum(axis=1).astype(float)  # what each path counts: no settlement needed
    sure = int(np.quantile(counted, 1 - confidence) // 10_000_00 * 10_000_00)  # down to 10,000 RMB
    cost = judge(sure + 10_000_000_00)["expected_deposit_loss_fen"] - judge(sure)["expected_deposit_loss_fen"] if sure > 0 else 0.0
    return NextYear(base, table, sure, confidence, int(round(cost)), growth)
