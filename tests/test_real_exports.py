"""Real export layouts (tests/fixtures/real/, written by tools/make_real_fixtures.py from
public field names, each with its exact truth): read right to the fen — cash per account
per quarter — or refused with the reason. Never a different number."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.ingest import read_spend_file
from core.policy import load_policy
from core.validation import InputError

REAL = Path(__file__).resolve().parent / "fixtures" / "real"
TRUTH = json.loads((REAL / "truth.json").read_text(encoding="utf-8"))
POLICY = load_policy()


def cash_by_account_quarter(rows) -> dict[str, dict[str, int]]:
    cash = rows[rows["funding"].astype(str) == "cash"]
    out: dict[str, dict[str, int]] = {}
    for (acc, q), fen in cash.groupby([cash["account_id"].astype(str), cash["date"].dt.quarter])["amount_fen"].sum().items():
        out.setdefault(acc, {})[f"Q{q}"] = int(fen)
    return out


def test_at_least_fifteen_real_layouts_and_every_file_has_its_truth():
    files = sorted(p.name for p in REAL.iterdir() if p.name != "truth.json")
    assert files == sorted(TRUTH) and len([f for f in files if "cash" in TRUTH[f]]) >= 15


@pytest.mark.parametrize("name", sorted(n for n, t in TRUTH.items() if "cash" in t))
def test_each_real_layout_counts_the_true_cash_to_the_fen(name):
    parsed = read_spend_file(REAL / name, POLICY)
    assert not parsed.errors, [p.one_line() for p in parsed.errors[:3]]
    assert cash_by_account_quarter(parsed.rows) == TRUTH[name]["cash"]
    codes = {p.code for p in parsed.warnings}
    for expected in TRUTH[name]["warnings"]:
        assert expected in codes, (expected, codes)
    if "platform" in TRUTH[name]:
        assert set(parsed.rows["platform"].astype(str)) == {TRUTH[name]["platform"]}


@pytest.mark.parametrize("name", sorted(n for n, t in TRUTH.items() if "refused" in t))
def test_layouts_that_would_be_misread_are_refused_with_the_reason(name):
    try:
        parsed = read_spend_file(REAL / name, POLICY)
    except InputError as exc:
        problem = exc.problems[0]
        assert problem.code == TRUTH[name]["refused"], problem.one_line()
        assert problem.source == name and ("export" in problem.message or "rename" in problem.message.lower()
                                           or "write" in problem.message)
        return
    codes = {p.code for p in parsed.errors}  # or every row is refused by name (a decimal comma)
    assert TRUTH[name]["refused"] in codes and parsed.rows.empty, codes


def test_the_cli_prints_each_warning_to_stderr_and_strict_refuses(tmp_path):
    import contextlib
    import io

    from core.cli import main as cli

    scenario = Path(__file__).resolve().parents[1] / "data" / "demo" / "client.json"
    spend = REAL / "daily_report_with_totals.csv"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert cli(["evaluate", str(scenario), "--spend", str(spend)]) == 0
    lines = err.getvalue().splitlines()
    assert lines and all(line.startswith("warning: daily_report_with_totals.csv, ") for line in lines[:10])
    assert any("summary row" in line for line in lines)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert cli(["evaluate", str(scenario), "--spend", str(spend), "--strict"]) == 2
    assert "error: --strict" in err.getvalue()
