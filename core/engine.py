"""The contract engine: spend rows + terms -> every outcome of the agreement.

Two stages. ``totals_from_rows`` applies the row rules (§1–§3) once, vectorised.
``settle`` applies the period rules (§4, §5, §7) to quarterly totals with a leading
paths axis, so the actual year (one path) and a 10,000-path projection are settled by
the very same code.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .assessments import (
    assess_630,
    assess_930,
    reduced_quarter_mask,
    terminated_quarter_mask,
)
from .classification import RowClasses, classify_rows, in_scope
from .deposit import (
    agreement_effective,
    deposit_deduction,
    deposit_paid,
    deposit_refundable,
)
from .money import units_to_fen
from .policy import Policy
from .pre_return import QuarterTotals, quarter_totals
from .rates import RowRates, row_rates
from .terms import ContractTerms
from .year_end import final_entitlement, settlement, year_end_rule


@dataclass(frozen=True)
class Outcome:
    """Everything the agreement decides, per path (arrays of length P). Money in fen."""

    totals: QuarterTotals
    assessment_630: np.ndarray
    assessment_930: np.ndarray
    year_end_rule: np.ndarray  # "pending" before the year has ended
    pre_return: np.ndarray  # (P, 4) as pre-returned (630 reduction applied)
    credited: np.ndarray  # (P, 3) Q1..Q3 actually credited
    final_return: np.ndarray  # E
    year_end_settlement: np.ndarray  # max(E − C, 0)
    clawback: np.ndarray  # max(C − E, 0)
    deposit_amount: int
    deposit_paid: int
    deposit_deducted: np.ndarray
    deposit_refundable: np.ndarray
    clawback_from_deposit: np.ndarray
    year_decided: bool

    @property
    def actual(self) -> np.ndarray:
        return self.totals.counted.sum(axis=1)

    @property
    def party_b_actual(self) -> np.ndarray:
        return self.totals.party_b.sum(axis=1)


def totals_from_rows(rows: pd.DataFrame, terms: ContractTerms, policy: Policy, as_of: dt.date) -> QuarterTotals:
    """Rules §1–§3 over typed spend rows (see core.spend) up to ``as_of``."""
    return row_rules(rows, terms, policy, as_of)[0]


def row_rules(
    rows: pd.DataFrame, terms: ContractTerms, policy: Policy, as_of: dt.date
) -> tuple[QuarterTotals, frozenset[str]]:
    """QuarterTotals plus the ids of the row-level readings that affected the base."""
    scoped = in_scope(rows, policy, as_of)
    classes = classify_rows(scoped, policy, terms)
    rates = row_rates(scoped, classes.quarter, policy, terms)
    return rated_totals(scoped["amount_fen"].to_numpy(dtype=np.int64), classes, rates, policy)


def rated_totals(fen: np.ndarray, classes: RowClasses, rates: RowRates, policy: Policy) -> tuple[QuarterTotals, frozenset[str]]:
    """QuarterTotals of classified and rated rows, and the row-level readings that affected the base."""
    totals = quarter_totals(fen, classes, rates, policy)
    used = {"kol_reuse_as_brand"} if (rates.kol_reuse & classes.base).any() else set()
    return totals, frozenset(used)


def _pre_return_units(totals: QuarterTotals, outcome_630: np.ndarray, effective: bool, policy: Policy) -> np.ndarray:
    """Σ base × rate per quarter and zero group as pre-returned (§3 with §2 modifier 4)."""
    reduced = (outcome_630 == "reduced")[:, None, None] & reduced_quarter_mask(policy)[None, :, None]
    units = np.where(reduced, totals.reduced_units, totals.agreed_units)
    cut = (outcome_630 == "terminated")[:, None, None] & terminated_quarter_mask(policy)[None, :, None]
    units = np.where(cut | (not effective), 0, units)
    return units


def _credited(pre_return: np.ndarray, outcome_930: np.ndarray, policy: Policy, as_of: dt.date) -> np.ndarray:
    """Q1..Q3 credited: closed quarters' pre-return, Q3 withheld when 930 fails."""
    credited = pre_return[:, :3].copy()
    for q in range(1, 4):
        if policy.quarter_end(q) > as_of:
            credited[:, q - 1] = 0
    w = policy.assessment_930.withheld_quarter - 1
    credited[:, w] = np.where(outcome_930 == "q3_withheld", 0, credited[:, w])
    return credited


def settle(totals: QuarterTotals, terms: ContractTerms, policy: Policy, as_of: dt.date) -> Outcome:
    """Rules §4, §5, §7 on quarterly totals, for every path at once."""
    paid = deposit_paid(terms, policy)
    effective = agreement_effective(terms, policy)
    o630 = assess_630(totals, terms, policy, as_of)
    o930 = assess_930(totals, terms, policy, as_of)
    units = _pre_return_units(totals, o630, effective, policy)
    pre_return = units_to_fen(units.sum(axis=2))
    credited = _credited(pre_return, o930, policy, as_of)
    decided = as_of >= policy.year_end
    actual = totals.counted.sum(axis=1)
    paths = totals.paths
    if decided:
        rule = year_end_rule(actual, o630, effective, terms, policy)
        entitlement = final_entitlement(rule, actual, totals.agreed_units, units, terms, policy)
        to_credit, clawback = settlement(entitlement, credited.sum(axis=1))
        deducted = deposit_deduction(rule, totals.party_b.sum(axis=1), terms, policy)
        refundable, from_deposit = deposit_refundable(paid, deducted, clawback)
    else:
        rule = np.full(paths, "pending", dtype=object)
        entitlement = to_credit = clawback = deducted = refundable = from_deposit = np.full(paths, None, dtype=object)
    return Outcome(
        totals=totals,
        assessment_630=o630,
        assessment_930=o930,
        year_end_rule=rule,
        pre_return=pre_return,
        credited=credited,
        final_return=entitlement,
        year_end_settlement=to_credit,
        clawback=clawback,
        deposit_amount=terms.deposit_amount(policy),
        deposit_paid=paid,
        deposit_deducted=deducted,
        deposit_refundable=refundable,
        clawback_from_deposit=from_deposit,
        year_decided=decided,
    )
