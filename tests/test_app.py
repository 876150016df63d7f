"""AppTest: every page runs without an exception and shows the engine's numbers."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.evaluation import evaluate
from core.i18n import fmt_money, fmt_pct, t
from ui.state import demo_client, policy_of

APP = Path(__file__).resolve().parents[1] / "streamlit_app.py"
PAGES = ["pages/overview.py", "pages/assumptions.py"]


def run_app(lang: str = "zh") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["lang"] = lang
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
    client = demo_client()
    policy = policy_of(client)
    expected = evaluate(client.spend, client.terms, policy, policy.year_end)
    assert metric(at, t("overview.completion", "en")) == fmt_pct(expected.completion_rate, "en")
    assert metric(at, t("overview.deposit_deducted", "en")) == fmt_money(expected.deposit_deducted_fen, "en")
    assert metric(at, t("overview.year_end", "en")) == t(f"outcome.{expected.year_end_rule}", "en")


def test_changing_the_evaluation_date_changes_the_numbers_as_the_engine_says():
    at = run_app("en")
    day = dt.date(2024, 6, 15)
    at.date_input(key="as_of").set_value(day).run()
    client = demo_client()
    expected = evaluate(client.spend, client.terms, policy_of(client), day)
    assert metric(at, t("overview.completion", "en")) == fmt_pct(expected.completion_rate, "en")
    assert metric(at, t("overview.a630", "en")) == t("outcome.pending", "en")
    assert metric(at, t("overview.deposit_deducted", "en")) == "—"


def test_chinese_labels_by_default():
    at = run_app("zh")
    labels = [m.label for m in at.metric]
    assert "完成率" in labels and "630 考核" in labels
