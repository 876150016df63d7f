"""Any year's agreement: the 2024 contract moved to 2026 gives the same amounts.

Every worked example and the demo client are re-run on a copy of the 2024 policy with every
date moved two years on (2024-06-30 → 2026-06-30, the final deadline 2025-03-31 → 2027-03-31)
and the spend and scenario dates moved the same way (Feb 29 becomes Feb 28: same quarter).
Nothing in the engine may assume 2024 or 2023, so every amount, rate and outcome must be
equal; only dates differ (credit dates follow the 2026 working-day calendar, checked by hand
in tests/test_credit_timing.py).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from core import policy_edit
from core.evaluation import evaluate
from core.policy import POLICY_DIR, load_policy
from core.scenario import parse_scenario
from tests.test_golden import CASES

ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
YEARS = 2
DATE_FIELDS = {"as_of", "policy"}  # differ by construction


def shift_day(day: dt.date) -> dt.date:
    return policy_edit.shift_day(day, YEARS)


def _shift_text(text: str) -> str:
    return ISO.sub(lambda m: shift_day(dt.date(*map(int, m.groups()))).isoformat(), text)


@pytest.fixture(scope="module")
def policy_2026(tmp_path_factory) -> Path:
    """The 2024 policy moved to 2026 by the Contract terms page's own function."""
    text = policy_edit.with_year((POLICY_DIR / "ocean_engine_2024.toml").read_text(encoding="utf-8"), 2024 + YEARS)
    path = tmp_path_factory.mktemp("policies") / "ocean_engine_2026.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shifted_policy_is_a_2026_contract(policy_2026):
    p = load_policy(str(policy_2026))
    assert (p.year_start, p.year_end) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert p.assessment_630.date == dt.date(2026, 6, 30) and p.assessment_930.date == dt.date(2026, 9, 30)
    assert p.credit_timing.final_deadline == dt.date(2027, 3, 31)


def _outcome(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in DATE_FIELDS and k != "assumptions"}


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_every_worked_example_gives_the_same_amounts_two_years_later(case, policy_2026):
    original = parse_scenario(json.loads(case.read_text(encoding="utf-8")), case.name)
    data = json.loads(_shift_text(case.read_text(encoding="utf-8")))
    data["policy"] = str(policy_2026)
    moved = parse_scenario(data, case.name)
    assert moved.as_of == shift_day(original.as_of)
    before = evaluate(original.spend, original.terms, original.policy, original.as_of).to_dict(original.policy)
    after = evaluate(moved.spend, moved.terms, moved.policy, moved.as_of).to_dict(moved.policy)
    assert _outcome(after) == _outcome(before)


@pytest.mark.parametrize("as_of", [dt.date(2024, 3, 31), dt.date(2024, 6, 30), dt.date(2024, 9, 15), dt.date(2024, 12, 31)])
def test_the_demo_client_gives_the_same_amounts_two_years_later(as_of, policy_2026):
    from tests.conftest import demo_scenario

    s = demo_scenario()
    moved_policy = load_policy(str(policy_2026))
    spend = s.spend.assign(date=pd.to_datetime([shift_day(d) for d in s.spend["date"].dt.date]))
    terms = s.terms.__class__(**{**s.terms.__dict__, "signed_on": shift_day(s.terms.signed_on),
                                 "deposit_paid_on": shift_day(s.terms.deposit_paid_on) if s.terms.deposit_paid_on else None})
    before = evaluate(s.spend, s.terms, s.policy, as_of).to_dict(s.policy)
    after = evaluate(spend, terms, moved_policy, shift_day(as_of)).to_dict(moved_policy)
    assert _outcome(after) == _outcome(before)


def test_an_edited_contract_keeps_its_clause_comments_and_names_a_bad_value():
    from core.policy import PolicyError

    text = (POLICY_DIR / "ocean_engine_2024.toml").read_text(encoding="utf-8")
    edited = policy_edit.set_value(policy_edit.with_year(text, 2026), "thresholds.regular.other", 35_000_000)
    assert "# §7 / Article IV: the deposit." in edited  # the clause references stay with the numbers
    p = policy_edit.validated(edited, "ocean_engine_2026_agency")
    assert p.threshold("regular", "other") == 35_000_000 and p.name == "ocean_engine_2026_agency"
    keys = {c.key for c in policy_edit.changes(text, edited)}
    assert {"thresholds.regular.other", "year_start", "assessment_630.date", "credit_timing.final_deadline"} <= keys
    with pytest.raises(PolicyError, match="deposit.rate"):
        policy_edit.validated(policy_edit.set_value(edited, "deposit.rate", "one percent"), "x")
    with pytest.raises(PolicyError, match="name"):
        policy_edit.validated(edited, "bad name!")
    with pytest.raises(PolicyError, match="deposit.rate"):
        policy_edit.decimal_text("-1", "deposit.rate")


def test_writing_values_the_contract_already_holds_leaves_its_text_as_it_is():
    """policy_edit.set_values skips what is already there (the Contract terms page writes
    every widget on every rerun): the same text back; one changed value among unchanged ones
    reads back as that value, everything else as it was; an unknown key still fails."""
    import tomllib

    from core.policy import PolicyError

    text = (POLICY_DIR / "ocean_engine_2024.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    held = {"assessment_630.date": data["assessment_630"]["date"], "deposit.due_before": data["deposit"]["due_before"],
            "name": data["name"], "thresholds.regular.other": data["thresholds"]["regular"]["other"]}
    assert policy_edit.set_values(text, held) is text
    moved = dt.date(2024, 7, 1)
    edited = policy_edit.set_values(text, {**held, "assessment_630.date": moved})
    flat_before, flat_after = policy_edit._flat(data), policy_edit._flat(tomllib.loads(edited))
    assert flat_after["assessment_630.date"] == moved
    assert {k: v for k, v in flat_after.items() if k != "assessment_630.date"} == \
        {k: v for k, v in flat_before.items() if k != "assessment_630.date"}
    assert policy_edit.set_values(text, {"thresholds.regular.other": True}) != text  # a bool is not the number 1
    with pytest.raises(PolicyError, match="deposit.nope"):
        policy_edit.set_values(text, {"deposit.nope": 1})


@pytest.mark.slow  # a CLI subprocess: the full lane
def test_the_cli_evaluates_under_a_contract_file_given_with_policy(policy_2026, tmp_path):
    """`python -m core evaluate S.json --policy FILE`: the 2026 contract from a file."""
    import subprocess
    import sys

    case = CASES[0]
    moved = tmp_path / case.name
    moved.write_text(_shift_text(case.read_text(encoding="utf-8")), encoding="utf-8")
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-m", "core", "evaluate", str(moved), "--policy", str(policy_2026)],
                         capture_output=True, text=True, cwd=root, timeout=300)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    expected = json.loads(case.with_name(case.stem + ".expected.json").read_text(encoding="utf-8"))
    assert out["as_of"].startswith("2026-") and out["policy"] == "ocean_engine_2026"
    assert _outcome(out) == _outcome({**expected, **{k: out[k] for k in out if k not in expected}})
    unknown = subprocess.run([sys.executable, "-m", "core", "evaluate", str(moved), "--policy", "no_such_contract"],
                             capture_output=True, text=True, cwd=root, timeout=300)
    assert unknown.returncode == 2 and "no_such_contract" in unknown.stderr


def test_every_number_of_the_contract_can_be_edited_and_the_engine_uses_it():
    """The Contract terms page's generic grid: LOCAL rates, deduction bands, listed-customer
    thresholds, credit timing and the 630 modifiers are all editable numbers; an edit is
    what the engine evaluates, and a bad one names its key."""
    from core.policy import PolicyError, parse_policy
    from tests.conftest import row, rows, terms

    text = (POLICY_DIR / "ocean_engine_2024.toml").read_text(encoding="utf-8")
    keys = {n.key for n in policy_edit.numbers(text)}
    assert {"rates.local.A[1]", "deposit.deduction.new[0].min_completion", "deposit.deduction.regular[0].deduct",
            "shortfall_zeroing.listed_class_e_below", "credit_timing.expiry_days", "credit_timing.objection_window_days.Q3",
            "assessment_630.rate_reduction", "rates.traffic_ecommerce_cap_class"} <= keys
    assert not any(k.startswith(("readings", "name", "title", "specific_networks")) for k in keys)
    edited = policy_edit.with_numbers(text, {"rates.local.B1[1]": "0.03", "credit_timing.expiry_days": "60",
                                             "deposit.deduction.new[0].min_completion": "0.85",
                                             "assessment_630.rate_reduction": "0.010"})  # 0.010 == 0.01: left alone
    assert {c.key for c in policy_edit.changes(text, edited)} == {
        "rates.local.B1", "credit_timing.expiry_days", "deposit.deduction.new[0].min_completion"}
    assert "# §6 / III.8: credit timing and expiry." in edited
    p = parse_policy(edited)
    assert p.credit_timing.expiry_days == 60
    spend = rows(row("2024-02-01", 10_000_000, platform="local", industry_class="B1", business_model="brand"))
    before = evaluate(spend, terms(), load_policy("ocean_engine_2024"), None).pre_return_fen[0]
    after = evaluate(spend, terms(), p, None).pre_return_fen[0]
    assert (before, after) == (10_000_000 * 47 // 1000 * 100, 10_000_000 * 57 // 1000 * 100)  # 2.7 % + 2 % -> + 3 %
    with pytest.raises(PolicyError, match="credit_timing.expiry_days"):
        policy_edit.with_numbers(text, {"credit_timing.expiry_days": "ninety"})
    with pytest.raises(PolicyError, match="credit_timing.expiry_days"):
        policy_edit.with_numbers(text, {"credit_timing.expiry_days": "90.5"})
    with pytest.raises(PolicyError, match="assessment_630.date"):
        policy_edit.with_numbers(text, {"assessment_630.date": "June 30"})
    with pytest.raises(PolicyError, match="no_such"):
        policy_edit.with_numbers(text, {"no_such.key": "1"})


def test_the_pages_generic_grid_writes_back_only_what_the_user_changed():
    from ui.terms import other_numbers, with_other_numbers

    text = (POLICY_DIR / "ocean_engine_2024.toml").read_text(encoding="utf-8")
    grid = other_numbers(text, "zh")
    assert "deposit.rate" not in grid.index and not any(k.startswith("thresholds.") for k in grid.index)  # own widgets
    assert grid.loc["credit_timing.expiry_days"].iloc[0] == "返货到账时间 · 返货有效期（天）"
    from tests.ui_text import english_words

    labels = [label.replace("shortfall", "") for label in grid.iloc[:, 0]]  # "shortfall" is the value one types
    assert not [label for label in labels if english_words(label)]  # business models, special industries in 中文
    assert with_other_numbers(text, grid) == text  # nothing typed, nothing changed (comments and layout kept)
    grid.loc["deposit.deduction.regular[0].min_completion", grid.columns[1]] = "0.75"
    edited = with_other_numbers(text, grid)
    assert [c.key for c in policy_edit.changes(text, edited)] == ["deposit.deduction.regular[0].min_completion"]
    assert policy_edit.validated(edited, "agency_x").deposit.deduction["regular"][0].min_completion == Decimal("0.75")
