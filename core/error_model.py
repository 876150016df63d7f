"""What the forecast's own past errors say: the learned part of the projection.

Fitted by `core.calibration` from rolling-origin backtests over a pool of client-years
(`python -m core calibrate`), shipped as data/calibration.json. It holds:
- ``ratios``: quantiles of actual ÷ predicted spend in the window from an origin to each
  quarter end, per method, by the origin's period and the quarter the window ends in;
  the Monte-Carlo draws sample these, so the spread is what the method really missed by;
- ``weights``: how the combined centre mixes its components, by the origin's period;
- ``share_curve``: the pooled share of a year's spend by calendar day (the seasonal shape);
- ``events``: by the origin's period, the share of the pool's client-years in which an
  account later stopped for good or a new one started (shown beside the bands).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "calibration.json"
COMPONENTS = ("run_rate", "seasonal", "share_of_year", "ets", "last_year")
PERIODS = 53  # weeks of the year: the origin's time of year
LEVELS = np.linspace(0.0, 1.0, 101)


def period(day: dt.date) -> int:
    """The week of the year an origin falls in (0 for Jan 1–7 … 52 for Dec 30–31): the
    time of year sets both the centre's bias (a 618 ramp in the run-rate window) and the spread."""
    return (day.timetuple().tm_yday - 1) // 7


def leap_day_indices(days: Any) -> np.ndarray:
    """Each day's place in a leap year (0–365), so every calendar day has one place in the share curve."""
    starts = np.cumsum([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30])
    return starts[days.month.to_numpy() - 1] + days.day.to_numpy() - 1


@dataclass(frozen=True)
class ErrorModel:
    """Learned ratio quantiles, component weights and the pooled seasonal curve."""

    ratios: dict[str, np.ndarray]  # method -> [period, quarter, level] actual/predicted
    counts: dict[str, np.ndarray]  # method -> [period, quarter] backtest windows behind each cell
    weights: np.ndarray  # [period, quarter, component]: the mix of each quarter's part of the path
    share_curve: np.ndarray  # [366] relative level by day of a leap year, mean 1
    client_years: int
    source: str
    events: dict[str, np.ndarray] = field(default_factory=dict)  # "stop"/"start" -> [period] share of client-years

    def event_shares(self, as_of: dt.date) -> dict[str, float]:
        """Shares of the pool's client-years at this time of year in which an account later
        stopped for good / a new one started (empty for a model fitted before they were kept)."""
        return {k: float(v[period(as_of)]) for k, v in self.events.items()}

    def bands(self, method: str, as_of: dt.date) -> np.ndarray:
        """[quarter, level] ratio quantiles for windows from as_of to each quarter end.
        (Splitting them by the client's weekly volatility was tried and changed no
        benchmark figure beyond its noise, so one table serves every client.)"""
        table = self.ratios.get(method, self.ratios["combined"])
        return table[period(as_of)]

    def quarter_weights(self, as_of: dt.date) -> np.ndarray:
        """[quarter, component]: how the combined centre mixes its components in each
        quarter's part of the path, for an origin at this time of year."""
        return self.weights[period(as_of)]

    def component_weights(self, as_of: dt.date) -> dict[str, float]:
        """The mix of the year's last quarter (the part that decides the target), as shown to the user."""
        return dict(zip(COMPONENTS, (float(w) for w in self.weights[period(as_of), -1])))

    def to_json(self) -> str:
        return json.dumps({
            "source": self.source, "client_years": self.client_years, "components": list(COMPONENTS),
            "levels": [round(float(v), 4) for v in LEVELS],
            "weights": np.round(self.weights, 4).tolist(),
            "share_curve": np.round(self.share_curve, 5).tolist(),
            "ratios": {m: np.round(v, 5).tolist() for m, v in self.ratios.items()},
            "counts": {m: v.astype(int).tolist() for m, v in self.counts.items()},
            "events": {k: np.round(v, 4).tolist() for k, v in self.events.items()},
        }, ensure_ascii=False)


def from_json(text: str) -> ErrorModel:
    raw = json.loads(text)
    if tuple(raw["components"]) != COMPONENTS or len(raw["levels"]) != len(LEVELS):
        raise ValueError("calibration file was written for other components or quantile levels; run `python -m core calibrate`")
    return ErrorModel(
        ratios={m: np.asarray(v, dtype=np.float64) for m, v in raw["ratios"].items()},
        counts={m: np.asarray(v, dtype=np.int64) for m, v in raw["counts"].items()},
        weights=_by_quarter(np.asarray(raw["weights"], dtype=np.float64)),
        share_curve=np.asarray(raw["share_curve"], dtype=np.float64),
        client_years=int(raw["client_years"]), source=str(raw["source"]),
        events={k: np.asarray(v, dtype=np.float64) for k, v in raw.get("events", {}).items()},
    )


def _by_quarter(weights: np.ndarray) -> np.ndarray:
    """A file written before the weights were per quarter ([period, component]) uses its one mix in every quarter."""
    return np.repeat(weights[:, None, :], 4, axis=1) if weights.ndim == 2 else weights


@lru_cache(maxsize=4)
def load(path: Path = DEFAULT_PATH) -> ErrorModel:
    """The shipped (or re-fitted) error model."""
    return from_json(path.read_text(encoding="utf-8"))


def scale_bands(bands: np.ndarray, factor: float) -> np.ndarray:
    """Ratio quantiles spread ``factor`` times as wide on the log scale around their median
    (a quantile of 0 — the client stopped — stays 0)."""
    if factor == 1.0:
        return bands
    median = np.array([np.interp(0.5, LEVELS, row) for row in bands])[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = median * np.power(np.where(median > 0, bands / median, 1.0), factor)
    return np.where(bands > 0, scaled, 0.0)


def sample_ratios(bands: np.ndarray, u: np.ndarray) -> np.ndarray:
    """[path, quarter] ratios at the uniform draws ``u`` (one per path, shared by every
    quarter: a client that runs below plan to Q3 end also runs below to the year end)."""
    return np.stack([np.interp(u, LEVELS, bands[q]) for q in range(bands.shape[0])], axis=1)
