"""Rules §8: how much counted cash spend is still needed to reach each checkpoint.

Why per checkpoint: an account manager asks "what must we spend per day to be safe at
630 / 930 / year end", and "is it still possible at all at a sane multiple of today's pace".
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import pandas as pd

from .classification import classify_rows, in_scope
from .policy import Policy
from .progress import Checkpoint, checkpoints
from .terms import ContractTerms
from .year_end import floor_fen

Status = Literal["reached", "open", "unreachable", "missed"]
UNREACHABLE_MULTIPLE = Decimal(3)  # more than 3× the current run-rate per day is "no longer reachable"


@dataclass(frozen=True)
class Requirement:
    key: str
    by: dt.date
    share: Decimal
    level_fen: int  # counted amount to reach (exact share of the target, rounded up to the fen)
    done_fen: int
    needed_fen: int
    days_left: int
    per_day_fen: int  # rounded up: spending this every day reaches the level
    per_week_fen: int
    multiple_of_run_rate: Decimal | None
    status: Status


def _level(cp: Checkpoint, terms: ContractTerms) -> int:
    """Smallest whole-fen amount whose ratio to the target is >= the share."""
    exact = Decimal(terms.target_fen) * cp.share
    return int(exact.to_integral_value(rounding="ROUND_CEILING"))


def counted_on_or_before(rows: pd.DataFrame, terms: ContractTerms, policy: Policy, day: dt.date) -> int:
    scoped = in_scope(rows, policy, day)
    classes = classify_rows(scoped, policy, terms)
    return int(scoped["amount_fen"].to_numpy()[classes.counted].sum())


def required_spend(rows: pd.DataFrame, terms: ContractTerms, policy: Policy, as_of: dt.date,
                   run_rate_fen_per_day: float, counted: Callable[[dt.date], int] | None = None) -> list[Requirement]:
    """Each checkpoint (630 bands, 930, deposit bands of both customer types, the target)
    and the floor below which nothing is returned (§5: the industry threshold or the
    previous year's amount, whichever is higher). ``counted``: counted spend on or before a
    day when already known (core.actuals.RowStage.counted_to); else from the rows."""
    counted = counted or (lambda day: counted_on_or_before(rows, terms, policy, day))
    out = []
    rate = Decimal(str(max(run_rate_fen_per_day, 0)))
    floor = floor_fen(terms, policy)
    levels = [(cp.key, cp.by, cp.share, _level(cp, terms)) for cp in checkpoints(policy, terms, all_deposit_bands=True)]
    levels.append(("threshold", policy.year_end, Decimal(floor) / Decimal(terms.target_fen), floor))
    done_by = {day: counted(day) for day in {min(as_of, lv[1]) for lv in levels}}
    for key, by, share, level in sorted(levels, key=lambda item: (item[1], item[3])):
        done = done_by[min(as_of, by)]  # the row rules once per date, not once per level
        needed = max(level - done, 0)
        days = max((by - as_of).days, 0)
        per_day = -(-needed // days) if days else needed
        multiple = (Decimal(per_day) / rate).quantize(Decimal("0.01")) if rate > 0 and needed else None
        if needed == 0:
            status: Status = "reached"
        elif days == 0:
            status = "missed"
        elif rate == 0 or (multiple is not None and multiple > UNREACHABLE_MULTIPLE):
            status = "unreachable"
        else:
            status = "open"
        out.append(Requirement(key, by, share, level, done, needed, days, per_day, per_day * 7, multiple, status))
    return out

