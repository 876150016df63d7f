"""Real export layouts (tests/fixtures/real/, written by tools/make_real_fixtures.py from
public field names, each with its exact truth): read right to the fen — cash per account
per quarter — or refused with the reason. Never a different number."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.ingest import read_spend_file
from core.policy import load_policy
from core.problems import InputError
from tests.conftest import examples

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
    for expected in TRUTH[name].get("warnings", []):  # and the reason is said (formulas saved without results)
        assert expected in {p.code for p in parsed.warnings}, expected


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


# Random layouts from a known truth: the counted cash equals the truth, or the file is refused.
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

DATE_HEADERS = ["日期", "stat_datetime", "dimensions.stat_time_day", "数据日期", "date"]
ID_HEADERS = ["账户ID", "advertiser_id", "dimensions.advertiser_id", "账户id", "local_account_id", "千川账户ID"]
UNITS = {"(元)": 0, "(万元)": 4, "(千元)": 3, "(分)": -2, " (k RMB)": 3, "(千分之一分)": -5, "": 0}


def _in_unit(fen: int, exponent: int) -> str:
    """fen written exactly in a unit of 10**exponent RMB."""
    from decimal import Decimal

    return format((Decimal(fen) / 100).scaleb(-exponent).normalize(), "f")


@st.composite
def layout(draw):
    n_acc = draw(st.integers(1, 3))
    accounts = [f"17900000{i:02d}" for i in range(1, n_acc + 1)]
    days = draw(st.lists(st.dates(min_value=__import__("datetime").date(2024, 1, 1), max_value=__import__("datetime").date(2024, 12, 31)),
                         min_size=1, max_size=6, unique=True))
    rows = [(d, a, draw(st.integers(0, 10**10)), draw(st.integers(0, 10**8))) for d in days for a in accounts]
    split = draw(st.sampled_from(["total", "parts", "parts_no_total", "prepaid_credit"]))
    unit = draw(st.sampled_from(list(UNITS)))
    totals = draw(st.booleans())
    title = draw(st.booleans())
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    sep = draw(st.sampled_from([",", "\t"]))
    date_h, id_h = draw(st.sampled_from(DATE_HEADERS)), draw(st.sampled_from(ID_HEADERS))
    e = UNITS[unit]
    if split == "total":  # one amount column: it is all cash
        header = [date_h, id_h, f"消耗{unit}"]
        body = [[str(d), a, _in_unit(c, e)] for d, a, c, g in rows]
        truth = {(a, d): c for d, a, c, g in rows}
    elif split == "parts":
        header = [date_h, id_h, f"总消耗{unit}", f"非赠款消耗{unit}", f"赠款消耗{unit}"]
        body = [[str(d), a, _in_unit(c + g, e), _in_unit(c, e), _in_unit(g, e)] for d, a, c, g in rows]
        truth = {(a, d): c for d, a, c, g in rows}
    elif split == "parts_no_total":
        header = [date_h, id_h, f"非赠款消耗{unit}", f"赠款消耗{unit}"]
        body = [[str(d), a, _in_unit(c, e), _in_unit(g, e)] for d, a, c, g in rows]
        truth = {(a, d): c for d, a, c, g in rows}
    else:
        header = [date_h, id_h, f"总消耗{unit}", f"赠款消耗{unit}", f"预付消耗{unit}", f"授信消耗{unit}"]
        body = [[str(d), a, _in_unit(c + g, e), _in_unit(g, e), _in_unit(c // 2, e), _in_unit(c - c // 2, e)] for d, a, c, g in rows]
        truth = {(a, d): c for d, a, c, g in rows}
    if totals:
        body.append(["合计", "", *[""] * (len(header) - 2)])
        body.insert(0, [str(days[0]), "当日合计", *[body[0][2]] * (len(header) - 2)])
    lines = ([f"报表{sep}2024"] if title else []) + [sep.join(header)] + [sep.join(map(str, r)) for r in body]
    return "\n".join(lines).encode(encoding), truth


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layout())
def test_random_layouts_count_the_truth_or_are_refused(case):
    from core.columns import map_headers
    from core.ingest import prepare_spend, read_table_in_process

    data, truth = case
    try:
        table = read_table_in_process(data, "random.csv")
        parsed, _ = prepare_spend(table, map_headers(table.headers), POLICY)
    except InputError:
        return  # refused with a reason: allowed
    if parsed.errors:
        assert parsed.rows.empty or parsed.errors, "refused rows are named"
        return
    cash = parsed.rows[parsed.rows["funding"].astype(str) == "cash"]
    got = {(str(a), d.date()): int(f) for (a, d), f in cash.groupby(["account_id", "date"])["amount_fen"].sum().items() if f}
    want = {k: v for k, v in truth.items() if v}
    assert got == want


@pytest.mark.parametrize("name", sorted(n for n, t in TRUTH.items() if "cash" in t))
def test_what_is_stored_is_what_is_evaluated(name, tmp_path):
    """Import each real layout the way the Data page does (rows + the accounts it
    introduces, one transaction), then evaluate the stored rows: none is refused later and
    the cash is still the truth."""
    import hashlib

    from core.accounts import accounts_of_upload, classified_spend
    from core.columns import map_headers
    from core.ingest import canonical_cells, prepare_spend, read_table
    from store import repo
    from store.db import get_engine

    engine = get_engine(f"sqlite:///{tmp_path / 'stored.db'}")
    client = repo.create_client(engine, name, {"target_amount": 1000000, "customer_type": "regular"})
    data = (REAL / name).read_bytes()
    table = read_table(data, name)
    mapping = map_headers(table.headers)
    parsed, given = prepare_spend(table, mapping, POLICY)
    accounts = accounts_of_upload(parsed.rows, given, canonical_cells(table, mapping)[0])
    repo.import_batch(engine, client.id, name, hashlib.sha256(data).hexdigest(), parsed.rows, given, new_accounts=accounts)
    stored = classified_spend(repo.load_rows(engine, client.id), repo.get_classification(engine, client.id))
    assert not stored.errors, [p.one_line() for p in stored.errors[:3]]
    assert len(stored.rows) == len(parsed.rows)
    assert cash_by_account_quarter(stored.rows) == TRUTH[name]["cash"]
    classes = repo.get_classification(engine, client.id)
    from core.spend import NETWORKS, PLACEMENTS, PLATFORMS
    assert set(classes["platform"]) <= set(PLATFORMS) and set(classes["network"]) <= set(NETWORKS)
    assert set(classes["placement"]) <= set(PLACEMENTS)


def test_an_import_with_warnings_shows_a_badge_on_every_page():
    """Warnings reach every user: the Data page shows them before the import, and after
    it every page of that client carries a badge with their count."""
    import uuid

    from streamlit.testing.v1 import AppTest

    from core.i18n import t
    from store import repo
    from store.db import database_url, get_engine
    from store.demo import ensure_demo

    engine = get_engine(database_url())
    ensure_demo(engine)
    client = repo.create_client(engine, f"badge {uuid.uuid4().hex[:6]}", {"target_amount": 1000000, "customer_type": "regular"})
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "streamlit_app.py"), default_timeout=90)
    at.session_state["lang"] = "en"
    at.session_state["client"] = client.id
    at.run()
    at.switch_page("pages/data.py").run()
    at.file_uploader[0].set_value(("daily_report_with_totals.csv", (REAL / "daily_report_with_totals.csv").read_bytes(), "text/csv")).run()
    warned = int(next(m.value for m in at.metric if m.label == t("data.warnings", "en")))
    assert warned >= 11  # ten 当日合计 rows, the 总计 row, the platform default
    next(b for b in at.button if b.label == t("data.import", "en")).click().run()
    assert not at.exception
    assert repo.data_warnings(engine, client.id) == warned
    for page in ("pages/overview.py", "pages/checkpoints.py"):
        at.switch_page(page).run()
        assert any(f"{warned} reader warnings" in m.value for m in at.markdown), page


def test_the_user_can_choose_another_sheet_of_a_workbook():
    from core.ingest import read_table

    data = (REAL / "hidden_outdated_sheet.xlsx").read_bytes()
    table = read_table(data, "hidden_outdated_sheet.xlsx")
    assert table.sheet == "消耗" and table.sheets == ("消耗",)  # the hidden one is not offered
    monthly = read_table((REAL / "monthly_sheets.xlsx").read_bytes(), "monthly_sheets.xlsx")
    assert len(monthly.sheets) == 5 and monthly.sheet.count(",") == 4
    one = read_table((REAL / "monthly_sheets.xlsx").read_bytes(), "monthly_sheets.xlsx", sheet="3月")
    assert one.sheet == "3月" and len(one.cells) == 6


def test_a_workbook_with_no_known_header_goes_to_the_mapping_step():
    import io

    import openpyxl

    from core.columns import map_headers
    from core.ingest import read_table

    wb = openpyxl.Workbook()
    wb.active.append(["Tag", "Konto", "Kosten"])
    wb.active.append(["2024-03-01", "1790000001", 12.5])
    buf = io.BytesIO()
    wb.save(buf)
    table = read_table(buf.getvalue(), "foreign.xlsx")
    assert table.headers == ["Tag", "Konto", "Kosten"]
    assert set(map_headers(table.headers).unmapped) == {"Tag", "Konto", "Kosten"}  # the user maps them
    remembered = {"Tag": "date", "Konto": "account_id", "Kosten": "amount"}
    parsed = __import__("core.ingest", fromlist=["prepare_spend"]).prepare_spend(table, map_headers(table.headers, remembered), POLICY)[0]
    assert parsed.rows["amount_fen"].tolist() == [1250]


def test_a_decimal_comma_in_a_funding_part_column_is_refused_not_read_100_times_too_big():
    """Parts are parsed before validation; a '1234,56' there must reach the validator's
    decimal-comma refusal, not become 123,456.00 on the way."""
    from core.columns import map_headers
    from core.ingest import prepare_spend, read_table_in_process

    data = "日期;账户ID;非赠款消耗;赠款消耗\n2024-03-01;1790000001;1234,56;10,00\n".encode()
    table = read_table_in_process(data, "parts_comma.csv")
    parsed, _ = prepare_spend(table, map_headers(table.headers), POLICY)
    assert parsed.rows.empty and {p.code for p in parsed.errors} == {"european"}
