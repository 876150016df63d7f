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
    """Integer numer/denom rounded half-up, elementwise (numer >= 0, denom > 0)."""
    return (2 * numer + denom) // (2 * denom)


def units_to_fen(units: np.ndarray) -> np.ndarray:
    """fen·ppm products -> fen, half-up."""
    return div_round_half_up(units, PPM)


def at_least(numer: np.ndarray, denom: np.ndarray | int, threshold: Decimal) -> np.ndarray:
    """numer / denom >= threshold, exactly (the contract's bands are written with >=)."""
    n, d = Fraction(threshold).as_integer_ratio()
    return np.asarray(numer * d >= np.asarray(denom) * n, dtype=bool)


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
