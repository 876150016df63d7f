"""AppTest: every page runs without an exception and shows the engine's numbers."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.evaluation import evaluate
from core.i18n import column_label, fmt_money, fmt_pct, t
from tests.conftest import demo_portfolio_table, demo_scenario

pytestmark = pytest.mark.app  # whole pages through AppTest

APP = Path(__file__).resolve().parents[1] / "streamlit_app.py"
PAGES = ["pages/overview.py", "pages/checkpoints.py", "pages/returns.py", "pages/deposit.py", "pages/negotiation.py", "pages/scenarios.py", "pages/portfolio.py", "pages/payouts.py", "pages/data.py", "pages/terms.py", "pages/assumptions.py"]


def demo_client_id() -> int:
    from store import repo
    from store.db import database_url, get_engine
    from store.demo import DEMO_NAME, ensure_demo

    engine = get_engine(database_url())
    ensure_demo(engine)
    return next(c.id for c in repo.list_clients(engine) if c.name == DEMO_NAME)


def run_app(lang: str = "zh", client_id: int | None = None) -> AppTest:
    """AppTest of the router on a chosen client (the demo client by default)."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["lang"] = lang
    at.session_state["client"] = client_id if client_id is not None else demo_client_id()
    return at.run()


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_runs_clean(page, lang):
    at = run_app(lang)
    at.switch_page(page).run()
    assert not at.exception, at.exception


def test_overview_shows_the_engine_result_for_the_demo_client():
    at = run_app("en")
    s = demo_scenario()
    expected = evaluate(s.spend, s.terms, s.policy, s.policy.year_end)
    assert metric(at, t("overview.completion", "en")) == fmt_pct(expected.completion_rate, "en")
    assert metric(at, t("overview.deposit_deducted", "en")) == fmt_money(expected.deposit_deducted_fen, "en")
    assert metric(at, t("overview.year_end", "en")) == t(f"outcome.{expected.year_end_rule}", "en")


def _stored(client_id: int):
    """The client's stored spend and terms, read with core and store only (not ui)."""
    import json

    from core.accounts import classified_spend
    from core.policy import load_policy
    from core.scenario import ClientIn, terms_from_client
    from store import repo
    from store.db import database_url, get_engine

    engine = get_engine(database_url())
    policy = load_policy()
    spend = classified_spend(repo.load_rows(engine, client_id), repo.get_classification(engine, client_id)).rows
    terms = terms_from_client(ClientIn.model_validate(json.loads(repo.get_client(engine, client_id).inputs_json)), policy)
    return spend, terms, policy


def test_changing_the_evaluation_date_shows_the_projection_the_engine_computes():
    from core.outlook import outlook

    at = run_app("en")
    day = dt.date(2024, 6, 15)
    at.date_input(key="as_of").set_value(day).run()
    assert not at.exception
    spend, terms, policy = _stored(demo_client_id())
    actual = evaluate(spend, terms, policy, day)
    view = outlook(spend, terms, policy, day)
    dist, probs = view.projection.distributions(), view.projection.probabilities()
    assert metric(at, t("overview.completion", "en")) == fmt_pct(actual.completion_rate, "en")
    assert metric(at, t("overview.projected_completion", "en")) == fmt_pct(dist["completion_rate"]["p50"], "en")
    assert metric(at, t("overview.a630", "en")) == t("overview.chance", "en", pct=fmt_pct(probs["assessment_630"]["pass"], "en", 0))
    assert metric(at, t("overview.target_chance", "en")) == fmt_pct(probs["target_met"]["yes"], "en", 0)
    at.number_input(key=f"target_{demo_client_id()}").set_value(40_000_000.0).run()
    spend, terms, policy = _stored(demo_client_id())
    assert terms.target_fen == 40_000_000 * 100
    higher = outlook(spend, terms, policy, day).projection.probabilities()["target_met"]["yes"]
    assert higher > probs["target_met"]["yes"]
    assert metric(at, t("overview.target_chance", "en")) == fmt_pct(higher, "en", 0)
    at.number_input(key=f"target_{demo_client_id()}").set_value(50_000_000.0).run()  # leave the demo as it was


def test_chinese_labels_by_default():
    at = run_app("zh")
    labels = [m.label for m in at.metric]
    assert "完成率" in labels and "630 考核" in labels



def _import(engine, client_id: int, data: bytes, name: str = "t.csv") -> None:
    """Spend stored as the Data page stores it (read, validated, one batch)."""
    import hashlib

    from core.columns import map_headers
    from core.ingest import prepare_spend, read_table
    from core.policy import load_policy
    from store import repo

    table = read_table(data, name)
    parsed, given = prepare_spend(table, map_headers(table.headers), load_policy())
    repo.import_batch(engine, client_id, name, hashlib.sha256(data).hexdigest(), parsed.rows, given)


def _new_client(name: str):
    import uuid

    from store import repo
    from store.db import database_url, get_engine

    demo_client_id()  # the demo exists before any test client, as in production
    engine = get_engine(database_url())
    inputs = {"target_amount": 50000000, "customer_type": "regular", "main_industry": "other",
              "actual_2023": 0, "deposit_paid_on": "2024-01-10"}
    return engine, repo.create_client(engine, f"{name} {uuid.uuid4().hex[:6]}", inputs)


def _expected(engine, client_id, as_of: dt.date = dt.date(2024, 12, 31)):
    """What the engine says for the stored client (the page must show exactly this)."""
    from core.accounts import classified_spend
    from core.policy import load_policy
    from store import repo
    from ui.caches import terms_of

    policy = load_policy()
    spend = classified_spend(repo.load_rows(engine, client_id), repo.get_classification(engine, client_id)).rows
    inputs = __import__("json").loads(repo.get_client(engine, client_id).inputs_json)
    return evaluate(spend, terms_of(inputs, policy), policy, as_of)


def _upload(at, data: bytes, name: str = "report.csv"):
    at.file_uploader[0].set_value((name, data, "text/csv")).run()
    assert not at.exception


def test_upload_map_import_classify_and_the_numbers_follow_the_engine():
    import pandas as pd

    from core.columns import layout_key
    from store import repo

    engine, client = _new_client("AppTest upload")
    at = run_app("en", client.id)
    at.switch_page("pages/data.py").run()
    # the file covers the year (a last row on Dec 31): the Overview may show the settled year
    _upload(at, "日期,账户ID,金额列\n2024-02-01,555,\"1,000,000.00\"\n2024-02-02,555,0.00\n2024-12-31,555,0.00\n".encode("gbk"))
    at.selectbox(key=f"map_{layout_key(['日期', '账户ID', '金额列'])}_金额列").set_value("amount").run()
    assert [m.value for m in at.metric][:2] == ["3", "0"]  # rows read, errors
    next(b for b in at.button if b.label == t("data.import", "en")).click().run()
    assert any("3 rows imported" in s.value for s in at.success)
    assert repo.row_count(engine, client.id) == 3

    at.switch_page("pages/overview.py").run()
    before = _expected(engine, client.id)
    assert metric(at, t("overview.clawback", "en")) == fmt_money(before.clawback_fen, "en")
    repo.save_classification(engine, client.id, pd.DataFrame([{"account_id": "555", "platform": "local", "industry_class": "C2"}]))
    at.run()
    after = _expected(engine, client.id)
    assert (before.clawback_fen, after.clawback_fen) == (16_000 * 100, 58_000 * 100)  # class A ads vs C2 local
    assert metric(at, t("overview.clawback", "en")) == fmt_money(after.clawback_fen, "en")


def test_a_broken_upload_gets_a_report_and_nothing_is_stored():
    from store import repo

    engine, client = _new_client("AppTest broken")
    at = run_app("en", client.id)
    at.switch_page("pages/data.py").run()
    _upload(at, "日期,账户ID,消耗\n2024-13-01,1,100\n2024-01-02,1,abc\n".encode())
    assert [m.value for m in at.metric][:2] == ["2", "2"]
    button = next(b for b in at.button if b.label == t("data.import", "en"))
    assert button.disabled
    assert repo.row_count(engine, client.id) == 0


def test_changing_target_in_the_sidebar_is_saved_audited_and_recomputed():

    from store import repo

    engine, client = _new_client("AppTest target")
    data = "日期,账户ID,消耗\n2024-05-01,9,15000000\n2024-12-31,9,0\n".encode()  # data through the year end
    _import(engine, client.id, data, "t.csv")
    at = run_app("en", client.id)
    assert metric(at, t("overview.a630", "en")) == t("outcome.pass", "en")  # 15M of 50M = 30 %
    at.number_input(key=f"target_{client.id}").set_value(60_000_000.0).run()
    assert '"target_amount": 60000000.0' in repo.get_client(engine, client.id).inputs_json
    log = repo.audit_log(engine, client.id)
    assert ((log["field"] == "target_amount") & (log["new"] == "60000000.0")).any()
    expected = _expected(engine, client.id)
    assert expected.assessment_630 == "reduced"  # 15M of 60M = 25 %
    assert metric(at, t("overview.a630", "en")) == t("outcome.reduced", "en")
    assert metric(at, t("overview.completion", "en")) == fmt_pct(expected.completion_rate, "en")


def test_scenarios_save_and_compare_side_by_side():
    engine, client = _new_client("AppTest scenarios")
    at = run_app("en", client.id)
    at.switch_page("pages/scenarios.py").run()
    at.text_input[0].input("Target 50M")  # a form: the value is sent with the submit click
    at.button[0].click().run()
    assert not at.exception
    assert any("Target 50M" in s.value for s in at.success)
    at.run()
    table = at.dataframe[0].value
    assert list(table.columns)[0] == t("scenarios.current", "en") and "Target 50M" in list(table.columns)[1]
    assert table.loc[t("inputs.target", "en")].tolist() == [fmt_money(50_000_000 * 100, "en")] * 2


def test_a_saved_scenario_keeps_the_contract_it_was_saved_under():
    """Moving the client to a 2026 contract later does not change what a scenario saved under
    the 2024 one says: the scenario is pinned to its (immutable) contract."""
    from core.policy import POLICY_DIR
    from core.policy_edit import set_value, with_year
    from store import repo

    engine, client = _new_client("AppTest pinned scenario")
    at = run_app("en", client.id)
    at.switch_page("pages/scenarios.py").run()
    at.text_input[0].input("Under 2024")
    at.button[0].click().run()
    assert repo.list_scenarios(engine, client.id)[0].policy == "ocean_engine_2024"
    text = set_value(with_year((POLICY_DIR / "ocean_engine_2024.toml").read_text(encoding="utf-8"), 2026), "deposit.rate", "0.02")
    version = repo.save_policy(engine, "pinned_2026", text, "ocean_engine_2024")
    repo.set_client_policy(engine, client.id, repo.get_client(engine, client.id).version, f"db:{version.id}")
    at = run_app("en", client.id)
    at.switch_page("pages/scenarios.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    contracts = table.loc[column_label("policy", "en")].tolist()
    assert "2026" in contracts[0] and "pinned_2026" in contracts[0]  # the client now
    assert contracts[1] == "Ocean Engine rebate agreement 2024"  # the scenario, as saved


def test_payouts_page_shows_the_owed_split_of_the_demo_earnings():
    from pathlib import Path

    from core.payouts import (
        load_settlement_policy,
        owed_at,
        read_earnings,
        settle_payouts,
    )

    at = run_app("en")
    at.switch_page("pages/payouts.py").run()
    assert not at.exception
    demo = Path(APP).parent / "data" / "demo" / "earnings_2024.csv"
    earnings, _ = read_earnings(demo.read_bytes(), demo.name)
    owed = owed_at(settle_payouts(earnings, [], load_settlement_policy()), dt.date(2024, 12, 31))
    assert metric(at, t("payouts.payment_pending", "en")) == fmt_money(owed["payment_pending_fen"], "en")
    assert metric(at, t("payouts.carried", "en")) == fmt_money(owed["carried_fen"], "en")
    assert owed["payment_pending_fen"] > 0 and owed["carried_fen"] > 0


def _portfolio_page(day: dt.date) -> AppTest:
    """The Portfolio page in English at ``day``, as a user reaches it from the dashboard."""
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.session_state["lang"] = "en"
    at.session_state["client"] = demo_client_id()
    at.session_state["as_of"] = day
    at.run()
    at.switch_page("pages/portfolio.py").run()
    assert not at.exception, at.exception
    return at


def test_portfolio_page_lists_every_demo_client_with_the_engines_numbers():
    """The demo portfolio (150 clients, one spend file) at 2024-09-30: one table row per
    client, KPIs equal to the core's portfolio run."""
    at = _portfolio_page(dt.date(2024, 9, 30))
    table = demo_portfolio_table(dt.date(2024, 9, 30))
    assert metric(at, t("portfolio.clients", "en")) == "150"
    assert metric(at, t("portfolio.red", "en")) == str(int((table["risk"] == "red").sum()))
    assert metric(at, t("portfolio.expiring", "en")) == fmt_money(int(table["expiring_30d_fen"].sum()), "en")
    shown = at.dataframe[0].value
    assert len(shown) == 150 and set(shown[t("portfolio.col.client", "en")]) == set(table["client"])


def test_portfolio_projection_button_adds_the_monte_carlo_columns_of_the_core():
    """Finance asks for projections: the page shows deposit at risk equal to the core's
    projected portfolio, and the table gains P(target met)."""
    at = _portfolio_page(dt.date(2024, 9, 30))
    at.button(key="pf_project").click().run()
    assert not at.exception, at.exception
    table = demo_portfolio_table(dt.date(2024, 9, 30), project=True)
    assert metric(at, t("portfolio.deposit_at_risk", "en")) == fmt_money(int(table["deposit_at_risk_fen"].sum()), "en")
    assert t("portfolio.col.p_target", "en") in at.dataframe[0].value.columns


def test_a_validation_report_never_reaches_another_clients_export():
    """Privacy: the Data page keeps the last validation report in the session; only the
    client it was made for may export it — switching client drops it from the export."""
    engine, client = _new_client("AppTest report owner")
    data = "日期,账户ID,消耗\n2024-05-01,9,150000\n".encode()
    _import(engine, client.id, data, "t.csv")
    at = run_app("en", client.id)
    at.switch_page("pages/data.py").run()
    _upload(at, "日期,账户ID,消耗\n2024-13-01,1,100\n2024-01-02,1,abc\n".encode())  # a report with errors
    at.switch_page("pages/overview.py").run()
    assert t("sheet.Validation report", "en") in at.selectbox(key="export_csv_sheet").options  # its own client: exported
    at.session_state["client"] = demo_client_id()
    at.run()
    assert not at.exception
    assert t("sheet.Validation report", "en") not in at.selectbox(key="export_csv_sheet").options  # another client: never


def test_data_that_ends_in_september_is_never_shown_as_a_settled_year():
    """Coverage: a file ending 09-15 opens at 09-15 with a 'data through' banner; asking for
    Dec 31 computes at 09-15 and projects the rest (not zero spend), and says so."""
    import datetime as dt


    engine, client = _new_client("AppTest coverage")
    lines = ["日期,账户ID,消耗"] + [f"{d:%Y-%m-%d},77,100000" for d in
                                   (dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(0, 259, 3))]
    data = "\n".join(lines).encode()
    _import(engine, client.id, data, "c.csv")
    end = max(dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(0, 259, 3))  # the file's last day
    assert end == dt.date(2024, 9, 15)
    at = run_app("en", client.id)
    assert not at.exception
    assert any("Data through 2024-09-15" in i.value for i in at.info)
    expected = _expected(engine, client.id, as_of=end)
    assert metric(at, t("overview.completion", "en")) == fmt_pct(expected.completion_rate, "en")
    assert t("overview.projected_completion", "en") in [m.label for m in at.metric]  # a projection, not a verdict
    at.session_state["as_of"] = dt.date(2024, 12, 31)
    at.run()
    assert any("2024-09-16" in w.value and "not counted as zero" in w.value for w in at.warning)
    assert metric(at, t("overview.completion", "en")) == fmt_pct(expected.completion_rate, "en")  # not diluted by zeros
    assert t("overview.deposit_deducted", "en") not in [m.label for m in at.metric]  # no settled-year verdict


def test_a_stale_sidebar_save_says_so_in_chinese_and_saves_nothing():
    """Two people on one client: the second save meets a newer version, and the message is
    the catalogue's 中文 text (the store's own message is English)."""
    from store import repo

    engine, client = _new_client("AppTest stale zh")
    at = run_app("zh", client.id)
    repo.update_client_inputs(engine, client.id, client.version, {"target_amount": 70000000, "customer_type": "regular"}, None)
    at.number_input(key=f"target_{client.id}").set_value(61_000_000.0).run()
    assert not at.exception
    assert any(e.value == t("store.conflict", "zh") for e in at.sidebar.error)
    assert '"target_amount": 70000000' in repo.get_client(engine, client.id).inputs_json


def test_stored_rows_the_evaluation_cannot_read_are_announced_not_dropped_silently():
    """A classification value the validator refuses (raw '巨量广告' from an old import) made
    the stored rows vanish from every number; every page now says how many are left out."""
    import pandas as pd

    from store import repo

    engine, client = _new_client("AppTest refused rows")
    data = "日期,账户ID,消耗\n2024-05-01,31,1000\n2024-05-02,31,2000\n".encode()
    _import(engine, client.id, data, "r.csv")
    repo.save_classification(engine, client.id, pd.DataFrame([{"account_id": "31", "platform": "巨量广告"}]))
    at = run_app("en", client.id)
    assert not at.exception
    assert any(t("data.refused_rows", "en", n="2") == w.value for w in at.warning)


def test_overview_and_returns_show_the_same_expected_amounts():
    """One source for each figure: the Overview's expected clawback and final return are the
    Returns page's (the mean over the projected years, not the mean path)."""
    at = run_app("en")
    at.date_input(key="as_of").set_value(dt.date(2024, 9, 15)).run()
    clawback = metric(at, t("overview.expected_clawback", "en"))
    final = metric(at, t("overview.expected_return", "en"))
    at.switch_page("pages/returns.py").run()
    at.date_input(key="as_of").set_value(dt.date(2024, 9, 15)).run()
    assert not at.exception
    caption = next(c.value for c in at.caption if t("returns.w.clawback", "en") in c.value)
    assert caption.endswith(f"{t('returns.w.clawback', 'en')}: {clawback}")
    import base64
    import json

    import numpy as np

    traces = [tr for c in at.get("plotly_chart") for tr in json.loads(c.proto.spec)["data"]]
    y = next(tr for tr in traces if tr["type"] == "waterfall")["y"]
    values = np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]) if isinstance(y, dict) else np.asarray(y)
    assert fmt_money(round(float(values[-1]) * 100), "en") == final  # chart values are yuan in English


def test_a_fresh_session_opens_the_client_this_user_opened_last():
    """Not whichever client sorts first: a sidebar edit there once changed someone else's target."""
    engine, client = _new_client("AppTest zz remembered")  # sorts after the demo client
    at = run_app("en", client.id)
    assert not at.exception
    fresh = AppTest.from_file(str(APP), default_timeout=60)
    fresh.session_state["lang"] = "en"
    fresh.run()
    assert not fresh.exception
    assert fresh.selectbox(key="client").value == client.id
    at.session_state["client"] = demo_client_id()  # the user moves on: the next session follows
    at.run()
    again = AppTest.from_file(str(APP), default_timeout=60)
    again.session_state["lang"] = "en"
    assert again.run().selectbox(key="client").value == demo_client_id()


def test_one_field_is_set_for_several_accounts_at_once():
    """Bulk classification: pick accounts, a field and a labelled value, apply once."""
    import hashlib

    from core.columns import map_headers
    from core.ingest import prepare_spend, read_table
    from core.policy import load_policy
    from store import repo

    engine, client = _new_client("AppTest bulk")
    data = "日期,账户ID,消耗\n2024-05-01,501,100\n2024-05-01,502,200\n2024-05-01,503,300\n".encode()
    table = read_table(data, "b.csv")
    parsed, given = prepare_spend(table, map_headers(table.headers), load_policy())
    repo.import_batch(engine, client.id, "b.csv", hashlib.sha256(data).hexdigest(), parsed.rows, given,
                      new_accounts=pd.DataFrame({"account_id": ["501", "502", "503"], "industry_class": "A"}))
    at = run_app("zh", client.id)
    at.switch_page("pages/data.py").run()
    at.selectbox(key="bulk_field").select("industry_class").run()
    at.multiselect[0].select("501").select("503")
    value = next(s for s in at.selectbox if s.label == t("data.bulk_value", "zh"))
    assert "B2 · " + t("enum.industry_class.B2", "zh") in value.options  # labelled choices, not bare codes
    value.select("B2")
    next(b for b in at.button if b.label == t("data.bulk_apply", "zh")).click().run()
    assert not at.exception
    classes = repo.get_classification(engine, client.id).set_index("account_id")["industry_class"]
    assert classes.to_dict() == {"501": "B2", "502": classes["502"], "503": "B2"} and classes["502"] != "B2"


def test_the_audit_log_reads_in_chinese_without_templates_or_none():
    from ui.tables import audit_table

    log = pd.DataFrame([
        {"at": "2026-11-30", "who": "local", "entity": "batch", "field": "imported", "old": None,
         "new": "spend_2024.csv (4713 rows, replace, replaced 0)"},
        {"at": "2026-11-30", "who": "local", "entity": "classification", "field": "1780000001.platform", "old": "oesa", "new": "local"},
        {"at": "2026-11-30", "who": "local", "entity": "client", "field": "target_amount", "old": "50000000", "new": "60000000"},
    ])
    shown = audit_table(log, "zh")
    assert list(shown.columns) == ["时间", "操作人", "对象", "字段", "修改前", "修改后"]
    assert shown.iloc[0].tolist()[2:] == ["导入批次", "导入", "—", "spend_2024.csv：4713 行（替换，替换 0 行）"]
    assert shown.iloc[1, 3] == "1780000001 · 平台" and shown.iloc[2, 3] == "目标金额"
    assert "{" not in "".join(map(str, shown.to_numpy().ravel())) and "None" not in "".join(map(str, shown.to_numpy().ravel()))


def test_contract_terms_for_2026_are_saved_as_a_version_and_evaluate_the_client():
    """A user models their 2026 agreement without touching a file: move the 2024 contract to
    2026, change the deposit rate, save (a new immutable version), evaluate the client under it."""
    from store import repo

    engine, client = _new_client("AppTest terms 2026")
    at = run_app("en", client.id)
    at.switch_page("pages/terms.py").run()
    assert not at.exception
    at.number_input(key="terms_year_ocean_engine_2024").set_value(2026).run()
    at.number_input(key="terms_deposit.rate_ocean_engine_2024_2026").set_value(2.0).run()
    at.text_input(key="terms_name_ocean_engine_2024_2026").input("agency_2026").run()
    from ui.terms import change_label

    diff = next(d.value for d in at.dataframe if t("terms.col.key", "en") in d.value.columns)
    shown = set(diff[t("terms.col.key", "en")])
    assert {change_label(k, "en") for k in ("deposit.rate", "year_start", "assessment_630.date")} <= shown
    assert change_label("rates.ads.brand_distribution.A", "en") not in shown  # unchanged cells stay unchanged
    assert all("." not in label for label in shown)  # labels, not TOML keys
    at.button(key="terms_save").click().run()
    assert not at.exception
    ref = at.session_state["terms_saved"]
    version = repo.get_policy_version(engine, int(ref.removeprefix("db:")))
    assert version.name == "agency_2026" and 'rate = "0.02"' in version.toml_text
    assert "# §7 / Article IV: the deposit." in version.toml_text  # clause comments kept
    at.button(key="terms_use").click().run()
    assert not at.exception
    assert repo.get_client(engine, client.id).policy == ref
    assert any("2026" in c.value for c in at.sidebar.caption)  # the sidebar names the 2026 contract
    bad = run_app("en", client.id)
    bad.switch_page("pages/terms.py").run()
    bad.text_input(key=next(w.key for w in bad.text_input if w.key and w.key.startswith("terms_name_"))).input("bad name!").run()
    assert any("name" in e.value for e in bad.error) and not bad.exception  # a bad value names its field


def test_next_years_negotiation_answers_the_80_percent_question_like_core():
    """The demo client's 2025 agreement under its contract moved one year on: the page's
    highest target met with ≥ 80 % probability and its table are core's numbers."""
    from core.next_year import next_year_targets
    from core.policy import POLICY_DIR, parse_policy
    from core.policy_edit import with_year

    at = run_app("en")
    at.switch_page("pages/negotiation.py").run()
    assert not at.exception
    spend, terms, policy = _stored(demo_client_id())
    next_policy = parse_policy(with_year((POLICY_DIR / "ocean_engine_2024.toml").read_text(encoding="utf-8"), 2025))
    typed = at.text_input(key="ny_targets").value
    targets = [round(float(x) * 100_000_000) for x in typed.split(",")]
    ny = next_year_targets(spend, terms, policy, next_policy, targets, (-0.2, 0.4), 0.8)
    assert ny.base.year == 2024 and not ny.base.projected
    assert metric(at, t("negotiation.sure", "en", pct=80)) == fmt_money(ny.highest_sure_target_fen, "en")
    assert metric(at, t("negotiation.cost", "en")) == fmt_money(ny.deposit_cost_per_10m_fen, "en")
    shown = next(d.value for d in at.dataframe if t("negotiation.p_below", "en") in d.value.columns)
    assert shown[t("negotiation.p_target", "en")].tolist() == [fmt_pct(v, "en", 0) for v in ny.table["p_target_met"]]
    assert 0 < ny.highest_sure_target_fen < max(targets) * 2
    sure = next_year_targets(spend, terms, policy, next_policy, [ny.highest_sure_target_fen], (-0.2, 0.4), 0.8).table
    assert sure["p_target_met"].iloc[0] >= 0.8  # the definition holds


def test_a_negotiation_is_saved_as_shown_and_exported_with_cores_numbers():
    """Sales keep the offer they modelled: the saved negotiation holds the table the page
    showed (core's numbers) and the workbook carries the same numbers in RMB."""
    import io
    import json

    from store import repo
    from store.db import database_url, get_engine

    engine, client = _new_client("AppTest negotiation")
    data = "日期,账户ID,消耗\n" + "".join(f"2024-{m:02d}-15,9,{4_000_000 + m * 100_000}\n" for m in range(1, 13))
    _import(engine, client.id, data.encode())
    at = run_app("zh", client.id)
    at.switch_page("pages/negotiation.py").run()
    assert not at.exception
    at.text_input(key="ny_name").input("2025 报价").run()
    at.button(key="ny_save").click().run()
    assert not at.exception and any("2025 报价" in s.value for s in at.success)
    saved = repo.list_negotiations(get_engine(database_url()), client.id)
    assert [n.name for n in saved] == ["2025 报价"] and saved[0].policy == "next:ocean_engine_2024"
    table = pd.read_json(io.StringIO(saved[0].result_json), orient="records")
    shown = next(d.value for d in at.dataframe if t("negotiation.p_below", "zh") in d.value.columns)
    assert shown[t("negotiation.p_target", "zh")].tolist() == [fmt_pct(v, "zh", 0) for v in table["p_target_met"]]
    assert any(e.label == t("negotiation.saved_heading", "zh", n=1) for e in at.expander)
    from core.export import (  # what the export button downloads
        negotiation_sheets,
        workbook_bytes,
    )

    settings = json.loads(saved[0].settings_json)
    book = pd.read_excel(io.BytesIO(workbook_bytes(negotiation_sheets(client.name, settings["contract"], settings, table, "zh"))),
                         sheet_name=None)
    candidates = book[t("sheet.Candidates", "zh")]
    assert candidates.iloc[:, 0].tolist() == [v / 100 for v in table["target_fen"]]
    assert list(candidates[column_label("p_target_met", "zh")]) == pytest.approx(list(table["p_target_met"]))
    inputs = dict(zip(*book[t("sheet.Inputs", "zh")].iloc[:, :2].to_numpy().T))
    assert inputs[column_label("highest_sure_target", "zh", money=True)] == settings["highest_sure_target_fen"] / 100


def test_a_2026_contract_asks_before_counting_2027_in_weekends_and_then_shows_its_checkpoints():
    """A client on a 2026 contract: the Q4 credit falls in January 2027, which the installed
    calendar does not know. The pages say so (no crash), and once the user accepts the
    weekends-only assumption they show the 2026 checkpoints with the assumption named."""
    import hashlib

    from core.columns import map_headers
    from core.ingest import prepare_spend, read_table
    from core.policy import POLICY_DIR, parse_policy
    from core.policy_edit import with_year
    from store import repo

    engine, client = _new_client("AppTest 2026 contract")
    text = with_year((POLICY_DIR / "ocean_engine_2024.toml").read_text(encoding="utf-8"), 2026)
    version = repo.save_policy(engine, "t2026", text, "ocean_engine_2024")
    repo.set_client_policy(engine, client.id, repo.get_client(engine, client.id).version, f"db:{version.id}")
    data = ("日期,账户ID,消耗\n" + "".join(f"2026-{m:02d}-15,9,1500000\n" for m in range(1, 10))).encode()
    table = read_table(data, "t.csv")
    parsed, given = prepare_spend(table, map_headers(table.headers), parse_policy(text))
    repo.import_batch(engine, client.id, "t.csv", hashlib.sha256(data).hexdigest(), parsed.rows, given)
    at = run_app("en", client.id)
    at.switch_page("pages/checkpoints.py").run()
    assert not at.exception and any("2027" in e.value for e in at.error)
    at.checkbox(key="weekends_only_beyond_calendar").check().run()
    assert not at.exception
    assert any("2027" in w.value and "assumption" in w.value for w in at.warning)

    table = next(d.value for d in at.dataframe if t("checkpoints.col.by", "en") in d.value.columns)
    assert {str(d) for d in table[t("checkpoints.col.by", "en")]} >= {"2026-06-30", "2026-09-30", "2026-12-31"}


def test_a_contract_file_is_imported_as_the_starting_point_and_a_broken_one_is_refused():
    from core.policy import POLICY_DIR
    from core.policy_edit import with_year

    text = with_year((POLICY_DIR / "ocean_engine_2024.toml").read_text(encoding="utf-8"), 2027)
    at = run_app("en")
    at.switch_page("pages/terms.py").run()
    at.file_uploader[0].set_value(("agency_2027.toml", text.encode("utf-8"), "application/toml")).run()
    assert not at.exception
    assert at.number_input(key="terms_year_import:agency_2027.toml").value == 2027  # the file is the base
    broken = text.replace('rate = "0.01"', 'rate = "one percent"')
    again = run_app("en")
    again.switch_page("pages/terms.py").run()
    again.file_uploader[0].set_value(("broken.toml", broken.encode("utf-8"), "application/toml")).run()
    assert not again.exception and any("deposit.rate" in e.value.replace("\\", "") for e in again.error)


def test_a_what_if_on_the_target_reuses_the_rows_and_the_forecast():
    """Live what-if: after the first run, a target change neither reloads the rows nor
    classifies, rates or forecasts them again — it only settles the cached paths; an
    evaluation-date change forecasts once and rates no row again (only the forecast's
    segments). Counted per page run with a profile hook."""
    import collections
    import threading

    import core.actuals
    import core.calibration
    import core.classification
    import core.engine
    import core.rates
    import store.repo

    watched = {f.__code__: name for name, f in [
        ("load_rows", store.repo.load_rows), ("classify_rows", core.classification.classify_rows),
        ("row_rates", core.rates.row_rates), ("calibrated_forecast", core.calibration.calibrated_forecast),
        ("settle", core.engine.settle), ("row_rules", core.engine.row_rules), ("classified", core.actuals.classified)]}
    calls: collections.Counter = collections.Counter()

    def count(frame, event, _arg):
        if event == "call" and frame.f_code in watched:
            calls[watched[frame.f_code]] += 1

    engine, client = _new_client("AppTest what-if")
    _import(engine, client.id, ("日期,账户ID,消耗\n" + "".join(f"2024-{m:02d}-{d:02d},9,{300_000 + d * 1000}\n"
                                                          for m in range(1, 10) for d in (1, 11, 21))).encode())
    at = run_app("en", client.id)
    before = metric(at, t("overview.completion", "en"))
    threading.setprofile(count)  # the script runs in a new thread per run
    try:
        at.number_input(key=f"target_{client.id}").set_value(40_000_000.0).run()
        what_if, _ = dict(calls), calls.clear()
        at.date_input(key="as_of").set_value(dt.date(2024, 8, 31)).run()
        date_change = dict(calls)
    finally:
        threading.setprofile(None)
    assert not at.exception and metric(at, t("overview.completion", "en")) != before
    assert what_if.get("settle", 0) >= 1
    assert not {"load_rows", "classify_rows", "row_rates", "calibrated_forecast"} & set(what_if), what_if
    assert date_change.get("calibrated_forecast") == 1 and "load_rows" not in date_change, date_change
    assert not {"classified", "row_rules"} & set(date_change), date_change  # the rows were rated once for every date


def test_inputs_stored_under_the_old_name_are_saved_under_the_new_one():
    """A client stored with `actual_2023` (before the rename) shows it as the previous-year
    amount, and a change is saved as `previous_year` only — never both names."""
    import json

    from store import repo

    engine, client = _new_client("AppTest previous year")  # stored with "actual_2023": 0
    at = run_app("en", client.id)
    assert at.number_input(key=f"prev_{client.id}").value == 0.0
    at.number_input(key=f"prev_{client.id}").set_value(30_000_000.0).run()
    assert not at.exception
    stored = json.loads(repo.get_client(engine, client.id).inputs_json)
    assert stored["previous_year"] == 30_000_000.0 and "actual_2023" not in stored


def test_the_overviews_kept_figures_follow_every_what_if_and_the_language():
    """The Overview keeps its figures on its cached stages: a target change draws the
    new target line, going back draws the old one again, and each language has its own figure."""
    import base64
    import json

    import numpy as np

    client_id = demo_client_id()
    at = run_app("en", client_id)
    at.date_input(key="as_of").set_value(dt.date(2024, 9, 15)).run()

    def full_target_line(at: AppTest, lang: str) -> float:
        name = t("overview.target_line", lang, pct=fmt_pct(1.0, lang, 0))
        traces = [tr for c in at.get("plotly_chart") for tr in json.loads(c.proto.spec)["data"]]
        y = next(tr for tr in traces if tr.get("name") == name)["y"]
        values = np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]) if isinstance(y, dict) else np.asarray(y)
        return float(values[-1])

    assert full_target_line(at, "en") == 50_000_000.0
    at.number_input(key=f"target_{client_id}").set_value(60_000_000.0).run()
    assert not at.exception and full_target_line(at, "en") == 60_000_000.0
    at.number_input(key=f"target_{client_id}").set_value(50_000_000.0).run()  # leave the demo as it was
    assert full_target_line(at, "en") == 50_000_000.0  # the first outlook's kept figure, still right
    at.session_state["lang"] = "zh"
    at.run()
    assert full_target_line(at, "zh") == 5_000.0  # 中文 charts are in 万元


def test_picking_another_csv_sheet_reruns_only_the_export_section():
    """The Overview's export is a fragment: choosing a sheet does not recompute the page."""
    at = run_app("en")
    at.date_input(key="as_of").set_value(dt.date(2024, 9, 15)).run()
    box = at.selectbox(key="export_csv_sheet")
    other = next(o for o in box.options if o != box.value)
    box.set_value(other).run()
    assert not at.exception
    assert at.selectbox(key="export_csv_sheet").value == other
    assert metric(at, t("overview.completion", "en"))  # the page around it is still drawn


@pytest.mark.parametrize("error", ["ConflictError", "BusyError"])
def test_a_refused_scenario_save_says_why_in_the_ui_language_and_claims_nothing(monkeypatch, error):
    """ui.session.try_write: a write the store refused is the store's warning in 中文, never a success."""
    import services.clients
    from store import repo

    def refused(*args, **kwargs):
        raise getattr(repo, error)("refused")

    monkeypatch.setattr(services.clients, "save_scenario", refused)
    at = run_app("zh")
    at.switch_page("pages/scenarios.py").run()
    at.text_input[0].set_value("冲突测试")
    at.button[0].click().run()
    assert not at.exception
    key = "store.busy" if error == "BusyError" else "store.conflict"
    assert [w.value for w in at.warning] == [t(key, "zh")]
    assert not at.success


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_reliability_panel_shows_the_demo_clients_record_and_the_pools_account_events(lang):
    """Overview's "How reliable is this forecast?": this client's coverage, and the share of
    the pool's client-years in which an account stopped or started later in the year, read
    from the shipped model at the evaluation date, in the user's language."""
    from core.error_model import load as load_error_model
    from core.i18n import catalogue, fmt_pct

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["lang"], at.session_state["client"] = lang, demo_client_id()
    at.session_state["as_of"] = dt.date(2024, 9, 15)  # inside the year: a projection, and its record
    at.run()
    assert not at.exception
    panel = next(e for e in at.expander if e.label == t("track.heading", lang))
    captions = [c.value for c in panel.caption]
    events = load_error_model().event_shares(at.session_state["as_of"])
    expected = t("track.events", lang, stop=fmt_pct(events["stop"], lang, 0), start=fmt_pct(events["start"], lang, 0))
    assert expected in captions, captions
    coverage_ends = catalogue()["track.coverage"][lang].rsplit("}", 1)[-1]  # the words after the last number
    assert any(m.value.endswith(coverage_ends) for m in panel.markdown), [m.value for m in panel.markdown]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_cumulative_figure_of_a_what_if_is_the_validated_chart_exactly(lang):
    """ui.figures.cumulative_figure reuses the spend-and-fan part per row stage and adds the
    checkpoint levels unvalidated: for two targets on one row stage it serialises to the same
    JSON as the fully validated cumulative_chart, and the second target reuses the first's part."""
    import json
    from dataclasses import replace

    import plotly.io as pio

    from core.outlook import outlook
    from core.progress import daily_counted
    from tests.conftest import demo_scenario
    from ui.figures import cumulative_chart, cumulative_figure

    sc = demo_scenario()
    day = dt.date(2024, 9, 15)
    first = outlook(sc.spend, sc.terms, sc.policy, day, paths=300)
    daily = daily_counted(sc.spend, sc.terms, sc.policy, day)
    for terms in (sc.terms, replace(sc.terms, target_fen=sc.terms.target_fen * 2)):
        o = outlook(sc.spend, terms, sc.policy, day, paths=300, stage=first.stage, rows_stage=first.rows_stage)
        assert o.fan is first.fan  # one fan per row stage
        fast = cumulative_figure(o, daily, sc.policy, terms, lang)
        reference = cumulative_chart(daily, o.fan, sc.policy, terms, lang)
        assert json.loads(pio.to_json(fast, validate=False)) == json.loads(pio.to_json(reference, validate=False))  # what the browser gets
    assert len([k for k in vars(first.rows_stage) if k.startswith("_memo_figure_spend_fan")]) == 1


def test_the_pre_return_chart_is_reused_only_while_its_amounts_stay_the_same():
    """ui.figures.pre_return_chart keeps the bar chart per row stage and amounts: a target
    change that leaves the pre-returns and credits as they were reuses the figure, one that
    moves them (a 630 reduction at three times the target) draws its own, equal to a fresh
    pre_return_figure."""
    import json
    from dataclasses import replace

    import plotly.io as pio

    from core.evaluation import evaluate
    from core.outlook import outlook
    from tests.conftest import demo_scenario
    from ui.figures import pre_return_chart, pre_return_figure

    sc = demo_scenario()
    day = dt.date(2024, 9, 15)
    first = outlook(sc.spend, sc.terms, sc.policy, day, paths=300)
    figures = []
    for factor in (1, 1.02, 3):
        terms = replace(sc.terms, target_fen=int(sc.terms.target_fen * factor))
        o = outlook(sc.spend, terms, sc.policy, day, paths=300, stage=first.stage, rows_stage=first.rows_stage)
        result = evaluate(sc.spend, terms, sc.policy, day)
        figures.append(pre_return_chart(result, o, "en"))
        assert json.loads(pio.to_json(figures[-1])) == json.loads(pio.to_json(pre_return_figure(result, o, "en")))
    assert figures[0] is figures[1] and figures[2] is not figures[0]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_assumptions_page_states_the_account_rules_from_the_settings_file(monkeypatch, lang):
    """The live-account thresholds are data (data/forecast.toml), so the Assumptions page's
    plain words and its table read them from there: a changed level-days setting shows up in
    both, in either language, never a number written into the text."""
    import core.forecast

    shipped = core.forecast.settings()
    monkeypatch.setattr(core.forecast, "settings", lambda: {**shipped, "account_level_days": 11})
    at = run_app(lang)
    at.switch_page("pages/assumptions.py").run()
    assert not at.exception
    plain = next(m.value for m in at.markdown if t("assumptions.m.plain", lang) in m.value)
    assert "11" in plain and " 7 " not in plain and "满 7 天" not in plain
    table = at.dataframe[1].value
    new_account = table[table.iloc[:, 0] == t("assumptions.m.account_start", lang)].iloc[0, 1]
    assert "11" in new_account
