"""Rules §4 (III.3, III.4): the 630 and 930 assessments.

Why arrays: the same functions decide the outcome for the actual year (one path) and for
every Monte-Carlo path of a projection.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from .classification import quarter_of
from .clauses import clause
from .money import at_least
from .policy import Policy
from .pre_return import QuarterTotals
from .terms import ContractTerms

OUTCOMES_630 = ("pass", "reduced", "terminated", "not_applicable", "pending")
OUTCOMES_930 = ("pass", "q3_withheld", "pending")


def counted_through(totals: QuarterTotals, date: dt.date, policy: Policy) -> np.ndarray:
    """Counted fen from Jan 1 through a quarter-end date, per path."""
    return totals.counted[:, : quarter_of(date, policy)].sum(axis=1)


@clause("III.3")
def assessment_630_applies(terms: ContractTerms, policy: Policy) -> bool:
    """III.3: regular customers that signed before June 30; new customers are not assessed."""
    a = policy.assessment_630
    return terms.customer_type in a.customer_types and (terms.signed_on is None or terms.signed_on < a.signed_before)


@clause("III.3")
def assess_630(totals: QuarterTotals, terms: ContractTerms, policy: Policy, as_of: dt.date) -> np.ndarray:
    """pass (h1 >= 30 %), reduced (20 % <= h1 < 30 %), terminated (< 20 %), per path."""
    a = policy.assessment_630
    if not assessment_630_applies(terms, policy):
        return np.full(totals.paths, "not_applicable", dtype=object)
    if as_of < a.date:
        return np.full(totals.paths, "pending", dtype=object)
    h1 = counted_through(totals, a.date, policy)
    return np.select(
        [at_least(h1, terms.target_fen, a.pass_at), at_least(h1, terms.target_fen, a.reduced_at)],
        np.array(["pass", "reduced"], dtype=object),
        default="terminated",
    ).astype(object)


@clause("III.4")
def assess_930(totals: QuarterTotals, terms: ContractTerms, policy: Policy, as_of: dt.date) -> np.ndarray:
    """III.4: Q3 pre-return withheld when Jan–Sep completion < 60 %, per path."""
    a = policy.assessment_930
    if as_of < a.date:
        return np.full(totals.paths, "pending", dtype=object)
    s9 = counted_through(totals, a.date, policy)
    return np.where(at_least(s9, terms.target_fen, a.pass_at), "pass", "q3_withheld").astype(object)


@clause("III.3(1)")
def reduced_quarter_mask(policy: Policy) -> np.ndarray:
    """Quarters whose pre-return is cut by the 630 reduction (III.3(1))."""
    return np.isin(np.arange(1, 5), policy.assessment_630.reduced_quarters)


def terminated_quarter_mask(policy: Policy) -> np.ndarray:
    """Quarters not yet credited when the agreement ends at 630 (reading
    terminated_no_later_pre_return): those ending on or after the assessment date."""
    return np.array([policy.quarter_end(q) >= policy.assessment_630.date for q in range(1, 5)])


def reduction_cost_fen(totals: QuarterTotals, policy: Policy) -> int:
    """What a 630 reduction would cost on these totals (path 0): Σ base × 1 point over the
    reduced quarters, i.e. agreed minus reduced pre-return, in fen."""
    from .money import units_to_fen

    mask = reduced_quarter_mask(policy)
    agreed = totals.agreed_units[0][mask].sum()
    reduced = totals.reduced_units[0][mask].sum()
    return int(units_to_fen(np.array([agreed - reduced], dtype=object))[0])


def withheld_by_930_fen(pre_return: Sequence[int], policy: Policy) -> int:
    """The pre-return a failed 930 withholds (III.4): the withheld quarter's."""
    return int(pre_return[policy.assessment_930.withheld_quarter - 1])
