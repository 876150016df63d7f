"""Synthetic client-years for the calibration benchmark — deliberately *not* the product's
forecast model, so the benchmark tests the model against a world it does not assume.

Each client has one to six accounts over two calendar years (the previous year and the
evaluated one). Effects, all with their own random sizes per client: accounts that start
late, stop (churn) or migrate (one stops and a new one starts the same day); a weekly
rhythm; Spring Festival on its real date per year; a 618 run-up and a Double 11 peak of
varying strength; a year-long trend; budget steps; short bursts; a persistent random-walk
level; heavy-tailed (Student-t) daily noise; and a few clients that stop spending.
The target is the previous year's spend times a negotiated growth, so some clients miss it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

SPRING_FESTIVAL = {2022: "2022-02-01", 2023: "2023-01-22", 2024: "2024-02-10", 2025: "2025-01-29",
                   2026: "2026-02-17", 2027: "2027-02-06"}
# (platform, network, placement, industry class, business model) of the synthetic accounts
TEMPLATES = (
    ("ocean_ads", "douyin", "feed", "B1", "brand"),
    ("ocean_ads", "toutiao", "search", "B1", "brand"),
    ("local", "douyin", "feed", "C2", "brand"),
    ("oesa", "douyin", "feed", "B2", "kol"),
)


@dataclass(frozen=True)
class ClientYear:
    """Daily cash spend in fen per account over [year-1-01-01, year-12-31], and the target."""

    name: str
    year: int
    days: pd.DatetimeIndex
    spend: np.ndarray  # [account, day] int64 fen
    target_fen: int

    @property
    def total(self) -> np.ndarray:
        return self.spend.sum(axis=0)

    def rows(self, until: dt.date | None = None) -> pd.DataFrame:
        """Typed spend rows (core.spend canonical columns) up to ``until``."""
        from core.spend import typed_rows

        last = len(self.days) if until is None else int((pd.Timestamp(until) - self.days[0]).days) + 1
        acc, day = np.nonzero(self.spend[:, :last] > 0)
        kind = np.array([TEMPLATES[a % len(TEMPLATES)] for a in range(self.spend.shape[0])], dtype=object)
        frame = pd.DataFrame({
            "date": self.days[day].to_numpy(dtype="datetime64[D]"),
            "customer": self.name, "account_id": [f"{self.name}-{a}" for a in acc],
            "platform": kind[acc, 0], "network": kind[acc, 1], "bidding": True, "brand_bidding": False,
            "placement": kind[acc, 2], "funding": "cash", "industry_class": kind[acc, 3], "business_model": kind[acc, 4],
            "ad_model": "standard", "kol_reuses_xingtu_video": False, "via_party_b": True, "special": "",
            "amount_fen": self.spend[acc, day],
        })
        return typed_rows(frame)


def _window(days: pd.DatetimeIndex, lo: str, hi: str) -> np.ndarray:
    md = days.strftime("%m-%d")
    return (md >= lo) & (md <= hi)


def _client_shape(days: pd.DatetimeIndex, rng: np.random.Generator, volatility: float = 1.0) -> np.ndarray:
    """The client's log level per day: seasons, trend, steps, bursts, random walk
    (``volatility`` scales the trend, steps and walk: 1 for the benchmark, less for a demo)."""
    n = len(days)
    log = np.zeros(n)
    weekend = np.isin(days.dayofweek, [5, 6])
    log += np.where(weekend, np.log(rng.uniform(0.6, 1.1)), 0.0)
    for year in sorted(set(days.year)):
        sf = pd.Timestamp(SPRING_FESTIVAL[year])
        off = (days - sf).days.to_numpy()
        log += np.where((days.year == year) & (off >= -10) & (off <= 7), np.log(rng.uniform(0.25, 0.8)), 0.0)
        start_618 = rng.integers(20, 36)  # 618 run-up starts mid/late May
        d618 = (days - pd.Timestamp(f"{year}-06-18")).days.to_numpy()
        log += np.where((days.year == year) & (d618 >= -start_618) & (d618 <= 0), np.log(rng.uniform(0.9, 2.2)), 0.0)
        d11 = (days - pd.Timestamp(f"{year}-11-11")).days.to_numpy()
        log += np.where((days.year == year) & (d11 >= -rng.integers(15, 30)) & (d11 <= 0), np.log(rng.uniform(0.9, 2.8)), 0.0)
        log += np.where((days.year == year) & _window(days, "12-15", "12-31"), np.log(rng.uniform(0.7, 1.05)), 0.0)
    log += rng.normal(0.1, 0.35 * volatility) * np.arange(n) / 365  # trend per year
    for _ in range(rng.poisson(1.5 * volatility)):  # budget steps
        log += np.where(np.arange(n) >= rng.integers(0, n), rng.normal(0, 0.35 * volatility), 0.0)
    for _ in range(rng.poisson(2)):  # bursts (a campaign)
        at, width = rng.integers(0, n), rng.integers(3, 12)
        log[at:at + width] += np.log(rng.uniform(1.5, 4.0))
    walk = np.zeros(n)
    sd = rng.uniform(0.005, 0.03) * volatility
    for i in range(1, n):
        walk[i] = 0.985 * walk[i - 1] + rng.normal(0, sd)
    return log + walk


def client_year(rng: np.random.Generator, year: int = 2024, name: str = "S", volatility: float = 1.0) -> ClientYear:
    """One client over the previous and the evaluated year (see the module docstring);
    ``volatility`` < 1 makes trends, steps, churn and stops rarer and smaller."""
    days = pd.date_range(f"{year - 1}-01-01", f"{year}-12-31", freq="D")
    n = len(days)
    n_acc = int(min(1 + rng.geometric(0.4), 6))
    shape = _client_shape(days, rng, volatility)
    spend = np.zeros((n_acc, n))
    for a in range(n_acc):
        on = np.ones(n, dtype=bool)
        if rng.random() < 0.25 * volatility:  # starts late
            on[: rng.integers(0, n - 30)] = False
        if rng.random() < 0.2 * volatility:  # churns
            on[rng.integers(30, n):] = False
        level = rng.lognormal(np.log(5_000_000), 0.8)
        noise = rng.standard_t(3, n) * rng.uniform(0.1, 0.35)
        spend[a] = np.where(on, level * np.exp(shape + np.clip(noise, -3, 3)), 0.0)
    if n_acc > 1 and rng.random() < 0.15:  # migration: account 0's spend moves to a new account
        at = rng.integers(60, n - 30)
        spend = np.vstack([spend, np.where(np.arange(n) >= at, spend[0], 0.0)])
        spend[0, at:] = 0.0
    if rng.random() < 0.06 * volatility:  # the client stops spending
        spend[:, rng.integers(n - 365, n):] = 0.0
    fen = np.round(spend).astype(np.int64)
    previous = fen[:, days.year == year - 1].sum()
    growth = np.exp(rng.normal(0.12, 0.25))
    target = int(max(previous * growth, 30_000_000_00) // 10_000_00 * 10_000_00)  # to 10,000 RMB, at least the 30M threshold
    return ClientYear(name, year, days, fen, target)


def client_years(count: int, seed: int, year: int = 2024, volatility: float = 1.0) -> list[ClientYear]:
    """``count`` client-years from one seed (reproducible; each client from its own stream)."""
    return [client_year(np.random.default_rng([seed, i]), year, f"S{seed}-{i}", volatility) for i in range(count)]
