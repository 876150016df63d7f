"""The one sentence an account manager needs: which outcome drives the money at risk, how
likely it is, and what spend per day avoids it.

Why a module: "red" alone lets people draw wrong conclusions. The outcome named is the
year-end rule with the largest expected loss (deposit deducted + clawback, weighted by its
probability); the spend that avoids it is the required-spend row of the level that rule
is about (the floor for below_threshold, the target for a shortfall, the 630 band for a
termination). Outcomes no spend can change (forfeited, never effective) say so.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .memo import remembered
from .outlook import Outlook
from .required_spend import Requirement

ON_COURSE = 0.9  # P(target met) from which the year is "on course"
LEVEL_OF_RULE = {"below_threshold": "threshold", "shortfall": "target", "terminated": "630_reduced"}


@dataclass(frozen=True)
class Headline:
    kind: str  # "on_course" | "at_risk" | "fixed" (no spend can avoid the outcome)
    outcome: str  # the driving year-end rule (target_met when on course)
    probability: float  # of that outcome
    at_risk_fen: int  # expected deposit deducted + clawback over all paths
    deposit_fen: int
    clawback_fen: int
    requirement: Requirement | None  # the spend that avoids the outcome, when one does


def _loss_by_rule(outlook: Outlook) -> dict[str, float]:
    """Expected loss (fen, over all paths) carried by each year-end rule."""
    o = outlook.projection.outcome
    loss = np.asarray(o.deposit_deducted, dtype=np.float64) + np.asarray(o.clawback, dtype=np.float64)
    rules = np.asarray(o.year_end_rule)
    present = sorted(set(rules.tolist()))  # as np.unique orders them, without sorting 10,000 Python strings
    return {str(r): float(loss[rules == r].sum()) / len(loss) for r in present if r != "target_met"}


def headline(outlook: Outlook) -> Headline:
    """The driving outcome of a projected year (see the module docstring), once per outlook."""
    return remembered(outlook, "headline", lambda: _headline(outlook))


def _headline(outlook: Outlook) -> Headline:
    expected = outlook.projection.expected_fen()
    deposit, clawback = expected["deposit_deducted"], expected["clawback"]
    probs = outlook.projection.probabilities()["year_end_rule"]
    p_met = outlook.projection.probabilities()["target_met"]["yes"]
    losses = _loss_by_rule(outlook)
    if p_met >= ON_COURSE or not losses or max(losses.values()) <= 0:
        return Headline("on_course", "target_met", p_met, deposit + clawback, deposit, clawback, None)
    rule = max(losses, key=lambda r: losses[r])
    key = LEVEL_OF_RULE.get(rule)
    requirement = next((r for r in outlook.requirements if r.key == key), None) if key else None
    kind = "at_risk" if requirement is not None and requirement.status in ("open", "unreachable") else "fixed"
    return Headline(kind, rule, probs.get(rule, 0.0), deposit + clawback, deposit, clawback,
                    requirement if kind == "at_risk" else None)
