"""The store on SQLite and (when TEST_POSTGRES_URL is set, as in CI) PostgreSQL:
imports are one transaction, replace/undo are exact, stale writers get a conflict."""
from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from core.accounts import classified_spend
from core.columns import map_headers
from core.ingest import prepare_spend, read_table
from core.policy import load_policy
from store import repo
from store.db import get_engine

POLICY = load_policy()
INPUTS = {"target_amount": 50000000, "customer_type": "regular", "main_industry": "other", "actual_2023": 0,
          "deposit_paid_on": "2024-03-01"}
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    if request.param == "sqlite":
        return get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    return get_engine(os.environ["TEST_POSTGRES_URL"])


def csv_rows(lines: list[str], name: str = "up.csv"):
    data = "\n".join(["日期,账户ID,消耗", *lines]).encode()
    table = read_table(data, name)
    parsed, given = prepare_spend(table, map_headers(table.headers), POLICY)
    return data, parsed.rows, given


def new_client(engine) -> int:
    return repo.create_client(engine, f"c-{uuid.uuid4().hex[:8]}", INPUTS).id


def total(engine, client_id) -> int:
    return int(repo.load_rows(engine, client_id)["amount_fen"].sum())


def imp(engine, client_id, data, rows, given, **kw):
    return repo.import_batch(engine, client_id, "up.csv", hashlib.sha256(data).hexdigest(), rows, given, **kw)


def test_reimporting_the_same_file_is_a_no_op(engine):
    cid = new_client(engine)
    data, rows, given = csv_rows(["2024-01-01,1,100", "2024-01-02,1,200"])
    assert imp(engine, cid, data, rows, given).status == "imported"
    again = imp(engine, cid, data, rows, given)
    assert again.status == "duplicate" and "already imported" in again.message
    assert repo.row_count(engine, cid) == 2


def test_replace_supersedes_overlapping_account_days_and_undo_restores_them(engine):
    cid = new_client(engine)
    d1, r1, g1 = csv_rows(["2024-01-01,1,100", "2024-01-02,1,200", "2024-01-02,2,50"])
    imp(engine, cid, d1, r1, g1)
    d2, r2, g2 = csv_rows(["2024-01-02,1,999", "2024-01-03,1,1"])
    assert repo.count_overlap(engine, cid, r2) == 1
    res = imp(engine, cid, d2, r2, g2, mode="replace")
    assert res.replaced_rows == 1 and total(engine, cid) == (100 + 50 + 999 + 1) * 100
    repo.undo_batch(engine, cid, res.batch_id)
    assert total(engine, cid) == (100 + 200 + 50) * 100


def test_append_keeps_both(engine):
    cid = new_client(engine)
    d1, r1, g1 = csv_rows(["2024-01-01,1,100"])
    imp(engine, cid, d1, r1, g1)
    d2, r2, g2 = csv_rows(["2024-01-01,1,7"])
    imp(engine, cid, d2, r2, g2, mode="append")
    assert total(engine, cid) == 10_700


def test_a_failure_in_the_middle_of_an_import_leaves_the_database_as_before(engine):
    cid = new_client(engine)
    d1, r1, g1 = csv_rows(["2024-01-01,1,100"])
    imp(engine, cid, d1, r1, g1)
    before_rows, before_version = repo.load_rows(engine, cid), repo.get_client(engine, cid).version
    big = [f"2024-02-{(i % 28) + 1:02d},{i},1" for i in range(12_000)] + ["2024-01-01,1,5"]
    d2, r2, g2 = csv_rows(big)
    def fail(done: int, total: int) -> None:
        if done >= 6_000:
            raise RuntimeError("simulated failure in the middle of an import")

    with pytest.raises(RuntimeError):
        imp(engine, cid, d2, r2, g2, progress=fail)
    pd.testing.assert_frame_equal(repo.load_rows(engine, cid), before_rows)
    assert repo.get_client(engine, cid).version == before_version
    assert repo.list_batches(engine, cid)["file_name"].tolist() == ["up.csv"]


def test_a_stale_writer_gets_a_conflict_not_a_lost_update(engine):
    cid = new_client(engine)
    version = repo.get_client(engine, cid).version
    repo.update_client_inputs(engine, cid, version, INPUTS | {"target_amount": 40000000}, None)
    with pytest.raises(repo.ConflictError):
        repo.update_client_inputs(engine, cid, version, INPUTS | {"target_amount": 60000000}, None)
    client = repo.get_client(engine, cid)
    assert '"target_amount": 40000000' in client.inputs_json


def test_classification_applies_to_stored_rows_and_is_audited(engine):
    cid = new_client(engine)
    data, rows, given = csv_rows(["2024-02-01,1,1000000"])
    imp(engine, cid, data, rows, given)
    repo.save_classification(engine, cid, pd.DataFrame([{"account_id": "1", "industry_class": "A"}]))
    spend = classified_spend(repo.load_rows(engine, cid), repo.get_classification(engine, cid)).rows
    assert spend["industry_class"].iat[0] == "A"
    changed = repo.save_classification(engine, cid, pd.DataFrame([{"account_id": "1", "industry_class": "C2", "platform": "local"}]))
    assert changed == 2
    spend = classified_spend(repo.load_rows(engine, cid), repo.get_classification(engine, cid)).rows
    assert (spend["industry_class"].iat[0], spend["platform"].iat[0]) == ("C2", "local")
    log = repo.audit_log(engine, cid)
    assert {"1.industry_class", "1.platform"} <= set(log["field"])
    row = log[log["field"] == "1.industry_class"].iloc[0]
    assert (row["old"], row["new"]) == ("A", "C2")


def test_header_mapping_is_remembered_by_layout(engine):
    repo.remember_mapping(engine, "abc", {"金额列": "amount"})
    assert repo.recall_mapping(engine, "abc") == {"金额列": "amount"}
    assert repo.recall_mapping(engine, "zzz") is None


def test_sqlite_runs_in_wal_mode(tmp_path):
    e = get_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with e.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


KILL_CHILD = """
import hashlib, os, sys, time
sys.path.insert(0, sys.argv[3])
import numpy as np, pandas as pd
from core.validate import normalise_spend
from store import repo
from store.db import get_engine
engine = get_engine(sys.argv[1])
cid = int(sys.argv[2])
n = 60_000
rows = normalise_spend(pd.DataFrame({"date": "2024-06-01", "account_id": [str(i) for i in range(n)],
    "platform": "ocean_ads", "network": "douyin", "bidding": "true", "industry_class": "A",
    "business_model": "brand", "amount": "1.00"}, dtype=object)).rows
def progress(done, total):
    if done >= 10_000:
        open(sys.argv[4], "w").write(str(done))  # tell the parent we are mid-transaction
        time.sleep(60)
repo.import_batch(engine, cid, "big.csv", "k" * 64, rows, ("date", "account_id", "amount"), progress=progress)
"""


@pytest.mark.slow  # a subprocess CLI run: the full lane
def test_killing_the_writer_in_the_middle_of_an_import_leaves_the_previous_state(engine, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    cid = new_client(engine)
    d1, r1, g1 = csv_rows(["2024-01-01,1,100", "2024-01-02,1,200"])
    imp(engine, cid, d1, r1, g1)
    before_rows, before_version = repo.load_rows(engine, cid), repo.get_client(engine, cid).version
    marker = tmp_path / "mid.txt"
    root = str(Path(__file__).resolve().parents[1])
    child = subprocess.Popen([sys.executable, "-c", KILL_CHILD, str(engine.url.render_as_string(hide_password=False)),
                              str(cid), root, str(marker)])
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline and child.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the writer never reached the middle of its import"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    engine.dispose()
    pd.testing.assert_frame_equal(repo.load_rows(engine, cid), before_rows)
    assert repo.get_client(engine, cid).version == before_version
    assert repo.list_batches(engine, cid)["file_name"].tolist() == ["up.csv"]


def test_opening_a_portfolio_client_stores_client_and_rows_together_or_not_at_all(engine, monkeypatch):
    from core.spend import SPEND_FIELDS

    d, rows, given = csv_rows(["2024-01-01,1,100", "2024-01-02,1,250.5"])
    fields = [f for f in SPEND_FIELDS if f != "amount"]
    inputs = {"target_amount": 1_000_000.0, "customer_type": "new"}
    tag = uuid.uuid4().hex[:6]  # the PostgreSQL database outlives one test run
    made = repo.create_client_with_rows(engine, f"P1 (K1) {tag}", inputs, rows, "spend.csv", hashlib.sha256(d).hexdigest(), fields)
    stored = repo.load_rows(engine, made.id)
    assert stored["amount_fen"].tolist() == [10_000, 25_050] and repo.get_client(engine, made.id).name == f"P1 (K1) {tag}"
    before = [c.name for c in repo.list_clients(engine)]

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(repo, "_insert_rows", broken)
    with pytest.raises(RuntimeError):
        repo.create_client_with_rows(engine, f"P2 (K2) {tag}", inputs, rows, "spend.csv", "x" * 64, fields)
    assert [c.name for c in repo.list_clients(engine)] == before  # no client without its rows


def test_the_last_opened_client_is_remembered_per_user_and_team(engine):
    a = repo.create_client(engine, f"Pref A {uuid.uuid4().hex[:6]}", INPUTS)
    b = repo.create_client(engine, f"Pref B {uuid.uuid4().hex[:6]}", INPUTS)
    ann, bob = (f"{n}-{uuid.uuid4().hex[:6]}@x.cn" for n in ("ann", "bob"))  # a database kept between runs
    assert repo.last_client(engine, ann, None) is None
    repo.remember_client(engine, ann, None, a.id)
    repo.remember_client(engine, bob, None, b.id)
    repo.remember_client(engine, ann, "team-2", b.id)
    assert repo.last_client(engine, ann, None) == a.id and repo.last_client(engine, bob, None) == b.id
    repo.remember_client(engine, ann, None, b.id)  # an update, not a second row
    assert repo.last_client(engine, ann, None) == b.id and repo.last_client(engine, ann, "team-2") == b.id


def test_saved_contract_terms_are_immutable_versions_per_team(engine):
    from core.policy import POLICY_DIR
    from core.policy_edit import with_year

    text = with_year((POLICY_DIR / "ocean_engine_2024.toml").read_text(encoding="utf-8"), 2026)
    first = repo.save_policy(engine, "agency_2026", text, "ocean_engine_2024", team="t1", who="ann@x.cn")
    second = repo.save_policy(engine, "agency_2026", text.replace("0.01", "0.02", 1), "db:%d" % first.id, team="t1")
    other = repo.save_policy(engine, "agency_2026", text, "ocean_engine_2024", team="t2")
    assert second.id != first.id and repo.get_policy_version(engine, first.id).toml_text == text  # never overwritten
    assert [v.id for v in repo.list_policy_versions(engine, "t1")][:2] == [second.id, first.id]
    assert other.id not in [v.id for v in repo.list_policy_versions(engine, "t1")]
    cid = new_client(engine)
    client = repo.get_client(engine, cid)
    moved = repo.set_client_policy(engine, cid, client.version, f"db:{first.id}", who="ann@x.cn")
    assert moved.policy == f"db:{first.id}" and moved.version == client.version + 1
    with pytest.raises(repo.ConflictError):
        repo.set_client_policy(engine, cid, client.version, "ocean_engine_2024")  # a stale version saves nothing
    assert repo.get_client(engine, cid).policy == f"db:{first.id}"


def test_only_writes_to_the_spend_move_the_spend_version(engine):
    """Spend caches key on the spend version: a terms edit must leave it (so a what-if reuses
    the typed rows and forecast) and every write to rows or classification must move it (so
    no page ever shows numbers of rows that changed)."""
    cid = new_client(engine)
    v = lambda: (repo.get_client(engine, cid).version, repo.get_client(engine, cid).spend_version)  # noqa: E731
    start = v()
    repo.update_client_inputs(engine, cid, start[0], {**INPUTS, "target_amount": 60000000}, None)
    assert v() == (start[0] + 1, start[1])  # terms: the lock moves, the spend does not
    repo.set_client_policy(engine, cid, v()[0], "ocean_engine_2024")
    assert v()[1] == start[1]
    data, rows, given = csv_rows(["2024-01-01,1,100"])
    batch = imp(engine, cid, data, rows, given, expected_version=v()[0])
    assert v()[1] == start[1] + 1
    assert imp(engine, cid, data, rows, given).status == "duplicate" and v()[1] == start[1] + 1  # nothing changed
    table = repo.get_classification(engine, cid).assign(platform="local")
    repo.save_classification(engine, cid, table, expected_version=v()[0])
    assert v()[1] == start[1] + 2
    repo.undo_batch(engine, cid, batch.batch_id, expected_version=v()[0])
    assert v()[1] == start[1] + 3


def test_rows_are_written_as_the_plain_values_to_dict_gave():
    """`repo.records` builds the insert's dicts column by column; every value equals, with
    its type, what ``to_dict("records")`` gave (ints, bools, strs, dates, None)."""
    from core.ingest import read_table_in_process

    data = (Path(__file__).resolve().parents[1] / "data" / "demo" / "spend_2024.csv").read_bytes()
    table = read_table_in_process(data, "spend_2024.csv")
    parsed, given = prepare_spend(table, map_headers(table.headers), POLICY)
    frame = repo._row_frame(parsed.rows.head(300), given, 7, 3)
    frame.loc[5, "account_id"] = None  # a missing cell of each kind becomes None
    frame.loc[6, "amount_fen"] = None
    want = frame.astype(object).where(frame.notna(), None).to_dict("records")
    got = repo.records(frame)
    assert got == want
    assert [[type(v) for v in r.values()] for r in got] == [[type(v) for v in r.values()] for r in want]
    assert {type(v).__name__ for r in got for v in r.values()} >= {"int", "bool", "str", "date", "NoneType"}


def test_sqlite_stores_through_the_driver_what_the_core_insert_stores(tmp_path, monkeypatch):
    """On SQLite the rows go to the driver as plain tuples (`repo.RAW_INSERT_DIALECTS`): the
    database must then hold exactly what SQLAlchemy's insert stored — the same text for
    dates, the same 0/1 for flags, NULL where a field came from the classification —
    and read back as the same rows."""
    from sqlalchemy import text as sql

    data = (Path(__file__).resolve().parents[1] / "data" / "demo" / "spend_2024.csv").read_bytes()
    table = read_table(data, "spend_2024.csv")
    parsed, given = prepare_spend(table, map_headers(table.headers), POLICY)
    stored = {}
    for name, raw in (("driver", ("sqlite",)), ("core", ())):
        monkeypatch.setattr(repo, "RAW_INSERT_DIALECTS", raw)
        engine = get_engine(f"sqlite:///{tmp_path / name}.db")
        cid = new_client(engine)
        imp(engine, cid, data, parsed.rows, given)
        with engine.connect() as c:
            cells = c.execute(sql("SELECT * FROM spendrow ORDER BY id")).all()
            kinds = c.execute(sql("SELECT typeof(date), typeof(bidding), typeof(amount_fen), typeof(customer) FROM spendrow")).all()
        loaded = repo.load_rows(engine, cid)
        stored[name] = (cells, sorted(set(kinds)), loaded, classified_spend(loaded, repo.get_classification(engine, cid)).rows)
    assert stored["driver"][0] == stored["core"][0] and stored["driver"][1] == stored["core"][1]
    pd.testing.assert_frame_equal(stored["driver"][2], stored["core"][2])
    pd.testing.assert_frame_equal(stored["driver"][3], stored["core"][3])  # what is evaluated
    pd.testing.assert_frame_equal(stored["driver"][3].drop(columns="source_row"),
                                  parsed.rows.drop(columns="source_row"), check_categorical=False)  # = what was imported
    assert len(stored["driver"][0]) == len(parsed.rows)
