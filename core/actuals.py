"""A client's rows under the contract's row rules, once: what a what-if on the target reuses.

Why: the row rules (§1 counting, §2 rates, the deposit quarter, listed and customer
changes) read only a few of the contract inputs. The target amount, customer type, main
industry, previous-year amount and deposit amount change the settlement (§4, §5, §7) but
never a row's class or rate — so classifying and rating a year of rows again for each of
those what-ifs only repeats work. `row_terms` names the inputs the row rules read;
`classified` rates a year of rows once; `row_stage` is everything row-level an outlook
needs at a date, keyed by them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from typing import TypeVar

import numpy as np
import pandas as pd

from .classification import RowClasses, classify_rows, deposit_quarter, in_scope
from .engine import rated_totals
from .ledger import pre_return_shares
from .memo import remembered
from .policy import Policy
from .pre_return import QuarterTotals
from .progress import counted_per_day
from .projection import SegmentFactors, projected_totals, segment_factors
from .rates import RowRates, row_rates
from .terms import ContractTerms


def row_terms(terms: ContractTerms, policy: Policy) -> ContractTerms:
    """The terms as the row rules see them (every other input at a neutral value): equal
    for two what-ifs that differ only in the target, customer type, industry, previous
    year, deposit amount, Party B target, splicing or shortfall factor — or in the deposit
    date within one quarter, since the row rules read only its quarter (IV.1(3))."""
    return ContractTerms(target_fen=1, customer_type="regular", main_industry="other",
                         deposit_paid_on=_deposit_for_rows(terms, policy), non_bidding_framework=terms.non_bidding_framework,
                         listed_changes=terms.listed_changes, customer_changes=terms.customer_changes)


def _deposit_for_rows(terms: ContractTerms, policy: Policy) -> dt.date | None:
    """One date per deposit quarter (its quarter's last day, or the day after the year):
    kept only when the row rules read the same quarter from it, else the date itself."""
    paid = terms.deposit_paid_on
    if paid is None:
        return None
    quarter = deposit_quarter(policy, terms)
    same = policy.year_end + dt.timedelta(days=1) if quarter == 5 else policy.quarter_end(quarter)
    return same if deposit_quarter(policy, replace(terms, deposit_paid_on=same)) == quarter else paid


Arrays = TypeVar("Arrays", RowClasses, RowRates)


def _take(per_row: Arrays, keep: np.ndarray) -> Arrays:
    """The same per-row facts for the kept rows only."""
    return replace(per_row, **{f.name: getattr(per_row, f.name)[keep] for f in fields(per_row)})


@dataclass(frozen=True)
class ClassifiedRows:
    """A client's rows of the policy year with their §1 classes and §2 rates, read at any
    evaluation date by keeping the rows on or before it. Why: every row rule reads only its
    own row (its date's quarter, platform, class …), never the rows around it, so the class
    and rate a row has at one date it has at every date — a date change only re-adds."""

    dates: np.ndarray  # datetime64, per row
    fen: np.ndarray  # int64 amount per row
    classes: RowClasses
    rates: RowRates
    frame: pd.DataFrame  # the rows themselves (bucket columns)
    policy: Policy

    def _upto(self, as_of: dt.date) -> np.ndarray:
        return self.dates <= np.datetime64(min(as_of, self.policy.year_end))

    def totals_to(self, as_of: dt.date) -> tuple[QuarterTotals, frozenset[str]]:
        """`core.engine.row_rules` of the rows at ``as_of`` (the same totals and readings)."""
        def compute() -> tuple[QuarterTotals, frozenset[str]]:
            keep = self._upto(as_of)
            return rated_totals(self.fen[keep], _take(self.classes, keep), _take(self.rates, keep), self.policy)
        return remembered(self, f"totals_{as_of}", compute)

    def daily_counted(self, as_of: dt.date) -> pd.DataFrame:
        """`core.progress.daily_counted` of the rows at ``as_of``."""
        def compute() -> pd.DataFrame:
            keep = self._upto(as_of)
            return counted_per_day(self.dates[keep], self.fen[keep], self.classes.counted[keep])
        return remembered(self, f"daily_{as_of}", compute)

    def bucket_shares(self) -> pd.DataFrame:
        """`core.ledger.bucket_pre_return_shares` (the whole policy year's rows)."""
        return remembered(self, "shares", lambda: pre_return_shares(self.frame, self.classes, self.rates).drop(columns="group"))


def classified(rows: pd.DataFrame, terms: ContractTerms, policy: Policy) -> ClassifiedRows:
    """Classify and rate the policy year's rows once (``terms``: as `row_terms` gives them)."""
    scoped = in_scope(rows, policy, policy.year_end)
    classes = classify_rows(scoped, policy, terms)
    return ClassifiedRows(scoped["date"].to_numpy(), scoped["amount_fen"].to_numpy(dtype=np.int64),
                          classes, row_rates(scoped, classes.quarter, policy, terms), scoped, policy)


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
              rated: ClassifiedRows | None = None) -> RowStage:
    """The row stage at ``as_of``; ``terms`` may be the full terms or `row_terms` of them.
    ``draws``/``mean_draw``: projected spend [path, segment, quarter] of the forecast stage;
    ``share``: each segment's return-funded share (neither counts nor earns); ``rated``:
    `classified` of the same rows and row terms when already computed (any date)."""
    rt = row_terms(terms, policy)
    rated = rated or classified(rows, rt, policy)
    totals, readings = rated.totals_to(as_of)
    factors = remembered(rated, "factors_" + repr(segments.to_numpy().tolist()),  # the same segments at another date
                         lambda: segment_factors(segments, rt, policy), copied=False)
    cash = (1 - share)[None, :, None]
    daily = rated.daily_counted(as_of)
    return RowStage(as_of, totals, readings, factors, rated.bucket_shares(),
                    totals + projected_totals(draws * cash, factors, policy),
                    totals + projected_totals(mean_draw * cash, factors, policy),
                    pd.Series(daily["cumulative_fen"].to_numpy(), index=pd.DatetimeIndex(daily["date"])))
