"""Target negotiation: the same spend forecast (same seeded paths) under candidate targets.

Why the same paths: the targets are then compared on identical futures, so differences
come from the contract alone, not from sampling noise.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .calibration import calibrated_forecast
from .error_model import load as load_error_model
from .forecast import segment_history
from .policy import Policy
from .projection import DEFAULT_PATHS, settled, year_totals
from .terms import ContractTerms


def compare_targets(rows: pd.DataFrame, terms: ContractTerms, policy: Policy, as_of: dt.date, targets_fen: list[int],
                    method: str | None = None, paths: int = DEFAULT_PATHS, seed: int = 0) -> pd.DataFrame:
    """Per target: chance of each checkpoint, expected return, deposit loss and net value
    (final return − deposit deducted − clawback), all in fen."""
    as_of = policy.clip(as_of)
    history = segment_history(rows, policy, as_of)
    forecast = calibrated_forecast(method or "combined", history, policy, as_of, load_error_model())[0]
    totals = year_totals(rows, history, forecast, terms, policy, as_of, paths, seed)  # the same for every target
    out = []
    for target in targets_fen:
        p = settled(totals, forecast.method, seed, as_of, terms.with_target(int(target)), policy)
        o, probs = p.outcome, p.probabilities()
        final = np.asarray(o.final_return, dtype=float)
        deposit = np.asarray(o.deposit_deducted, dtype=float)
        clawback = np.asarray(o.clawback, dtype=float)
        out.append({
            "target_fen": int(target),
            "p_630_pass": probs["assessment_630"]["pass"] + probs["assessment_630"]["not_applicable"],
            "p_930_pass": probs["assessment_930"]["pass"],
            "p_target_met": probs["target_met"]["yes"],
            "expected_return_fen": final.mean(),
            "expected_deposit_loss_fen": deposit.mean(),
            "expected_clawback_fen": clawback.mean(),
            "expected_net_fen": (final - deposit - clawback).mean(),
        })
    return pd.DataFrame(out)


def break_even_target(table: pd.DataFrame) -> int | None:
    """The highest candidate target whose expected net value is still >= 0 — defined only
    when a higher candidate falls below 0 (else the break-even lies beyond the range typed,
    and the top of that range is not it): None then, and None when none is >= 0."""
    ordered = table.sort_values("target_fen")
    ok = ordered["expected_net_fen"].to_numpy() >= 0
    if not ok.any() or ok[-1]:
        return None
    return int(ordered["target_fen"].to_numpy()[ok].max())


def best_targets(table: pd.DataFrame) -> tuple[int, int]:
    """The lowest and highest candidate with the highest expected net value (to the fen):
    a range when several tie, never just the lowest of them."""
    net = table["expected_net_fen"].to_numpy()
    tied = table["target_fen"].to_numpy()[np.abs(net - net.max()) < 1.0]
    return int(tied.min()), int(tied.max())
