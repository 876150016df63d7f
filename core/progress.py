"""Progress through the year: daily counted spend and the checkpoint levels to beat.

Why in core: the Overview chart and the exports draw the same series, and the levels
come from the policy (630 bands, 930, deposit bands, target), never from a page.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from .classification import classify_rows, in_scope
from .money import summable
from .policy import Policy
from .terms import ContractTerms


@dataclass(frozen=True)
class Checkpoint:
    """A completion level to reach by a date (e.g. 30 % by June 30)."""

    key: str
    by: dt.date
    share: Decimal

    def amount_fen(self, terms: ContractTerms) -> int:
        return int(Decimal(terms.target_fen) * self.share)


def checkpoints(policy: Policy, terms: ContractTerms, all_deposit_bands: bool = False) -> list[Checkpoint]:
    """630 bands (if assessed), 930, the deposit bands of this customer type (or of every
    type), the target."""
    from .assessments import assessment_630_applies

    out: list[Checkpoint] = []
    a630 = policy.assessment_630
    if assessment_630_applies(terms, policy):
        out += [Checkpoint("630_reduced", a630.date, a630.reduced_at), Checkpoint("630_pass", a630.date, a630.pass_at)]
    out.append(Checkpoint("930_pass", policy.assessment_930.date, policy.assessment_930.pass_at))
    types = sorted(policy.deposit.deduction) if all_deposit_bands else [terms.customer_type]
    shares = sorted({b.min_completion for t in types for b in policy.deposit.bands(t)})
    for share in shares:
        out.append(Checkpoint(f"deposit_{share}", policy.year_end, share))
    out.append(Checkpoint("target", policy.year_end, Decimal(1)))
    return out


def daily_counted(rows: pd.DataFrame, terms: ContractTerms, policy: Policy, as_of: dt.date) -> pd.DataFrame:
    """Counted fen per day and cumulative, one row per day with spend (rules §1)."""
    scoped = in_scope(rows, policy, as_of)
    classes = classify_rows(scoped, policy, terms)
    return counted_per_day(scoped["date"].to_numpy(), scoped["amount_fen"].to_numpy(dtype=np.int64), classes.counted)


def counted_per_day(dates: np.ndarray, fen: np.ndarray, counted: np.ndarray) -> pd.DataFrame:
    """Counted fen per day and cumulative of classified rows (``counted``: §1 mask per row)."""
    fen = summable(np.where(counted, fen, 0))
    daily = pd.Series(fen, index=dates).groupby(level=0).sum().sort_index()
    out = pd.DataFrame({"date": daily.index, "counted_fen": daily.to_numpy(dtype=fen.dtype)})
    out["cumulative_fen"] = out["counted_fen"].cumsum()
    return out
