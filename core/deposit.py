"""Rules §7 (Article IV): the deposit, its year-end deduction and what is refundable.

Why here: the Deposit page draws the deduction curve from the same function that
settles the year, so the chart can never disagree with the numbers.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from .clauses import clause
from .money import INT64_SAFE, SETTLE_HEADROOM, at_least, div_round_half_up, exact, times
from .policy import Policy
from .terms import ContractTerms

FULL_DEDUCTION_RULES = ("terminated", "forfeited", "below_threshold")


@clause("VIII.3")
def agreement_effective(terms: ContractTerms, policy: Policy) -> bool:
    """VIII.3: the agreement takes effect once the deposit is paid in full (within the year)."""
    return terms.deposit_paid_on is not None and terms.deposit_paid_on <= policy.year_end


@clause("IV.1")
def deposit_paid(terms: ContractTerms, policy: Policy) -> int:
    """The deposit held by Party A at year end (0 if it was never paid)."""
    return terms.deposit_amount(policy) if agreement_effective(terms, policy) else 0


@clause("IV.2")
def band_deduction(party_b_counted: np.ndarray, terms: ContractTerms, policy: Policy) -> np.ndarray:
    """IV.2 bands for a target not met: the first band whose completion is reached decides;
    below every band the whole deposit is deducted."""
    deposit = terms.deposit_amount(policy)
    target_b = terms.party_b_target()
    done = np.asarray(party_b_counted)
    if max(deposit, target_b) >= INT64_SAFE / SETTLE_HEADROOM:
        done = exact(done)  # terms beyond int64's reach: settle in Python integers
    result = np.full(done.shape, deposit, dtype=done.dtype)
    decided = np.zeros(done.shape, dtype=bool)
    for band in policy.deposit.bands(terms.customer_type):
        hit = at_least(done, target_b, band.min_completion) & ~decided
        if band.deduct == "shortfall":
            short = np.maximum(target_b - done, 0)
            amount = div_round_half_up(times(short, deposit), target_b)
        else:
            f = Fraction(band.deduct)
            amount = np.full(done.shape, div_round_half_up(deposit * f.numerator, f.denominator), dtype=done.dtype)
        result = np.where(hit, amount, result)
        decided |= hit
    return result


@clause("IV.2")
def deposit_deduction(
    rule: np.ndarray, party_b_counted: np.ndarray, terms: ContractTerms, policy: Policy
) -> np.ndarray:
    """D per path from the year-end rule (IV.2): full, none, or by the completion bands."""
    deposit = terms.deposit_amount(policy)
    bands = band_deduction(party_b_counted, terms, policy)
    return np.select(
        [rule == "not_effective", np.isin(rule, FULL_DEDUCTION_RULES), rule == "target_met"],
        [np.zeros_like(bands), np.full_like(bands, deposit), np.zeros_like(bands)],
        default=bands,
    )


def deposit_refundable(paid: int, deducted: np.ndarray, clawback: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """§5.2/§7: the deposit left after D offsets the clawback; the rest is refundable.
    Returns (refundable, clawback taken from the deposit)."""
    left = np.maximum(paid - deducted, 0)
    from_deposit = np.minimum(clawback, left)
    return left - from_deposit, from_deposit


def deduction_curve(terms: ContractTerms, policy: Policy, completion: np.ndarray) -> np.ndarray:
    """Deposit deducted (fen) at each completion rate, by the same year-end rules that
    settle the year (630 assumed passed, Party B's completion equal to the client's)."""
    from .year_end import year_end_rule

    actual = np.array([int(round(c * terms.target_fen)) for c in completion], dtype=object)
    rule = year_end_rule(actual, np.full(len(actual), "pass", dtype=object), agreement_effective(terms, policy), terms, policy)
    party_b = np.array([int(round(c * terms.party_b_target())) for c in completion], dtype=object)
    return deposit_deduction(rule, party_b, terms, policy)
