"""Spend files: the fixtures corpus gives exactly these results and messages; fuzzed bytes
and cells only ever raise the project's own InputError."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.columns import map_headers
from core.ingest import prepare_spend, read_table, read_table_in_process
from core.parsing import parse_amount_fen, parse_dates
from core.policy import load_policy
from core.problems import InputError
from tools.make_fixtures import BAD, outcome

FIX = Path(__file__).parent / "fixtures"
POLICY = load_policy()


def load(path: Path):
    table = read_table(path.read_bytes(), path.name)
    return prepare_spend(table, map_headers(table.headers), POLICY)


@pytest.mark.parametrize(
    "name,rows,total_fen,given",
    [
        ("ocean_report_gbk.csv", 3, 423_500, {"customer", "platform", "network"}),
        ("fund_split_bom.csv", 4, 205_000, {"funding"}),
        ("semicolon_timestamps.csv", 2, 246_912, set()),
        ("tab_wan.tsv", 2, 12_800_000, set()),
        ("export.xlsx", 2, 400_075, set()),
    ],
)
def test_good_files_load_with_no_manual_step(name, rows, total_fen, given):
    parsed, fields = load(FIX / "good" / name)
    assert not parsed.errors, parsed.errors
    assert len(parsed.rows) == rows and int(parsed.rows["amount_fen"].sum()) == total_fen
    assert given <= set(fields) and {"date", "account_id", "amount"} <= set(fields)
    assert parsed.rows["date"].min() == pd.Timestamp("2024-01-05")


def test_gbk_report_maps_chinese_platform_and_network_values():
    parsed, _ = load(FIX / "good" / "ocean_report_gbk.csv")
    assert list(parsed.rows["platform"]) == ["ocean_ads", "local", "ocean_ads"]
    assert set(parsed.rows["network"]) == {"douyin"}
    assert parsed.rows["customer"].iat[0] == "济南富达食品有限公司"
    assert list(parsed.rows["source_row"]) == [4, 5, 6]  # file lines, after the title and blank line


def test_fund_statement_splits_cash_grant_and_return():
    parsed, _ = load(FIX / "good" / "fund_split_bom.csv")
    by = parsed.rows.groupby("funding", observed=True)["amount_fen"].sum().to_dict()
    assert by == {"cash": 180_000, "grant": 5_000, "return": 20_000}


@pytest.mark.parametrize("name", sorted(BAD))
def test_every_bad_file_gets_its_message(name):
    """The corpus of tools/make_fixtures.py: each file's exact outcome (and the README table)."""
    expected = BAD[name][1]
    got = outcome(FIX / "bad" / name)
    assert got[0] == expected[0], got
    if expected[0] == "ok":
        assert got == expected
    else:
        assert got[1:-1] == expected[1:-1], got
        assert str(got[-1]).startswith(str(expected[-1])), got
    if expected[0] in ("file", "row"):
        assert "Traceback" not in str(got)


def test_the_corpus_has_at_least_30_files_and_the_readme_lists_each():
    assert len(BAD) >= 30
    readme = (FIX.parents[1] / "README.md").read_text(encoding="utf-8")
    for name in BAD:
        assert f"`{name}`" in readme, name


def test_bad_values_are_reported_by_row_and_column_and_left_out():
    parsed, _ = load(FIX / "bad" / "bad_values.csv")
    got = [(p.row, p.column, p.value) for p in parsed.errors]
    assert got == [(2, "date", "2024-13-01"), (3, "amount", "一百元"), (4, "amount", "-5"), (5, "platform", "火星广告")]
    assert len(parsed.rows) == 1 and parsed.rows["source_row"].iat[0] == 6


def test_duplicates_and_gaps_are_warnings():
    days = pd.date_range("2024-03-01", periods=20, freq="D").strftime("%Y-%m-%d").tolist()
    lines = ["日期,账户ID,消耗"] + [f"{d},7,100" for d in days if d != "2024-03-10"] + ["2024-03-02,7,100"]
    table = read_table("\n".join(lines).encode(), "gaps.csv")
    parsed, _ = prepare_spend(table, map_headers(table.headers), POLICY)
    msgs = [(p.severity, p.column, p.value) for p in parsed.warnings]
    assert ("warning", "date", "2024-03-10") in msgs
    assert any("duplicate" in p.message and p.row == 21 for p in parsed.warnings)


def test_a_far_future_typo_date_is_a_warning_not_a_crash():
    """Found by atheris: a year like 5905 overflowed the gap check's (account, day) key."""
    text = "时间,广告主ID,现金消耗\n5905/1/5,1790000001,1000.0\n2024/1/6,179,200.00\n"
    table = read_table(text.encode(), "typo.csv")
    parsed, _ = prepare_spend(table, map_headers(table.headers), POLICY)
    assert [(p.row, p.column, p.code) for p in parsed.warnings] == [(None, "platform", "platform_defaulted"),
                                                                    (2, "date", "outside_year")]
    assert parsed.rows["amount_fen"].tolist() == [100_000, 20_000]


def test_100k_rows_load_exactly():
    n = 100_000
    rng = np.random.default_rng(1)
    fen = rng.integers(0, 10_000_000, n)
    frame = pd.DataFrame({"日期": "2024-05-01", "账户ID": rng.integers(1, 500, n), "消耗": [f"{f // 100}.{f % 100:02d}" for f in fen]})
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    table = read_table(buf.getvalue().encode("utf-8"), "big.csv")
    parsed, _ = prepare_spend(table, map_headers(table.headers), POLICY)
    assert len(parsed.rows) == n and int(parsed.rows["amount_fen"].sum()) == int(fen.sum())


_FUZZ_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def FUZZ(test):  # noqa: N802 — reads as the decorator it is
    """Long hypothesis runs on hostile input: the fuzz lane."""
    return pytest.mark.fuzz(_FUZZ_SETTINGS(test))


@FUZZ
@given(st.binary(max_size=600), st.sampled_from(["x.csv", "x.xlsx", "x.tsv"]))
def test_arbitrary_bytes_raise_only_input_error(data, name):
    try:
        table = read_table_in_process(data, name)  # in process: the worker would turn a reader bug into a message
        prepare_spend(table, map_headers(table.headers), POLICY)
    except InputError:
        pass


@FUZZ
@given(st.lists(st.text(max_size=12), min_size=1, max_size=30))
def test_arbitrary_cells_never_crash_the_parsers(cells):
    series = pd.Series(cells, dtype=object)
    amounts = parse_amount_fen(series)
    assert amounts.fen.dtype == np.int64 and (amounts.fen >= 0).all()
    dates, ok = parse_dates(series)
    assert len(dates) == len(cells) and ok.dtype == bool


@FUZZ
@given(st.lists(st.integers(0, 10**12), min_size=1, max_size=30))
def test_amount_write_then_parse_is_the_identity(fens):
    text = pd.Series([f"{f // 100:,}.{f % 100:02d}" for f in fens], dtype=object)
    assert parse_amount_fen(text).fen.tolist() == fens
    wan = pd.Series([f"{f // 100}.{f % 100:02d}" for f in fens], dtype=object)
    assert parse_amount_fen(wan).fen.tolist() == fens


@FUZZ
@given(st.dates(min_value=pd.Timestamp("2000-01-01").date(), max_value=pd.Timestamp("2099-12-31").date()))
def test_date_write_then_parse_is_the_identity(day):
    for text in (day.isoformat(), f"{day.year}/{day.month}/{day.day}", f"{day.year}年{day.month}月{day.day}日"):
        parsed, ok = parse_dates(pd.Series([text], dtype=object))
        assert ok[0] and parsed[0] == np.datetime64(day)


@pytest.mark.parametrize("name", sorted(BAD))
def test_every_bad_file_gets_a_chinese_message_naming_the_same_place(name):
    import re

    from core.i18n import localise

    path = FIX / "bad" / name
    try:
        table = read_table(path.read_bytes(), path.name)
        parsed, _ = prepare_spend(table, map_headers(table.headers), POLICY)
        problems = list(parsed.problems)
    except InputError as exc:
        problems = exc.problems
    for p in problems[:3]:
        zh = localise(p, "zh")
        assert re.search(r"[\u4e00-\u9fff]", zh.replace(name, "")), zh  # Chinese text beyond the file name
        assert zh.startswith(name)
        if p.row is not None:
            assert f"第 {p.row} 行" in zh


@pytest.mark.fuzz
def test_coverage_guided_fuzzing_of_every_reader_finds_no_crash(tmp_path):
    """A short atheris (libFuzzer) run from the real fixtures: only InputError, never a
    traceback, and no input slower than 30 s (libFuzzer reports it with its bytes). The run
    stops after 3,000 inputs or 150 s, whichever comes first, so a slow machine shortens it
    instead of failing it. Longer runs: python -m fuzz.readers -max_total_time=600."""
    import re
    import subprocess
    import sys

    pytest.importorskip("atheris")
    run = subprocess.run([sys.executable, "-m", "fuzz.readers", "-runs=3000", "-max_total_time=150", "-timeout=30", "-seed=1",
                          f"-artifact_prefix={tmp_path}/"],
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], timeout=280, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    done = re.search(r"Done (\d+) runs", run.stderr)
    assert done and int(done.group(1)) >= 300, run.stderr[-3000:]  # a real run, not a start-up failure


# Hostile shapes (issue: the server never dies): long lines, deep or odd JSON ---------------
@FUZZ
@given(st.integers(100_000, 1_500_000), st.sampled_from([",", ";", "\t"]), st.booleans())
def test_lines_beyond_the_csv_field_limit_raise_only_input_error(length, sep, quoted):
    cell = ("x" * length) if not quoted else '"' + "y" * length + '"'
    data = f"日期{sep}账户ID{sep}消耗\n2024-01-01{sep}{cell}{sep}1\n".encode()
    try:
        table = read_table_in_process(data, "long.csv")
        prepare_spend(table, map_headers(table.headers), POLICY)
    except InputError:
        pass


_JSON_ATOMS = st.one_of(
    st.integers(-10**40, 10**40).map(str), st.sampled_from(["1e309", "1e400000000", "-1e-400", "NaN", "Infinity", "-0.0",
                                                            "0.001", "9" * 5000, '"\\ud800"', '"\\udfff x"', "null", "true"]),
    st.text(max_size=8).map(lambda s: __import__("json").dumps(s)),
)


@st.composite
def hostile_json(draw) -> bytes:
    """A scenario-shaped object with hostile values, duplicate keys, or deep nesting."""
    value = draw(_JSON_ATOMS)
    depth = draw(st.sampled_from([0, 1, 40, 5000]))
    nested = "[" * depth + value + "]" * depth
    key = draw(st.sampled_from(["target_amount", "actual_2023", "customer_type", "main_industry", "deposit_paid_on", "x"]))
    dup = ', "target_amount": 1000' if draw(st.booleans()) else ""
    return ('{"client": {"target_amount": 50000000, "customer_type": "regular", "' + key + '": ' + nested + dup + "}}").encode()


@FUZZ
@given(hostile_json())
def test_hostile_scenario_json_raises_only_input_error(data):
    from core.evaluation import evaluate
    from core.scenario import scenario_from_bytes

    try:
        s = scenario_from_bytes(data, "s.json")
        evaluate(s.spend, s.terms, s.policy, s.as_of)
    except InputError:
        pass


def test_a_previous_years_rows_are_one_summary_warning_and_are_kept():
    """An export spanning two years: the earlier year's rows are kept (they shape the
    forecast) with one warning giving their count and range, not one warning per row."""
    lines = ["日期,账户ID,消耗"] + [f"2023-{m:02d}-{d:02d},1790000001,100.00" for m in range(1, 13) for d in (1, 15)]
    lines += ["2024-01-02,1790000001,200.00"]
    table = read_table("\n".join(lines).encode(), "two_years.csv")
    parsed, _ = prepare_spend(table, map_headers(table.headers), POLICY)
    outside = [p for p in parsed.warnings if p.code.startswith("outside_year")]
    assert [(p.row, p.code, p.value, dict(p.params)["n"]) for p in outside] == [(None, "outside_year_rows", "2023-01-01 – 2023-12-15", "24")]
    assert len(parsed.rows) == 25


@pytest.mark.parametrize("text, code, zh", [
    ("日期,账户ID,消耗\n2024-01-01,1,100\n2024-01-02,1,100,5,6\n", "csv_ragged", "第 3 行有 5 个字段，而表头只有 3 个"),
    ("标题行\n日期,账户ID,消耗\n2024-01-01,1,100\n2024-01-02,1,100,5,6\n", "csv_ragged", "第 4 行有 5 个字段"),
    ("日期,账户ID,消耗\n2024-01-01,1,\"100\n2024-01-02,1,100\n", "csv_unclosed", "有引号没有闭合"),
])
def test_a_broken_csv_is_named_by_line_in_chinese_not_by_the_parsers_english(text, code, zh):
    from core.i18n import localise
    from core.ingest import read_table_in_process

    with pytest.raises(InputError) as err:
        read_table_in_process(text.encode(), "r.csv")
    problem = err.value.problems[0]
    assert problem.code == code and zh in localise(problem, "zh")
    assert "Expected" not in localise(problem, "zh")
