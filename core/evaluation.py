"""One evaluation of the actual year: the scalar view of a one-path Outcome, its
assumptions, and the JSON of scenario-format.md.

Why reading ids, not sentences: the dashboard shows the same assumptions in 中文 and
English; the policy file holds both texts.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .assessments import counted_through
from .engine import Outcome, row_rules, settle
from .money import fen_to_yuan, ratio
from .policy import QUARTERS, Policy
from .pre_return import QuarterTotals
from .terms import ContractTerms


@dataclass(frozen=True)
class Evaluation:
    policy: str
    as_of: dt.date
    target_fen: int
    party_b_target_fen: int
    deposit_fen: int
    actual_fen: int
    party_b_actual_fen: int
    bidding_base_fen: int
    h1_fen: int
    jan_sep_fen: int
    assessment_630: str
    assessment_930: str
    year_end_rule: str
    pre_return_fen: tuple[int, int, int, int]
    credited_fen: tuple[int, int, int]
    final_return_fen: int | None
    year_end_settlement_fen: int | None
    clawback_fen: int | None
    deposit_deducted_fen: int | None
    deposit_refundable_fen: int | None
    clawback_from_deposit_fen: int | None
    reading_ids: tuple[str, ...]
    shortfall_factor: str

    @property
    def completion_rate(self) -> float:
        return ratio(self.actual_fen, self.target_fen)

    def assumptions(self, policy: Policy, lang: str = "en") -> list[str]:
        """The readings this result depends on, in the chosen language."""
        texts = []
        for rid in self.reading_ids:
            r = policy.reading(rid)
            texts.append((r.zh if lang == "zh" else r.en).replace("{factor}", self.shortfall_factor))
        return texts

    def to_dict(self, policy: Policy) -> dict[str, Any]:
        """The output object of scenario-format.md (money in RMB to 0.01, rates to 6 places)."""
        money = _money_or_none
        return {
            "target_amount": fen_to_yuan(self.target_fen),
            "deposit_amount": fen_to_yuan(self.deposit_fen),
            "actual_amount": fen_to_yuan(self.actual_fen),
            "bidding_base": fen_to_yuan(self.bidding_base_fen),
            "completion_rate": ratio(self.actual_fen, self.target_fen),
            "party_b_completion_rate": ratio(self.party_b_actual_fen, self.party_b_target_fen),
            "h1_completion_rate": ratio(self.h1_fen, self.target_fen),
            "jan_sep_completion_rate": ratio(self.jan_sep_fen, self.target_fen),
            "assessment_630": self.assessment_630,
            "assessment_930": self.assessment_930,
            "year_end_rule": self.year_end_rule,
            "pre_return": {q: fen_to_yuan(v) for q, v in zip(QUARTERS, self.pre_return_fen)},
            "credited": {q: fen_to_yuan(v) for q, v in zip(QUARTERS, self.credited_fen)},
            "final_return": money(self.final_return_fen),
            "year_end_settlement": money(self.year_end_settlement_fen),
            "clawback": money(self.clawback_fen),
            "deposit_deducted": money(self.deposit_deducted_fen),
            "deposit_refundable": money(self.deposit_refundable_fen),
            "clawback_from_deposit": money(self.clawback_from_deposit_fen),
            "policy": self.policy,
            "as_of": self.as_of.isoformat(),
            "assumptions": self.assumptions(policy),
        }


def _money_or_none(fen: int | None) -> float | None:
    return None if fen is None else fen_to_yuan(fen)


def _scalar(values: Any) -> int | None:
    v = values[0]
    return None if v is None else int(v)


def reading_ids(outcome: Outcome, row_readings: frozenset[str], terms: ContractTerms, policy: Policy, notes: tuple[str, ...]) -> tuple[str, ...]:
    """Which readings of the spec this result depends on (the first three always)."""
    ids = ["local_rate_sum", "rights_exercised", "shortfall_factor"]
    ids.extend(sorted(row_readings))
    if outcome.year_end_rule[0] == "below_threshold":
        ids.append("threshold_before_target")
    if outcome.assessment_630[0] == "terminated":
        ids.append("terminated_no_later_pre_return")
    paid_on = terms.deposit_paid_on
    if paid_on is not None and paid_on > policy.assessment_630.date:
        ids.append("deposit_after_630")
    if not outcome.year_decided:
        ids.append("credited_closed_quarters")
    if terms.party_b_target_fen is None:
        ids.append("party_b_target_default")
    ids.extend(n for n in notes if n not in ids)
    return tuple(ids)


def evaluate(
    rows: pd.DataFrame, terms: ContractTerms, policy: Policy, as_of: dt.date | None = None, notes: tuple[str, ...] = ()
) -> Evaluation:
    """Evaluate the actual rows (no forecast): the batch CLI's `evaluate`."""
    as_of = as_of or policy.year_end
    totals, row_readings = row_rules(rows, terms, policy, as_of)
    return evaluation_of(totals, row_readings, terms, policy, as_of, notes)


def evaluation_of(
    totals: QuarterTotals, row_readings: frozenset[str], terms: ContractTerms, policy: Policy, as_of: dt.date,
    notes: tuple[str, ...] = (),
) -> Evaluation:
    """Settle one client's actual quarterly totals (§4, §5, §7) into its Evaluation —
    shared by `evaluate` and the portfolio, which sums every client's rows in one pass."""
    outcome = settle(totals, terms, policy, as_of)
    t = outcome.totals
    return Evaluation(
        policy=policy.name,
        as_of=as_of,
        target_fen=terms.target_fen,
        party_b_target_fen=terms.party_b_target(),
        deposit_fen=outcome.deposit_amount,
        actual_fen=int(outcome.actual[0]),
        party_b_actual_fen=int(outcome.party_b_actual[0]),
        bidding_base_fen=int(t.base[0].sum()),
        h1_fen=int(counted_through(t, policy.assessment_630.date, policy)[0]),
        jan_sep_fen=int(counted_through(t, policy.assessment_930.date, policy)[0]),
        assessment_630=str(outcome.assessment_630[0]),
        assessment_930=str(outcome.assessment_930[0]),
        year_end_rule=str(outcome.year_end_rule[0]),
        pre_return_fen=tuple(int(v) for v in outcome.pre_return[0]),  # type: ignore[arg-type]
        credited_fen=tuple(int(v) for v in outcome.credited[0]),  # type: ignore[arg-type]
        final_return_fen=_scalar(outcome.final_return),
        year_end_settlement_fen=_scalar(outcome.year_end_settlement),
        clawback_fen=_scalar(outcome.clawback),
        deposit_deducted_fen=_scalar(outcome.deposit_deducted),
        deposit_refundable_fen=_scalar(outcome.deposit_refundable),
        clawback_from_deposit_fen=_scalar(outcome.clawback_from_deposit),
        reading_ids=reading_ids(outcome, row_readings, terms, policy, notes),
        shortfall_factor=str(terms.factor(policy)),
    )
