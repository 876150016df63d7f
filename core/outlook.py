"""The outlook of a client at a date: the combined forecast with its learned error bands,
Monte-Carlo projection, the forecast's own track record, required spend, and the return-balance ledger — what `python -m core project`
prints and the dashboard draws.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .actuals import ClassifiedRows, RowStage, row_stage
from .calibration import calibrated_forecast
from .error_model import load as load_error_model
from .forecast import Forecast, History, SpendSegments, spend_segments
from .ledger import bucket_of, consume, credits, daily_use
from .memo import remembered
from .money import fen_to_yuan
from .policy import QUARTERS, Policy
from .projection import (
    DEFAULT_PATHS,
    Projection,
    draw_paths,
    return_share,
    settled,
)
from .required_spend import Requirement, required_spend
from .terms import ContractTerms


@dataclass(frozen=True)
class Outlook:
    as_of: dt.date
    method: str
    method_reason: str
    track_record: pd.DataFrame  # core.calibration.track_record: earlier bands vs what happened
    weights: dict[str, float]  # the combined centre's component weights at as_of
    spread: float  # the client's own-record factor on the pooled bands
    projection: Projection
    expected: Projection  # the mean path (one path, no noise): what the ledger uses
    requirements: list[Requirement]
    ledger: pd.DataFrame
    fan: pd.DataFrame  # date, p10, p50, p90 cumulative counted fen (future days)
    stage: ForecastStage | None = field(default=None, repr=False, compare=False)  # the terms-free part it was settled from
    rows_stage: RowStage | None = field(default=None, repr=False, compare=False)  # the row-terms part it was settled from

    def to_dict(self) -> dict[str, Any]:
        p = self.projection
        return {
            "as_of": self.as_of.isoformat(),
            "method": self.method,
            "method_reason": self.method_reason,
            "paths": p.paths,
            "seed": p.seed,
            "probabilities": p.probabilities(),
            "distributions": p.distributions(),
            "expected": {
                "completion_rate": float(self.expected.outcome.actual[0]) / self.expected.target_fen,
                "year_end_rule": str(self.expected.outcome.year_end_rule[0]),
                "final_return": fen_to_yuan(int(self.expected.outcome.final_return[0])),
                "deposit_deducted": fen_to_yuan(int(self.expected.outcome.deposit_deducted[0])),
                "clawback": fen_to_yuan(int(self.expected.outcome.clawback[0])),
                "pre_return": {q: fen_to_yuan(int(v)) for q, v in zip(QUARTERS, self.expected.outcome.pre_return[0])},
            },
            "required_spend": [
                {**{k: v for k, v in asdict(r).items() if not k.endswith("_fen")},
                 "by": r.by.isoformat(), "share": float(r.share),
                 "multiple_of_run_rate": None if r.multiple_of_run_rate is None else float(r.multiple_of_run_rate),
                 "level": fen_to_yuan(r.level_fen), "done": fen_to_yuan(r.done_fen), "needed": fen_to_yuan(r.needed_fen),
                 "per_day": fen_to_yuan(r.per_day_fen), "per_week": fen_to_yuan(r.per_week_fen)}
                for r in self.requirements
            ],
            "ledger": [
                {"quarter": r.quarter, "bucket": r.bucket, "credited": fen_to_yuan(r.credited_fen),
                 "credit_date": r.credit_date.isoformat(), "expiry": r.expiry.isoformat(),
                 "balance_at_as_of": fen_to_yuan(r.balance_at_as_of_fen),
                 "projected_unused": fen_to_yuan(r.projected_unused_fen), "needed_per_day": fen_to_yuan(r.needed_per_day_fen)}
                for r in self.ledger.itertuples()
            ],
            "weights": self.weights,
            "band_spread_factor": self.spread,
            "track_record": {
                "windows": len(self.track_record),
                "inside_p10_p90": float(self.track_record["inside"].mean()) if len(self.track_record) else None,
            },
        }


def _future_bidding_use(history: History, forecast: Forecast, policy: Policy) -> pd.DataFrame:
    """Projected bidding spend per bucket and day, continued to the final deadline at the
    pace of the last four forecast weeks (for the year-end credit)."""
    seg = history.segments
    bidding = seg["bidding"].astype(bool).to_numpy() & ~seg["brand_bidding"].astype(bool).to_numpy()
    buckets = bucket_of(seg["platform"], seg["placement"], seg["network"]).to_numpy()
    mean = forecast.mean * bidding[:, None]
    days = forecast.days
    deadline = pd.Timestamp(policy.credit_timing.final_deadline)
    extra = pd.date_range(pd.Timestamp(policy.year_end) + pd.Timedelta(days=1), deadline, freq="D")
    tail = mean[:, -28:].mean(axis=1) if mean.shape[1] else np.zeros(len(seg))
    names = sorted(set(buckets) - {""})
    if not names:
        return pd.DataFrame(columns=["date", "bucket", "fen"])
    fen = [np.concatenate([mean[buckets == b].sum(axis=0), np.full(len(extra), float(tail[buckets == b].sum()))]) for b in names]
    return pd.DataFrame({"date": np.tile(np.concatenate([days.to_numpy(), extra.to_numpy()]), len(names)),
                         "bucket": np.repeat(np.array(names, dtype=object), len(days) + len(extra)),
                         "fen": np.concatenate(fen)})  # each bucket's forecast days, then its days to the deadline


def _fan(forecast: Forecast, rs: RowStage, share: np.ndarray) -> pd.DataFrame:
    """Cumulative counted spend bands: each path's projected total scales the mean path.
    Counted spend is decided by the row rules alone, so the fan is one per row stage."""
    q = (forecast.days.month.to_numpy() - 1) // 3
    counted_daily = (forecast.mean * (1 - share)[:, None] * rs.factors.counted[:, q]).sum(axis=0)
    base = float(rs.mean.counted.sum(axis=1)[0]) - counted_daily.sum()
    mean_future = counted_daily.sum()
    totals = rs.paths.counted.sum(axis=1).astype(float) - base
    ratios = totals / mean_future if mean_future > 0 else np.ones(1)
    cum = np.cumsum(counted_daily)
    p10, p50, p90 = np.percentile(ratios, [10, 50, 90])
    return pd.DataFrame({"date": forecast.days, "p10": base + cum * p10, "p50": base + cum * p50, "p90": base + cum * p90})


@dataclass(frozen=True)
class ForecastStage:
    """Everything of an outlook that the contract terms do not change: the forecast, its
    track record, the return-funded share and the Monte-Carlo draws. A what-if on the
    target, customer type or deposit date reuses it and only re-settles the paths."""

    as_of: dt.date
    method: str
    method_reason: str
    track_record: pd.DataFrame
    weights: dict[str, float]
    spread: float  # the client's own-record factor on the pooled bands (core.calibration.own_scale)
    history: History
    forecast: Forecast
    share: np.ndarray  # return-funded share of future spend per segment
    draws: np.ndarray  # spend [path, segment, quarter]
    seed: int
    use: pd.DataFrame  # return-funded spend per bucket and day to as_of, projected bidding spend after (the ledger's)


def forecast_stage(rows: pd.DataFrame, policy: Policy, as_of: dt.date, method: str | None = None,
                   paths: int = DEFAULT_PATHS, seed: int = 0, plan: pd.DataFrame | None = None,
                   segmented: SpendSegments | None = None) -> ForecastStage:
    """Forecast, track record and draws for a client's rows at a date (terms-independent;
    ``segmented``: `spend_segments` of the same rows, when already named for another date)."""
    as_of = policy.clip(as_of)
    chosen = method or "combined"
    model = load_error_model()
    segmented = segmented or spend_segments(rows, policy)
    history = segmented.history(as_of)
    weights = model.component_weights(as_of)
    if method and method != "combined":
        reason = f"chosen by the user ({method})"
    else:
        reason = "combined: " + ", ".join(f"{m} {w:.0%}" for m, w in weights.items() if w > 0) + \
            f" (weights and error bands learned from {model.client_years} client-years: {model.source})"
    forecast, record, spread = calibrated_forecast(chosen, history, policy, as_of, model, plan)
    share = np.zeros(len(history.segments)) if chosen == "plan" else return_share(rows, history, policy, as_of, segmented=segmented)
    use = daily_use(rows, _future_bidding_use(history, forecast, policy), as_of)
    return ForecastStage(as_of, chosen, reason, record, weights, spread, history, forecast, share,
                         draw_paths(forecast, paths, seed), seed, use)


def stage_rows(rows: pd.DataFrame, terms: ContractTerms, policy: Policy, stage: ForecastStage,
               rated: ClassifiedRows | None = None) -> RowStage:
    """The row stage of these rows for a forecast stage (its segments, draws and mean path;
    ``rated``: the rows classified for the same row terms, when already done)."""
    return row_stage(rows, terms, policy, stage.as_of, stage.history.segments, stage.draws,
                     draw_paths(stage.forecast, 1, stage.seed), stage.share, rated)


def outlook(rows: pd.DataFrame, terms: ContractTerms, policy: Policy, as_of: dt.date, method: str | None = None,
            paths: int = DEFAULT_PATHS, seed: int = 0, plan: pd.DataFrame | None = None,
            actual_credit_dates: dict[str, dt.date] | None = None, stage: ForecastStage | None = None,
            rows_stage: RowStage | None = None) -> Outlook:
    """Everything the dashboard needs about where the year will land. ``stage``: reuse the
    terms-independent part computed for the same rows, date and method; ``rows_stage``: the
    rows' classes and rates for the same rows, date and `row_terms` (core.actuals) — with
    both, a what-if on the target only settles the paths."""
    stage = stage or forecast_stage(rows, policy, as_of, method, paths, seed, plan)
    as_of, history, forecast, share = stage.as_of, stage.history, stage.forecast, stage.share
    rs = rows_stage or stage_rows(rows, terms, policy, stage)
    projection = settled(rs.paths, stage.method, stage.seed, as_of, terms, policy)
    expected = settled(rs.mean, stage.method, stage.seed, as_of, terms, policy)
    recent_counted = history.daily[:, -28:].sum(axis=0).mean() if history.daily.size else 0.0
    requirements = required_spend(rows, terms, policy, as_of, recent_counted, counted=rs.counted_to)
    o = expected.outcome
    credited = {q: int(v) for q, v in zip(QUARTERS[:3], o.credited[0])}
    credited["Q4"] = int(o.year_end_settlement[0])
    # The mean path is settled at year end, so every quarter counts as credited there.
    credited.update({q: int(v) for q, v in zip(QUARTERS[:3], o.pre_return[0][:3])})
    if o.assessment_930[0] == "q3_withheld":
        credited["Q3"] = 0
    key = repr((sorted(credited.items()), sorted((actual_credit_dates or {}).items()), policy.name, as_of))
    ledger = remembered(rs, f"ledger_{key}",  # a what-if that leaves the credits as they were reuses the FIFO run
                        lambda: consume(credits(credited, rs.shares, policy, actual_credit_dates), stage.use, as_of))
    fan = remembered(rs, "fan", lambda: _fan(forecast, rs, share), copied=False)  # a what-if on the terms leaves it
    return Outlook(as_of, stage.method, stage.method_reason, stage.track_record, stage.weights, stage.spread, projection, expected,
                   requirements, ledger, fan, stage, rs)
