"""Every worked example of the spec, reproduced exactly (money to 0.01, rates to 1e-6)."""
from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from core.evaluation import evaluate
from core.scenario import load_scenario

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p for p in GOLDEN.glob("*.json") if not p.name.endswith(".expected.json"))


def _compare(expected, actual, path=""):
    if isinstance(expected, dict):
        for k, v in expected.items():
            if k == "assumptions":
                continue
            assert k in actual, f"{path}.{k} missing"
            _compare(v, actual[k], f"{path}.{k}")
    elif isinstance(expected, (int, float)) and not isinstance(expected, bool):
        tol = Decimal("0.0000005") if "rate" in path else Decimal("0.005")
        assert abs(Decimal(str(actual)) - Decimal(str(expected))) <= tol, f"{path}: {actual} != {expected}"
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def test_there_are_six_worked_examples():
    assert len(CASES) == 6


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_worked_example_in_process(case):
    expected = json.loads(case.with_name(case.stem + ".expected.json").read_text())
    s = load_scenario(case)
    out = evaluate(s.spend, s.terms, s.policy, s.as_of).to_dict(s.policy)
    _compare(expected, out)
    for text in expected["assumptions"]:
        assert text in out["assumptions"]


@pytest.mark.slow  # a CLI subprocess: the full lane
@pytest.mark.parametrize("case", CASES[:2], ids=lambda p: p.stem)
def test_worked_example_through_cli(case):
    run = subprocess.run([sys.executable, "-m", "core", "evaluate", str(case)], capture_output=True, text=True, cwd=GOLDEN.parents[1])
    assert run.returncode == 0, run.stderr
    expected = json.loads(case.with_name(case.stem + ".expected.json").read_text())
    _compare(expected, json.loads(run.stdout))
