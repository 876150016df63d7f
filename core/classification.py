"""Rules §1: which spend rows count toward completion, which are in the rebate base.

Why masks: every later rule (rates, quarters, checkpoints) works on these two boolean
columns, computed once per row with numpy, never a Python loop over rows.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .clauses import clause
from .policy import Policy
from .terms import ContractTerms


@dataclass(frozen=True)
class RowClasses:
    """Per-row facts every later rule needs (aligned with the rows passed in)."""

    quarter: np.ndarray  # int8, 1..4
    counted: np.ndarray  # §1.1 and §1.3: toward the actual amount (completion)
    base: np.ndarray  # §1.2 and §1.3: in the rebate base (actual bidding amount)
    party_b: np.ndarray  # counted and placed via Party B


def quarter_of(date: dt.date, policy: Policy) -> int:
    """Quarter 1..4 of a date in the policy year; 0 before the year, 5 after it."""
    if date < policy.year_start:
        return 0
    if date > policy.year_end:
        return 5
    return (date.month - 1) // 3 + 1


def distinct_combinations(columns: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Each row's combination number over a few columns, and one representative row per
    combination. Why: a rule that reads only low-cardinality columns (rates, ledger
    buckets) runs once per combination — a few dozen in a million rows — not per row."""
    n = len(columns[0])
    inverse, distinct = pd.factorize(combination_keys(columns))
    first = np.empty(len(distinct), dtype=np.int64)
    first[inverse] = np.arange(n)  # any row of a combination represents it
    return inverse, first


def combination_keys(columns: list[Any]) -> np.ndarray:
    """One int64 per row, equal exactly where every column's value is equal (missing equal
    to missing). Why: one hash pass over a single integer column instead of one per column
    (pandas' multi-column duplicated kept six int64 factorisations of 5M rows alive). The
    key is folded into dense codes whenever the next column's radix could overflow."""
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    size = 1
    for column in columns:
        codes = _codes(column)
        radix = int(codes.max(initial=0)) + 2
        if size * radix >= 2**62:
            combined = pd.factorize(combined)[0].astype(np.int64)
            size = int(combined.max(initial=0)) + 1
        combined = combined * radix + (codes + 1)
        size *= radix
    return combined


def _codes(column: Any) -> np.ndarray:
    """Codes equal exactly where the values are (-1: missing): a categorical's own codes and
    a bool's 0/1 as they are — no hash pass — anything else factorized."""
    dtype = getattr(column, "dtype", None)
    if isinstance(dtype, pd.CategoricalDtype):
        return np.asarray(column.cat.codes if isinstance(column, pd.Series) else column.codes, dtype=np.int64)
    if dtype == np.dtype(bool):
        return np.asarray(column, dtype=np.int64)
    return pd.factorize(column)[0]


def in_scope(rows: pd.DataFrame, policy: Policy, as_of: dt.date) -> pd.DataFrame:
    """Rows inside the policy year and on or before the evaluation date."""
    keep = in_scope_mask(rows, policy, as_of)
    return rows if keep.all() else rows.loc[keep]


def in_scope_mask(rows: pd.DataFrame, policy: Policy, as_of: dt.date) -> np.ndarray:
    last = min(as_of, policy.year_end)
    dates = rows["date"]
    return ((dates >= pd.Timestamp(policy.year_start)) & (dates <= pd.Timestamp(last))).to_numpy(dtype=bool)


def quarters(rows: pd.DataFrame) -> np.ndarray:
    return ((rows["date"].dt.month.to_numpy() - 1) // 3 + 1).astype(np.int8)


@clause("I.7", "I.11", "II.2(3)")
def counted_mask(rows: pd.DataFrame, policy: Policy, terms: ContractTerms) -> np.ndarray:
    """§1.1 (I.11, I.7, II.2(3)): cash spend on counting platforms and networks."""
    platform, network = rows["platform"], rows["network"]
    bidding = rows["bidding"].to_numpy(dtype=bool)
    specific = network.isin(policy.specific_networks).to_numpy(dtype=bool)
    promo = (
        platform.isin(policy.counting["data_promotion"]).to_numpy(dtype=bool)
        & ~network.isin(policy.excluded_networks).to_numpy(dtype=bool)
        & (~bidding | specific)
    )
    always = platform.isin(policy.counting["always"]).to_numpy(dtype=bool)
    counted = (rows["funding"] == "cash").to_numpy(dtype=bool) & (promo | always)
    if terms.non_bidding_framework:
        framework = ~bidding | rows["brand_bidding"].to_numpy(dtype=bool) | (platform == "xingtu_service").to_numpy(dtype=bool)
        counted &= ~framework
    return counted


@clause("III.5", "III.7", "V.1")
def _customer_quarter_window(rows: pd.DataFrame, q: np.ndarray, policy: Policy, terms: ContractTerms) -> np.ndarray:
    """§1.3 (III.5, III.7, V.1): an added customer counts from its quarter; a customer
    that lost its association stops from the quarter of the change."""
    if not terms.customer_changes:
        return np.ones(len(rows), dtype=bool)
    first = {c.customer: quarter_of(c.on, policy) for c in terms.customer_changes if c.kind == "added"}
    stop = {c.customer: quarter_of(c.on, policy) for c in terms.customer_changes if c.kind == "association_lost"}
    codes, customers = pd.factorize(rows["customer"], use_na_sentinel=False)
    lo = np.array([first.get(c, 1) for c in customers], dtype=np.int64)[codes]
    hi = np.array([stop.get(c, 5) for c in customers], dtype=np.int64)[codes]
    return (q >= lo) & (q < hi)


@clause("IV.1(3)")
def deposit_quarter(policy: Policy, terms: ContractTerms) -> int:
    """IV.1(3): first quarter whose bidding spend earns returns (5 = never)."""
    if terms.deposit_paid_on is None:
        return 5
    return max(1, quarter_of(terms.deposit_paid_on, policy))


@clause("I.5", "I.15")
def classify_rows(rows: pd.DataFrame, policy: Policy, terms: ContractTerms) -> RowClasses:
    """Counted and rebate-base masks for in-scope rows (rules §1.1–§1.3)."""
    q = quarters(rows)
    active = _customer_quarter_window(rows, q, policy, terms)
    counted = counted_mask(rows, policy, terms) & active
    platform, network = rows["platform"], rows["network"]
    base_platform = (
        platform.isin(policy.rebate_base["data_promotion"]).to_numpy(dtype=bool)
        & network.isin(policy.specific_networks).to_numpy(dtype=bool)
    ) | platform.isin(policy.rebate_base["always"]).to_numpy(dtype=bool)
    base = (
        counted
        & rows["bidding"].to_numpy(dtype=bool)
        & ~rows["brand_bidding"].to_numpy(dtype=bool)
        & base_platform
        & (q >= deposit_quarter(policy, terms))
    )
    party_b = counted & rows["via_party_b"].to_numpy(dtype=bool)
    return RowClasses(quarter=q, counted=counted, base=base, party_b=party_b)
