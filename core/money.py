"""Exact money: integer fen, rates in ppm, products in fen·ppm ("units").

Why integers: the engine must be right to the cent over millions of rows and over
10,000 Monte-Carlo paths; integer arithmetic is exact and vectorises. Rounding happens
once, half-up, when an amount is credited, deducted or shown.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from .policy import PPM

FEN_PER_YUAN = 100


def to_fen(amount: Decimal | int | str) -> int:
    """RMB amount -> integer fen, half-up (the only place a scalar amount is rounded)."""
    return int((Decimal(str(amount)) * FEN_PER_YUAN).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fen_to_yuan(fen: int) -> float:
    """For JSON/display: the float nearest to the exact 2-decimal amount."""
    return float(Decimal(int(fen)) / FEN_PER_YUAN)


def div_round_half_up(numer: Any, denom: Any) -> Any:
    """Integer numer/denom rounded half-up, elementwise (numer >= 0, denom > 0); int64
    input whose doubling could wrap is computed in Python integers instead."""
    numer = _python_scalar(numer)
    if _machine_array(numer) and 2 * peak(numer) + peak(denom) >= INT64_SAFE:
        numer = exact(numer)
    return (2 * numer + denom) // (2 * denom)


def units_to_fen(units: np.ndarray) -> np.ndarray:
    """fen·ppm products -> fen, half-up."""
    return div_round_half_up(units, PPM)


def at_least(numer: np.ndarray, denom: np.ndarray | int, threshold: Decimal) -> np.ndarray:
    """numer / denom >= threshold, exactly (the contract's bands are written with >=)."""
    n, d = Fraction(threshold).as_integer_ratio()
    return np.asarray(times(numer, d) >= times(denom, n), dtype=bool)


def ratio(numer: int, denom: int, places: int = 6) -> float:
    """A completion rate for output: exact quotient rounded half-up to `places`."""
    if denom == 0:
        return 0.0
    q = Decimal(int(numer)) / Decimal(int(denom))
    return float(q.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


INT64_SAFE = 2**62  # a sum (or sum of products) below this cannot wrap around in int64


def summable(fen: np.ndarray) -> np.ndarray:
    """``fen`` as int64 when any sum of its values stays below INT64_SAFE, else as Python
    integers: a file of absurd but valid amounts (up to 10^12 RMB a row) must give exact
    totals, never ones that wrapped around silently."""
    if fen.dtype == object or float(np.abs(fen).sum(dtype=np.float64)) < INT64_SAFE:
        return fen
    return fen.astype(object)


def exact(values: object) -> np.ndarray:
    """An object array of Python ints: arbitrary precision, so products never overflow."""
    arr = np.asarray(values)
    return arr.astype(object) if arr.dtype != object else arr


def _machine_array(values: object) -> bool:
    return isinstance(values, np.ndarray) and values.dtype.kind in "iu" and values.ndim > 0


def _python_scalar(values: Any) -> Any:
    """A numpy integer scalar (or 0-d array) as a Python int: their products wrap silently."""
    if isinstance(values, np.integer) or (isinstance(values, np.ndarray) and values.ndim == 0 and values.dtype.kind in "iu"):
        return int(values)
    return values


def peak(values: object) -> float:
    """The largest |value| as a float (an upper bound to compare with INT64_SAFE)."""
    if isinstance(values, int):
        return float(abs(values))
    arr = np.asarray(values)
    if arr.size == 0:
        return 0.0
    return max(float(arr.max()), -float(arr.min()))


def times(values: Any, k: int) -> Any:
    """values × k exactly: in int64 while every product stays below INT64_SAFE, else in
    Python integers (the fast path for ordinary amounts, never a silent wrap-around)."""
    values = _python_scalar(values)
    if _machine_array(values) and peak(values) * abs(k) >= INT64_SAFE:
        values = exact(values)
    return values * k


SETTLE_HEADROOM = 2**8  # the period rules sum ≤ 12 cells, double and subtract: int64 values stay below INT64_SAFE / this


def machine_ints(values: np.ndarray) -> np.ndarray | None:
    """``values`` as int64 when every |value| stays below INT64_SAFE / SETTLE_HEADROOM (the
    period rules' sums and differences of such values cannot wrap), else None."""
    arr = np.asarray(values)
    if arr.dtype == object:
        if not all(type(v) is int for v in arr.flat):  # Python ints only: never truncate a float
            return None
        try:
            arr = arr.astype(np.int64)
        except (OverflowError, TypeError):
            return None
    elif arr.dtype.kind not in "iu":
        return None
    return arr if peak(arr) < INT64_SAFE / SETTLE_HEADROOM else None
