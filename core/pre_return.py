"""Rules §3 (III.2(1)): quarterly sums that every later rule is computed from.

Why sums, not rows: the checkpoints, the year-end rule and the deposit only need, per
quarter, the counted amount, Party B's counted amount, the rebate base and Σ base × rate
(at the agreed and at the 630-reduced rate, split by shortfall zero group). A projection
or a Monte-Carlo path simply adds its projected sums to these arrays, so one set of
rules serves actuals, forecasts and 10,000 paths alike.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .classification import RowClasses
from .clauses import clause
from .money import exact, machine_ints, summable
from .policy import Policy, to_ppm
from .rates import N_ZERO_GROUPS, RowRates


@dataclass(frozen=True)
class QuarterTotals:
    """Exact integer sums per quarter; a leading axis holds paths (1 for actuals).

    counted, party_b, base: fen, shape (P, 4).
    agreed_units, reduced_units: fen·ppm, shape (P, 4, zero groups).
    """

    counted: np.ndarray
    party_b: np.ndarray
    base: np.ndarray
    agreed_units: np.ndarray
    reduced_units: np.ndarray

    @property
    def paths(self) -> int:
        return self.counted.shape[0]

    def path(self, i: int) -> "QuarterTotals":
        """Entry i of the leading axis as a one-path total (a portfolio's client i)."""
        return QuarterTotals(*(getattr(self, f)[i : i + 1] for f in _FIELDS))

    def __add__(self, other: "QuarterTotals") -> "QuarterTotals":
        return QuarterTotals(*(exact_sum(getattr(self, f), getattr(other, f)) for f in _FIELDS))


def exact_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b exactly: int64 when both and the sum leave the period rules their headroom
    (core.money.machine_ints) — 10,000 paths settle several times faster than in Python
    integers — else Python integers."""
    ma, mb = machine_ints(a), machine_ints(b)
    if ma is not None and mb is not None:
        total = machine_ints(ma + mb)
        if total is not None:
            return total
    return exact(a) + exact(b)


_FIELDS = ("counted", "party_b", "base", "agreed_units", "reduced_units")


def zero_totals(paths: int = 1) -> QuarterTotals:
    return QuarterTotals(
        counted=exact(np.zeros((paths, 4), dtype=np.int64)),
        party_b=exact(np.zeros((paths, 4), dtype=np.int64)),
        base=exact(np.zeros((paths, 4), dtype=np.int64)),
        agreed_units=exact(np.zeros((paths, 4, N_ZERO_GROUPS), dtype=np.int64)),
        reduced_units=exact(np.zeros((paths, 4, N_ZERO_GROUPS), dtype=np.int64)),
    )


_FLOAT_EXACT = 2**53  # below this, float64 sums of integer fen are exact


def _by_quarter(group: np.ndarray, q: np.ndarray, fen: np.ndarray, mask: np.ndarray, groups: int) -> np.ndarray:
    """Exact fen sums per (group, quarter) as Python ints, shape (groups, 4). A bincount when
    the masked total is below 2**53 fen (every partial sum then exact in float64), else an
    int64 group-by (Python integers where int64 could wrap: core.money.summable)."""
    out = np.zeros((groups, 4), dtype=object)
    if not mask.any():
        return out
    key = group[mask].astype(np.int64) * 4 + (q[mask].astype(np.int64) - 1)
    out[:] = sums_by_key(key, summable(fen[mask]), groups * 4).reshape(groups, 4).astype(object)
    return out


def sums_by_key(key: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Exact sums of integer ``values`` per key 0..size-1: a float bincount when the values
    are non-negative and their total is below 2**53 (every partial sum then exact), else an
    int64 or Python-integer group-by (core.money.summable chose the type)."""
    if values.dtype != object and (values >= 0).all() and int(values.sum()) < _FLOAT_EXACT:
        return np.bincount(key, weights=values, minlength=size).round().astype(np.int64)
    out = np.zeros(size, dtype=object)
    for k, total in pd.Series(values).groupby(key, sort=False).sum().items():
        out[int(k)] = int(total)
    return out


@clause("III.2(1)")
def quarter_totals(fen: np.ndarray, classes: RowClasses, rates: RowRates, policy: Policy,
                   group: np.ndarray | None = None, groups: int = 1) -> QuarterTotals:
    """Sum rows into QuarterTotals: one path, or with ``group`` (0..groups-1 per row) one
    leading-axis entry per group — a portfolio's clients summed in one pass. Σ base × rate
    is exact: the groupby sums fen per (group, quarter, zero group, rate) in int64 and
    multiplies by the rate in Python ints."""
    q = classes.quarter
    group = np.zeros(len(fen), dtype=np.int64) if group is None else group
    totals = zero_totals(groups)
    totals.counted[:] = _by_quarter(group, q, fen, classes.counted, groups)
    totals.party_b[:] = _by_quarter(group, q, fen, classes.party_b, groups)
    totals.base[:] = _by_quarter(group, q, fen, classes.base, groups)
    if classes.base.any():
        _add_base_units(totals, fen, classes, rates, group, groups, to_ppm(policy.assessment_630.rate_reduction))
    return totals


def _add_base_units(totals: QuarterTotals, fen: np.ndarray, classes: RowClasses, rates: RowRates,
                    group: np.ndarray, groups: int, reduction: int) -> None:
    """Σ base fen per (group, quarter, zero group, rate) in one fused key — one bincount,
    not a four-column group-by — then × rate in Python integers."""
    m = classes.base
    ppm_code, ppm_values = pd.factorize(rates.agreed_ppm[m])
    n_ppm = max(len(ppm_values), 1)
    key = ((group[m].astype(np.int64) * 4 + (classes.quarter[m].astype(np.int64) - 1)) * N_ZERO_GROUPS
           + rates.zero_group[m].astype(np.int64)) * n_ppm + ppm_code
    size = groups * 4 * N_ZERO_GROUPS * n_ppm
    distinct = None
    if size > 4 * len(key) + 4096:  # many clients × rates: number the keys present instead
        key, distinct = pd.factorize(key)
        size = len(distinct)
    sums = sums_by_key(key, summable(fen[m]), size)
    for k in np.flatnonzero(sums):
        full = int(k if distinct is None else distinct[k])
        rest, p = divmod(full, n_ppm)
        rest, g = divmod(rest, N_ZERO_GROUPS)
        client, i = divmod(rest, 4)
        base_fen, ppm = int(sums[k]), int(ppm_values[p])
        totals.agreed_units[client, i, g] += base_fen * ppm
        totals.reduced_units[client, i, g] += base_fen * max(0, ppm - reduction)
