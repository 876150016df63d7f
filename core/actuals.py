"""A client's rows under the contract's row rules, once: what a what-if on the target reuses.

Why: the row rules (§1 counting, §2 rates, the deposit quarter, listed and customer
changes) read only a few of the contract inputs. The target amount, customer type, main
industry, previous-year amount and deposit amount change the settlement (§4, §5, §7) but
never a row's class or rate — so classifying and rating a year of rows again for each of
those what-ifs only repeats work. `row_terms` names the inputs the row rules read;
`row_stage` is everything row-level an outlook needs, keyed by them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .engine import row_rules
from .ledger import bucket_pre_return_shares
from .policy import Policy
from .pre_return import QuarterTotals
from .progress import daily_counted
from .projection import SegmentFactors, projected_totals, segment_factors
from .terms import ContractTerms


def row_terms(terms: ContractTerms) -> ContractTerms:
    """The terms as the row rules see them (every other input at a neutral value): equal
    for two what-ifs that differ only in the target, customer type, industry, previous
    year, deposit amount, Party B target, splicing or shortfall factor."""
    return ContractTerms(target_fen=1, customer_type="regular", main_industry="other",
                         deposit_paid_on=terms.deposit_paid_on, non_bidding_framework=terms.non_bidding_framework,
                         listed_changes=terms.listed_changes, customer_changes=terms.customer_changes)


@dataclass(frozen=True)
class RowStage:
    """The rows' quarterly totals to the evaluation date, the forecast segments' classes and
    rates per quarter, each quarter's pre-return split by bucket, and the quarterly totals
    (actual + projected) of every Monte-Carlo path and of the mean path — everything of a
    projection before the year-end settlement."""

    as_of: dt.date
    actual: QuarterTotals
    readings: frozenset[str]
    factors: SegmentFactors
    shares: pd.DataFrame
    paths: QuarterTotals  # [path, quarter] actual + projected cash of each drawn path
    mean: QuarterTotals  # the same for the mean path (one path, no noise)
    cumulative: pd.Series  # counted fen on or before each day with spend, to as_of

    def counted_to(self, day: dt.date) -> int:
        """Counted spend on or before ``day`` (≤ as_of): what each checkpoint has done."""
        done = self.cumulative[self.cumulative.index <= pd.Timestamp(day)]
        return int(done.iloc[-1]) if len(done) else 0


def row_stage(rows: pd.DataFrame, terms: ContractTerms, policy: Policy, as_of: dt.date, segments: pd.DataFrame,
              draws: np.ndarray, mean_draw: np.ndarray, share: np.ndarray,
              actual: tuple[QuarterTotals, frozenset[str]] | None = None, daily: pd.DataFrame | None = None) -> RowStage:
    """Classify and rate once; ``terms`` may be the full terms or `row_terms` of them.
    ``draws``/``mean_draw``: projected spend [path, segment, quarter] of the forecast stage;
    ``share``: each segment's return-funded share (neither counts nor earns); ``actual``:
    `row_rules` of the same rows, row terms and date when already computed; ``daily``: their
    `daily_counted` likewise (the Overview's chart)."""
    rt = row_terms(terms)
    totals, readings = actual or row_rules(rows, rt, policy, as_of)
    factors = segment_factors(segments, rt, policy)
    cash = (1 - share)[None, :, None]
    daily = daily_counted(rows, rt, policy, as_of) if daily is None else daily
    return RowStage(as_of, totals, readings, factors, bucket_pre_return_shares(rows, rt, policy),
                    totals + projected_totals(draws * cash, factors, policy),
                    totals + projected_totals(mean_draw * cash, factors, policy),
                    pd.Series(daily["cumulative_fen"].to_numpy(), index=pd.DatetimeIndex(daily["date"])))
