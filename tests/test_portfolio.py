"""Portfolio mode: every client's row equals that client's own evaluation; readers agree."""
from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import ingest
from core.evaluation import evaluate, evaluation_of
from core.ledger import bucket_pre_return_shares, consume, credits, daily_use
from core.policy import QUARTERS
from core.portfolio import (
    portfolio_totals,
    read_clients,
    read_portfolio_spend,
    run_portfolio,
)
from core.problems import InputError
from tests.conftest import examples
from tools.portfolio_data import portfolio

ROOT = Path(__file__).resolve().parents[1]


def csv_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pv.write_csv(table, buf)
    return buf.getvalue()


def files(clients: int, accounts: int, seed: int, paid: list[str] | None = None,
          framework: list[bool] | None = None) -> tuple[bytes, bytes]:
    c, s = portfolio(clients, accounts, seed)
    if paid is not None:
        c = c.set_column(c.schema.get_field_index("deposit_paid_on"), "deposit_paid_on", pa.array(paid))
    if framework is not None:
        c = c.append_column("non_bidding_framework", pa.array(["true" if f else "false" for f in framework]))
    return csv_bytes(c), csv_bytes(s)


def own_expiring(mine: pd.DataFrame, client, policy, as_of: dt.date, window: int = 30) -> int:
    """The single-client ledger, as the Returns page computes it without a forecast."""
    ev = evaluate(mine, client.terms, policy, as_of)
    ledger = consume(credits(dict(zip(QUARTERS, ev.credited_fen)), bucket_pre_return_shares(mine, client.terms, policy), policy),
                     daily_use(mine, pd.DataFrame(columns=["date", "bucket", "fen"]), as_of), as_of)
    soon = (ledger["expiry"] >= as_of) & (ledger["expiry"] <= as_of + dt.timedelta(days=window)) \
        & (ledger["credit_date"] <= as_of)
    return int(ledger.loc[soon, "balance_at_as_of_fen"].sum())


@settings(max_examples=examples(12), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_clients=st.integers(1, 4),
    as_of=st.dates(dt.date(2024, 3, 1), dt.date(2025, 1, 15)),
    paid=st.lists(st.sampled_from(["2024-01-10", "2024-02-20", "2024-05-10", "2024-08-01", ""]), min_size=4, max_size=4),
    framework=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_portfolio_equals_each_clients_own_evaluation(policy, seed, n_clients, as_of, paid, framework):
    clients_csv, spend_csv = files(n_clients, n_clients + 3, seed, paid[:n_clients], framework[:n_clients])
    clients = read_clients(clients_csv, "clients.csv", policy)
    spend = read_portfolio_spend(spend_csv, "spend.csv", policy)
    run = run_portfolio(clients, spend, policy, as_of)
    rows = spend.rows
    totals = portfolio_totals(rows, clients, policy, as_of)
    for i, c in enumerate(clients):
        mine = rows[rows["client"] == c.client].drop(columns=["client"]).reset_index(drop=True)
        own = evaluate(mine, c.terms, policy, as_of)
        rec = run.table.iloc[i]
        assert (rec["client"], rec["actual_fen"], rec["target_fen"]) == (c.client, own.actual_fen, own.target_fen)
        assert rec["assessment_630"] == own.assessment_630 and rec["assessment_930"] == own.assessment_930
        assert rec["credited_fen"] == sum(own.credited_fen) and rec["pre_return_fen"] == sum(own.pre_return_fen)
        assert rec["final_return_fen"] == own.final_return_fen and rec["deposit_deducted_fen"] == own.deposit_deducted_fen
        assert rec["expiring_30d_fen"] == own_expiring(mine, c, policy, as_of)
        assert evaluation_of(totals.totals.path(i), totals.readings[i], c.terms, policy, as_of) == own


@pytest.mark.parametrize("as_of", [dt.date(2024, 9, 25), dt.date(2024, 10, 18), dt.date(2024, 12, 31)])
def test_expiring_balances_by_fifo_walk_equal_the_merge(policy, monkeypatch, as_of):
    """The per-client FIFO walk (taken when credit windows overlap) and the one-merge
    shortcut agree whenever windows do not overlap: the walk is forced here."""
    from core import portfolio as pf

    clients_csv, spend_csv = files(3, 8, 21)
    clients = read_clients(clients_csv, "clients.csv", policy)
    rows = read_portfolio_spend(spend_csv, "spend.csv", policy).rows
    pt = portfolio_totals(rows, clients, policy, as_of)
    evaluations = pf.evaluations_of(pt, clients, policy, as_of)
    merged = pf.expiring_balances(rows, clients, evaluations, pt.shares, policy, as_of)
    monkeypatch.setattr(pf, "pairwise", lambda live: [((dt.date.min, dt.date.max), (dt.date.min, dt.date.max))])
    walked = pf.expiring_balances(rows, clients, evaluations, pt.shares, policy, as_of)
    assert walked.tolist() == merged.tolist()
    assert merged.sum() > 0  # balances really expire in the window: the comparison is not 0 == 0


def test_clients_file_in_chinese_with_gbk_and_a_title_line(policy):
    text = ("2024年返货协议客户清单\n协议编号,客户名称,年度目标,客户类型,保证金缴纳日期\n"
            "K1,济南富达,\"12,000,000\",老客户,2024/2/20\nK2,青岛海岳,800万,新客户,\n")
    clients = read_clients(text.encode("gb18030"), "客户.csv", policy)
    assert [c.client for c in clients] == ["K1", "K2"]
    assert clients[0].name == "济南富达" and clients[0].terms.target_fen == 1_200_000_000
    assert clients[0].terms.customer_type == "regular" and clients[0].terms.deposit_paid_on == dt.date(2024, 2, 20)
    assert clients[1].terms.target_fen == 800_000_000 and clients[1].terms.deposit_paid_on is None


@pytest.mark.parametrize("text, message", [
    ("client,target_amount,customer_type\nK1,abc,regular\n", "clients.csv: row 2, column target_amount: cannot read 'abc'"),
    ("client,target_amount,customer_type\nK1,100,vip\n", "clients.csv: row 2, column customer_type: cannot read 'vip'"),
    ("client,target_amount,customer_type\nK1,100,new\nK1,200,new\n", "clients.csv: row 3, column client: 'K1' appears twice"),
    ("client,target_amount,customer_type\nK1,-5,new\n", "clients.csv: row 2, column target_amount"),
    ("client,customer_type\nK1,new\n", "clients.csv: no column for target_amount"),
])
def test_bad_clients_file_names_row_and_column(policy, text, message):
    with pytest.raises(InputError) as err:
        read_clients(text.encode(), "clients.csv", policy)
    assert str(err.value).startswith(message)


def test_spend_without_client_column_is_refused(policy):
    with pytest.raises(InputError, match="no column for client"):
        read_portfolio_spend(b"date,account_id,amount\n2024-01-02,1,5\n", "spend.csv", policy)


def test_columnar_csv_and_parquet_read_the_same_rows_as_the_row_reader(policy, monkeypatch):
    _, spend = portfolio(3, 6, 11)
    data = csv_bytes(spend)
    slow = read_portfolio_spend(data, "spend.csv", policy).rows
    monkeypatch.setattr(ingest, "COLUMNAR_BYTES", 0)
    assert ingest._read_csv_columnar(data, "spend.csv", "columns") is not None  # the Arrow path really runs
    fast = read_portfolio_spend(data, "spend.csv", policy).rows
    buf = io.BytesIO()
    pq.write_table(spend, buf)
    parquet = read_portfolio_spend(buf.getvalue(), "spend.parquet", policy).rows
    for other in (fast, parquet):
        pd.testing.assert_frame_equal(slow.astype({"client": object}), other.astype({"client": object}), check_categorical=False)


def test_columnar_reader_falls_back_with_the_row_readers_message(policy, monkeypatch):
    monkeypatch.setattr(ingest, "COLUMNAR_BYTES", 0)
    data = b"client,date,account_id,platform,network,bidding,industry_class,business_model,amount\n" \
           b"K1,2024-01-02,1,ocean_ads,douyin,true,A,brand,\"1,234.50\"\nK1,2024-01-03,1,ocean_ads,douyin,true,A,brand,abc\n"
    parsed = read_portfolio_spend(data, "spend.csv", policy)
    assert parsed.rows["amount_fen"].tolist() == [123450]
    assert [(p.row, p.column) for p in parsed.errors] == [(3, "amount")]


@pytest.mark.parametrize("text_type", [pa.string(), pa.large_string()])
def test_parquet_amounts_stay_text_and_read_like_the_csv_row_reader(policy, text_type):
    """The amount column of a Parquet file is not dictionary-encoded (nearly every cell is
    distinct); its values, a thousands separator and a bad cell included, read exactly as the
    same rows in a CSV, with the same error row and column."""
    csv = b"client,date,account_id,platform,network,bidding,industry_class,business_model,amount\n" \
          b"K1,2024-01-02,1,ocean_ads,douyin,true,A,brand,\"1,234.50\"\nK1,2024-01-03,1,ocean_ads,douyin,true,A,brand,abc\n" \
          b"K1,2024-01-04,1,ocean_ads,douyin,true,A,brand,0.01\n"
    table = pv.read_csv(io.BytesIO(csv), convert_options=pv.ConvertOptions(
        column_types={c: text_type for c in csv.split(b"\n")[0].decode().split(",")}))
    buf = io.BytesIO()
    pq.write_table(table, buf)
    raw = ingest.read_table_in_process(buf.getvalue(), "spend.parquet")
    assert not isinstance(raw.cells["amount"].dtype, pd.CategoricalDtype)
    assert isinstance(raw.cells["platform"].dtype, pd.CategoricalDtype)
    from_parquet = read_portfolio_spend(buf.getvalue(), "spend.parquet", policy)
    from_csv = read_portfolio_spend(csv, "spend.csv", policy)
    assert from_parquet.rows["amount_fen"].tolist() == from_csv.rows["amount_fen"].tolist() == [123450, 1]
    assert [(p.row, p.column) for p in from_parquet.errors] == [(p.row, p.column) for p in from_csv.errors] == [(3, "amount")]


@pytest.mark.parametrize("data", [b"", b"\n", b"\xef\xbb\xbf", b"k"])
def test_columnar_reader_hands_headless_files_to_the_row_reader(data):
    """Found by atheris: an empty head crashed the Arrow path instead of falling back."""
    assert ingest._read_csv_columnar(data, "spend.csv", "columns") is None


@pytest.mark.slow  # a subprocess CLI run: the full lane
def test_cli_portfolio_writes_excel_and_json(tmp_path):
    c, s = files(3, 5, 4)
    (tmp_path / "clients.csv").write_bytes(c)
    (tmp_path / "spend.csv").write_bytes(s)
    base = [sys.executable, "-m", "core", "portfolio", str(tmp_path / "clients.csv"), str(tmp_path / "spend.csv"),
            "--as-of", "2024-09-30"]
    out = subprocess.run(base, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["clients"] == 3 and len(result["results"]) == 3
    assert {r["client"] for r in result["results"]} == {"K0", "K1", "K2"}
    xl = subprocess.run(base + ["--out", str(tmp_path / "r.xlsx")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert xl.returncode == 0, xl.stderr
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["Portfolio"]
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    assert "completion_rate" in header and sheet.max_row == 4
    bad = subprocess.run(base[:4] + [str(tmp_path / "spend.csv"), str(tmp_path / "spend.csv")], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error: spend.csv: no column for target_amount")


def test_projection_columns_and_risk(policy):
    c, s = files(2, 4, 9)
    clients = read_clients(c, "clients.csv", policy)
    run = run_portfolio(clients, read_portfolio_spend(s, "spend.csv", policy), policy, dt.date(2024, 9, 30), project=True)
    t = run.table
    assert {"p_target_met", "p_deposit_deduction", "deposit_at_risk_fen"} <= set(t.columns)
    assert t["p_target_met"].between(0, 1).all() and set(t["risk"]) <= {"red", "amber", "green"}
    assert (np.asarray(t["deposit_at_risk_fen"]) <= np.asarray(t["deposit_fen"])).all()


def test_projection_from_the_runs_totals_equals_projection_from_each_clients_rows(policy):
    """The portfolio hands each client's totals to the projection instead of applying the
    row rules again; the Monte-Carlo outcome must be the same to the fen."""
    from core.portfolio import project_portfolio

    c, s = files(3, 6, 5)
    clients = read_clients(c, "clients.csv", policy)
    spend = read_portfolio_spend(s, "spend.csv", policy)
    day = dt.date(2024, 8, 20)
    run = run_portfolio(clients, spend, policy, day)
    assert project_portfolio(spend.rows, clients, policy, day, paths=200, actual=run.totals) == \
        project_portfolio(spend.rows, clients, policy, day, paths=200)


@pytest.mark.slow  # a subprocess CLI run: the full lane
def test_every_red_or_amber_row_says_why_and_no_green_row_does():
    """Every red has a reason (the list said nothing while 149 of 150 demo clients were red
    at year end); the reasons follow the same tests as the risk level."""
    import datetime as dt

    from conftest import demo_portfolio_table

    for day in (dt.date(2024, 6, 30), dt.date(2024, 9, 30), dt.date(2024, 12, 31)):
        table = demo_portfolio_table(day)
        flagged = table["risk"] != "green"
        assert table.loc[flagged, "reasons"].map(len).gt(0).all(), day
        assert table.loc[~flagged, "reasons"].map(len).eq(0).all(), day
    year_end = demo_portfolio_table(dt.date(2024, 12, 31))
    lost = year_end[year_end["deposit_deducted_fen"] > 0]
    assert lost["reasons"].map(lambda r: any(c.startswith("year_end_") or c == "deposit_deducted" for c in r)).all()


def test_a_client_whose_data_ends_early_shows_its_data_end_and_is_flagged_stale(policy):
    c, s = files(2, 4, 9)
    clients = read_clients(c, "clients.csv", policy)
    spend = read_portfolio_spend(s, "spend.csv", policy)
    rows = spend.rows
    cut = rows[~((rows["client"] == "K1") & (rows["date"] > pd.Timestamp("2024-09-15")))].reset_index(drop=True)
    from dataclasses import replace as dc_replace

    day = dt.date(2024, 9, 30)
    table = run_portfolio(clients, dc_replace(spend, rows=cut), policy, day).table.set_index("client")
    assert table.loc["K1", "data_end"] == dt.date(2024, 9, 15) and "stale_data" in table.loc["K1", "reasons"]
    assert table.loc["K0", "data_end"] == dt.date(2024, 12, 30) and "stale_data" not in table.loc["K0", "reasons"]
    assert table.loc["K1", "risk"] != "green"
    # a week of lag is normal (exports arrive a few days late): not flagged
    week = run_portfolio(clients, dc_replace(spend, rows=cut), policy, dt.date(2024, 9, 22)).table.set_index("client")
    assert "stale_data" not in week.loc["K1", "reasons"]


@pytest.mark.slow
def test_the_dask_engine_gives_the_in_process_table_on_a_local_cluster_and_through_a_scheduler(tmp_path):
    """Beyond one machine: the demo portfolio's table from Dask tasks (rows as Parquet
    partitioned by client) equals the in-process table row for row — from the function on a
    LocalCluster, and from `python -m core portfolio --engine dask --scheduler ADDRESS`
    against a running scheduler, byte for byte the JSON the pandas engine writes."""
    from distributed import LocalCluster

    from core.policy import load_policy
    from core.portfolio_dask import portfolio_on_dask, write_partitioned
    from store.demo import DEMO_DIR

    policy = load_policy("ocean_engine_2024")
    clients = read_clients((DEMO_DIR / "portfolio_clients.csv").read_bytes(), "portfolio_clients.csv", policy)
    spend = read_portfolio_spend((DEMO_DIR / "portfolio_spend.parquet").read_bytes(), "portfolio_spend.parquet", policy)
    day = dt.date(2024, 9, 30)
    assert {p.name.split("=")[0] for p in write_partitioned(spend.rows, tmp_path / "parts").iterdir()} == {"client"}
    pd.testing.assert_frame_equal(portfolio_on_dask(clients, spend, policy, day), run_portfolio(clients, spend, policy, day).table,
                                  check_dtype=False, check_categorical=False)
    root = Path(__file__).resolve().parents[1]
    args = [sys.executable, "-m", "core", "portfolio", str(DEMO_DIR / "portfolio_clients.csv"),
            str(DEMO_DIR / "portfolio_spend.parquet"), "--as-of", "2024-09-30"]
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        dask = subprocess.run([*args, "--engine", "dask", "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "d.json")],
                              capture_output=True, text=True, cwd=root, timeout=280)
    assert dask.returncode == 0, dask.stderr[-2000:]
    plain = subprocess.run([*args, "--out", str(tmp_path / "p.json")], capture_output=True, text=True, cwd=root, timeout=280)
    assert plain.returncode == 0 and (tmp_path / "d.json").read_bytes() == (tmp_path / "p.json").read_bytes()
