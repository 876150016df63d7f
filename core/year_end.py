"""Rules §5 (III.2(2), III.3, III.4, IV.2): year-end rule, final entitlement, settlement.

Why one function per step: each step is a clause a user can look up, and each is tested
at its band edges on its own.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np

from .clauses import clause
from .money import at_least, div_round_half_up, times, to_fen, units_to_fen
from .policy import PPM, Policy
from .rates import ZERO_CLASS_E, ZERO_LISTED_D
from .terms import ContractTerms

YEAR_END_RULES = ("target_met", "below_threshold", "shortfall", "terminated", "forfeited", "not_effective", "pending")


def floor_fen(terms: ContractTerms, policy: Policy) -> int:
    """Counted spend below which the year ends below_threshold (§5): the industry threshold
    or the previous year's amount, whichever is higher — the rule and the required-spend row
    read it here."""
    return max(to_fen(policy.threshold(terms.customer_type, terms.main_industry)), terms.previous_year_fen)


@clause("III.2(2)", "IV.2")
def year_end_rule(
    actual: np.ndarray, outcome_630: np.ndarray, effective: bool, terms: ContractTerms, policy: Policy
) -> np.ndarray:
    """The decision table of §5, checked in order: never effective, terminated at 630,
    frame splicing, below the previous year's amount or the industry threshold (before the target — reading
    threshold_before_target), target met, otherwise shortfall."""
    below = actual < floor_fen(terms, policy)
    met = at_least(actual, terms.target_fen, Decimal(1))
    paths = actual.shape
    return np.select(
        [
            np.full(paths, not effective),
            outcome_630 == "terminated",
            np.full(paths, terms.frame_splicing),
            below,
            met,
        ],
        np.array(["not_effective", "terminated", "forfeited", "below_threshold", "target_met"], dtype=object),
        default="shortfall",
    ).astype(object)


@clause("III.2(2)")
def final_entitlement(
    rule: np.ndarray,
    actual: np.ndarray,
    agreed_units: np.ndarray,
    pre_return_units: np.ndarray,
    terms: ContractTerms,
    policy: Policy,
) -> np.ndarray:
    """E in fen (§5.1): agreed rates if the target is met (Q3 included even if withheld);
    in a shortfall the rates as pre-returned × the shortfall factor, with listed class D
    rows zeroed below 100M and class E / class I special rows below 50M; else 0."""
    z = policy.shortfall_zeroing
    met_fen = units_to_fen(agreed_units.sum(axis=(1, 2)))
    keep = np.ones(pre_return_units.shape[::2], dtype=pre_return_units.dtype)  # (P, groups)
    keep[:, ZERO_LISTED_D] = (actual >= to_fen(z.listed_class_d_below)).astype(int)
    keep[:, ZERO_CLASS_E] = (actual >= to_fen(z.listed_class_e_below)).astype(int)
    kept_units = (pre_return_units.sum(axis=1) * keep).sum(axis=1)
    factor = Fraction(terms.factor(policy))
    shortfall_fen = div_round_half_up(times(kept_units, factor.numerator), factor.denominator * PPM)
    return np.select([rule == "target_met", rule == "shortfall"], [met_fen, shortfall_fen], default=0)


def settlement(entitlement: np.ndarray, credited_total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """§5.2: N = E − C; a positive N is the year-end (Q4) return, a negative one a clawback."""
    net = entitlement - credited_total
    return np.maximum(net, 0), np.maximum(-net, 0)


def settlement_steps(pre_return: list[int], credited: list[int], entitlement: int | None) -> list[tuple[str, int, str]]:
    """The year-end settlement as a waterfall (step, fen, measure): Q1–Q3 pre-returns, less
    what 630/930 withheld, gives what was credited; the recalculated entitlement E (§5.1)
    then adds the Q4 return or takes back a clawback (§5.2)."""
    pre_q1_q3, paid, final = int(sum(pre_return[:3])), int(sum(credited)), int(entitlement or 0)
    return [("pre_returns", pre_q1_q3, "absolute"), ("withheld", paid - pre_q1_q3, "relative"),
            ("credited", paid, "total"), ("recalc", final - paid, "relative"), ("final", final, "total")]
