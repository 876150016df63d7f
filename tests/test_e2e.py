"""End-to-end: `streamlit run` in a subprocess, driven by Playwright in headless Chromium."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.evaluation import evaluate
from core.i18n import fmt_pct
from tests.conftest import demo_portfolio_table, demo_scenario

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(database_url: str) -> Iterator[str]:
    """`streamlit run` on a database; yields its URL."""
    port = _free_port()
    log = open(Path(tempfile.gettempdir()) / f"streamlit-e2e-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "DATABASE_URL": database_url},
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def app_database() -> str:
    return f"sqlite:///{tempfile.mkdtemp(prefix='rebate-e2e-')}/e2e.db"


@pytest.fixture(scope="module")
def app_url(app_database):
    with served(app_database) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


def test_overview_in_a_real_browser_shows_the_cli_numbers_and_switches_language(app_url, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(app_url)
    try:
        page.wait_for_selector('[data-testid="stMetric"]', timeout=60_000)
    except Exception:
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "e2e-failure.png"))
        raise
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)  # the script has finished its run
    s = demo_scenario()
    expected = evaluate(s.spend, s.terms, s.policy)
    completion = page.locator('[data-testid="stMetric"]').first
    assert "完成率" in completion.inner_text()
    assert fmt_pct(expected.completion_rate, "zh") in completion.inner_text()
    page.get_by_text("English", exact=True).click()
    page.wait_for_timeout(500)
    try:
        page.wait_for_function("document.body.innerText.includes('Completion')", timeout=30_000)
    finally:
        page.screenshot(path="/tmp/e2e_after_click.png")
    assert "630 assessment" in page.locator("body").inner_text()
    page.get_by_test_id("stSidebarNav").get_by_text("Developer payouts").click()
    page.wait_for_function("document.body.innerText.includes('Payment pending')", timeout=30_000)
    assert "Carried (below 1,000)" in page.locator("body").inner_text()
    page.close()


def _wait_text(page, text: str, name: str) -> None:
    try:
        page.wait_for_function(f"document.body.innerText.includes({text!r})", timeout=30_000)
    except Exception:
        page.screenshot(path=str(Path(tempfile.gettempdir()) / f"e2e-{name}.png"), full_page=True)
        raise


def _metric(page, label: str) -> str:
    card = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return card.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _new_client_with_upload(page, app_url: str, name: str, upload: Path, rows: int) -> None:
    """On the Data page in English: create a client, upload a file through the chooser, import it."""
    from core.i18n import t

    page.goto(app_url + "data?lang=en")
    page.wait_for_selector('[data-testid="stFileUploader"]', timeout=60_000)
    page.get_by_text(t("inputs.new_client", "en"), exact=True).click()
    page.get_by_label(t("inputs.client_name", "en")).fill(name)
    page.get_by_role("button", name=t("inputs.create", "en")).click()
    _wait_text(page, f"{name}: spend data", "new-client")
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("stFileUploaderDropzone").get_by_test_id("stBaseButton-secondary").click()
    chooser.value.set_files(str(upload))
    page.get_by_role("button", name=t("data.import", "en"), exact=True).click()
    _wait_text(page, f"{rows} rows imported", "import")


def test_new_client_upload_set_inputs_and_read_the_cli_numbers_then_export(app_url, browser, tmp_path):
    import io
    import json

    import openpyxl

    from core.i18n import fmt_money, t

    fixture = tmp_path / "ocean_report_gbk.csv"  # the GBK report, with a last row on Dec 31: the data covers the year
    fixture.write_bytes((ROOT / "tests" / "fixtures" / "good" / "ocean_report_gbk.csv").read_bytes()
                        + "2024-12-31,1790000001,富达-信息流,济南富达食品有限公司,巨量广告,抖音,0.00\n".encode("gbk"))
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    _new_client_with_upload(page, app_url, "E2E 客户", fixture, 4)
    # contract inputs: target 5,000 RMB, new customer
    target = page.get_by_label(t("inputs.target", "en"))
    target.fill("5000")
    target.press("Enter")
    _wait_text(page, "¥5,000.00", "target")
    box = page.get_by_role("combobox", name=t("inputs.customer_type", "en"))
    box.click()
    page.keyboard.type(t("inputs.customer_type.new", "en"))
    page.keyboard.press("Enter")
    _wait_text(page, "New", "customer-type")
    page.get_by_test_id("stSidebarNav").get_by_text(t("page.overview", "en")).click()
    page.wait_for_selector('[data-testid="stMetric"]', timeout=60_000)
    page.wait_for_timeout(1500)
    # the same inputs through the CLI
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"client": {"target_amount": 5000, "customer_type": "new", "main_industry": "other",
                                               "actual_2023": 0, "deposit_paid_on": "2024-01-01"}}))
    run = subprocess.run([sys.executable, "-m", "core", "evaluate", str(scenario), "--spend", str(fixture)],
                         capture_output=True, text=True, cwd=ROOT)
    cli = json.loads(run.stdout)
    assert _metric(page, t("overview.completion", "en")) == fmt_pct(cli["completion_rate"], "en")
    assert _metric(page, t("overview.a630", "en")) == t(f"outcome.{cli['assessment_630']}", "en")
    assert _metric(page, t("overview.year_end", "en")) == t(f"outcome.{cli['year_end_rule']}", "en")
    assert _metric(page, t("overview.deposit_deducted", "en")) == fmt_money(round(cli["deposit_deducted"] * 100), "en")
    # Chinese labels
    page.get_by_test_id("stRadioGroup").get_by_text("中文", exact=True).click()
    page.wait_for_function("document.body.innerText.includes('完成率')", timeout=30_000)
    # the Excel export opens with openpyxl
    with page.expect_download() as download:
        page.get_by_role("button", name=t("export.excel", "zh")).click()
    book = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    assert "季度" in book.sheetnames and book["输入"]["B2"].value == "E2E 客户"  # sheets in the UI's language
    page.close()


def test_a_file_ending_in_september_shows_data_through_and_projects_from_the_next_day(app_url, browser, tmp_path):
    """Coverage in a real browser: a file that ends on 09-15, viewed at Dec 31, says where
    the data end, shows projections (not a settled year) and the fan starts on 09-16."""
    import datetime as dt

    from core.i18n import t

    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range((dt.date(2024, 9, 15) - dt.date(2024, 1, 1)).days + 1)]
    upload = tmp_path / "ends_0915.csv"
    upload.write_text("日期,账户ID,消耗\n" + "".join(f"{d:%Y-%m-%d},1790000077,150000.00\n" for d in days), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _new_client_with_upload(page, app_url, "E2E September", upload, len(days))
    page.get_by_test_id("stSidebarNav").get_by_text(t("page.overview", "en")).click()
    _wait_text(page, "Data through 2024-09-15", "september-banner")
    page.wait_for_selector('[data-testid="stMetric"]', timeout=60_000)
    as_of = page.get_by_test_id("stSidebar").get_by_test_id("stDateInput").first.locator("input")
    assert as_of.input_value().replace("/", "-") == "2024-09-15"  # opens at the data's last day
    page.get_by_label(t("app.as_of", "en")).first.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("2024/12/31")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    _wait_text(page, "the days from 2024-09-16 on are projected, not counted as zero spend", "september-projected")
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    assert any(t("overview.projected_completion", "en") in label for label in labels)  # provisional: a projection
    assert not any(t("overview.deposit_deducted", "en") in label for label in labels)  # never a settled verdict
    page.wait_for_timeout(1500)
    first_projected = page.evaluate(
        """() => { for (const plot of document.querySelectorAll('.js-plotly-plot')) {
                     const fan = (plot.data || []).find(tr => tr.name === %s);
                     if (fan) return String(fan.x[0]).slice(0, 10); } return null; }""" % repr(t("overview.fan", "en")))
    assert first_projected == "2024-09-16"
    page.close()


def test_portfolio_row_opens_in_the_dashboard_keeping_language_and_date(app_url, browser):
    """Finance picks a client in the portfolio table and lands on its overview with the
    portfolio's numbers, still in English and still at the portfolio's evaluation date."""
    import datetime as dt
    import re

    from core.i18n import t

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url + "portfolio?lang=en&as_of=2024-09-30")
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=60_000)
    page.wait_for_timeout(1500)  # the grid draws on a canvas after the element appears
    grid = page.locator('[data-testid="stDataFrame"]').bounding_box()
    page.mouse.click(grid["x"] + 18, grid["y"] + 36 + 17)  # the first row's selection cell
    opener = page.get_by_role("button", name=re.compile("in the dashboard"))
    opener.wait_for(timeout=30_000)
    name = re.fullmatch(r"Open (.+) in the dashboard", opener.inner_text().strip()).group(1)
    opener.click()
    _wait_text(page, "where the year stands", "portfolio-open")
    assert name in page.locator("h1, h2").first.inner_text()
    table = demo_portfolio_table(dt.date(2024, 9, 30))
    expected = table.loc[table["name"] == name, "completion_rate"].item()
    assert _metric(page, t("overview.completion", "en")) == fmt_pct(expected, "en")
    as_of_field = page.get_by_test_id("stSidebar").get_by_test_id("stDateInput").first.locator("input")
    assert as_of_field.input_value().replace("/", "-") == "2024-09-30"
    page.close()


def test_the_server_survives_the_worst_uploads_and_serves_another_user(app_url, browser):
    """The three worst files of the hostile corpus through the Data page of one browser;
    each gets a message, and a second browser then evaluates the demo client."""
    import sys as _sys

    _sys.path.insert(0, str(ROOT / "tests"))
    from hostile import cases

    worst = {c.name: c for c in cases()}
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url + "data?lang=en")
    page.wait_for_selector('[data-testid="stFileUploader"]', timeout=60_000)
    for name, expect in (("stray_cell_no_dimension.xlsx", "memory"), ("sheet_bomb_1100mb.xlsx", "inflates"),
                         ("line_2m_chars.csv", "")):
        page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(
            {"name": name, "mimeType": "application/octet-stream", "buffer": worst[name].build()})
        page.wait_for_function(f"document.body.innerText.includes({name + ':'!r}) || document.body.innerText.includes('Errors')",
                               timeout=180_000)
        text = page.locator("body").inner_text()
        assert expect in text and "encountered an error" not in text, text[:800]
    other = browser.new_context().new_page()
    other.goto(app_url + "?lang=en")
    other.wait_for_selector('[data-testid="stMetric"]', timeout=60_000)
    assert "Completion" in other.locator("body").inner_text()
    other.close()
    page.close()


def test_a_client_named_like_markdown_never_makes_the_browser_fetch_or_link(app_url, browser):
    from core.i18n import t

    evil = "![x](http://evil.test/p.png) [a](javascript:alert(1)) <img src=http://evil.test/i.png>"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "evil.test" in r.url else None)
    page.goto(app_url + "data?lang=en")
    page.wait_for_selector('[data-testid="stFileUploader"]', timeout=60_000)
    page.get_by_text(t("inputs.new_client", "en"), exact=True).click()
    page.get_by_label(t("inputs.client_name", "en")).fill(evil[:80])
    page.get_by_role("button", name=t("inputs.create", "en")).click()
    _wait_text(page, "evil.test", "evil-client")
    with page.expect_file_chooser() as chooser:  # and a file named like markdown that cannot be read
        page.get_by_test_id("stFileUploaderDropzone").get_by_test_id("stBaseButton-secondary").click()
    chooser.value.set_files({"name": "[phish](http://evil.test/login).csv", "mimeType": "text/csv", "buffer": b"\x00\x01"})
    page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=60_000)
    for nav in ("Overview", "Checkpoints", "Scenarios", "Data"):
        page.get_by_test_id("stSidebarNav").get_by_text(nav, exact=True).click()
        page.wait_for_timeout(1500)
        bad = page.locator("a[href*='evil']:not([href^='#']), img[src*='evil'], a[href^='javascript']")
        assert bad.count() == 0, (nav, [bad.nth(i).evaluate("e => e.parentElement.parentElement.outerHTML.slice(0, 400)") for i in range(bad.count())])
    assert fetched == [], fetched
    page.close()


def test_the_browser_bench_runs_a_round_against_its_own_server():
    """`python -m bench.browser` (README's live what-if figures) cannot rot: one round of
    each action in Chromium on its own server; timings are not asserted, only that every
    action started a run the page drew, and that the page's probes saw each request and the
    target change's new KPI."""
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the bench makes its own demo database
    run = subprocess.run([sys.executable, "-m", "bench.browser", "--rounds", "1"], capture_output=True, text=True,
                         timeout=280, cwd=root, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("summary (browser): target change") and "page switch" in last
    # the split: every action timed from its request, and the target change's new KPI seen drawn
    assert run.stdout.count("from request") == 7 and "target change  kpi drawn" in run.stdout, run.stdout


@pytest.mark.skipif(not os.environ.get("TEST_POSTGRES_URL"), reason="needs PostgreSQL (TEST_POSTGRES_URL)")
def test_two_replicas_on_one_postgresql_see_each_others_edits_and_never_lose_one(browser):
    """The web tier scales by replicas on one database: two `streamlit run` processes on the
    same PostgreSQL. A target saved through replica A is what replica B shows; B's edit made
    on the version it had read is refused (version check), never written over A's."""
    import uuid

    from core.i18n import t
    from store import repo
    from store.db import get_engine

    url = os.environ["TEST_POSTGRES_URL"]
    engine = get_engine(url)
    inputs = {"target_amount": 50000000, "customer_type": "regular", "main_industry": "other", "previous_year": 0,
              "deposit_paid_on": "2024-01-01"}
    client = repo.create_client(engine, f"Replicas {uuid.uuid4().hex[:6]}", inputs)
    label = t("inputs.target", "en")

    def target_field(page):
        return page.locator('[data-testid="stSidebar"]').get_by_label(label, exact=True)

    with served(url) as a_url, served(url) as b_url:
        a, b = browser.new_page(), browser.new_page()
        for page, base in ((a, a_url), (b, b_url)):
            page.goto(f"{base}?lang=en&client={client.id}")
            target_field(page).wait_for(timeout=120_000)
        target_field(a).fill("60000000")
        target_field(a).press("Enter")
        a.get_by_text("¥60,000,000.00").first.wait_for(timeout=60_000)  # saved: the caption under the field
        assert '"target_amount": 60000000.0' in repo.get_client(engine, client.id).inputs_json
        b.reload()
        target_field(b).wait_for(timeout=120_000)
        assert target_field(b).input_value() == "60000000.00"  # A's edit, seen through B
        target_field(a).fill("61000000")  # A moves on; B still shows the version it read
        target_field(a).press("Enter")
        a.get_by_text("¥61,000,000.00").first.wait_for(timeout=60_000)
        target_field(b).fill("55000000")
        target_field(b).press("Enter")
        b.get_by_text(t("store.conflict", "en")).wait_for(timeout=60_000)
        assert '"target_amount": 61000000.0' in repo.get_client(engine, client.id).inputs_json  # A's, not lost
        a.close()
        b.close()


def test_a_fresh_servers_first_run_from_a_direct_link_goes_through_the_router(browser):
    """The pages/ folder puts Streamlit in its legacy multipage mode until the first
    st.navigation call (ui/router.py). The very first request to a fresh server, a direct
    /data link, must still be the router's run: the shared sidebar (language, client,
    evaluation date) is there and the Data page is drawn inside it."""
    from core.i18n import t

    with served(f"sqlite:///{tempfile.mkdtemp(prefix='rebate-e2e-')}/fresh.db") as url:
        page = browser.new_page()
        page.goto(f"{url}data?lang=en")
        page.get_by_text(t("data.upload", "en")).first.wait_for(timeout=120_000)
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert sidebar.get_by_text("Language / 语言").count() == 1
        assert sidebar.get_by_text(t("app.as_of", "en")).count() >= 1
        assert page.get_by_role("link", name=t("page.overview", "en")).count() >= 1  # the router's navigation
        page.close()


def test_the_page_fetches_the_chart_module_before_any_chart_and_the_preloader_takes_no_room(app_url, browser):
    """ui/preload.py: the Data page draws no chart, yet the browser asks for Plotly's module
    (so on the Overview it loads while the server computes); the preloader is hidden."""
    from core.i18n import t

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(app_url + "data?lang=en")
    page.get_by_text(t("data.upload", "en")).first.wait_for(timeout=60_000)
    fetched = "() => performance.getEntriesByType('resource').some(e => e.name.includes('/static/js/PlotlyChart.'))"
    page.wait_for_function(fetched, timeout=30_000)  # raises if the module is never fetched
    assert page.locator(".js-plotly-plot").count() == 0  # nothing here needed it: the preloader asked
    assert page.locator(".st-key-preload").bounding_box() is None  # display: none — no gap above the page
    page.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_cumulative_chart_is_drawn_once_at_the_overviews_width(app_database, app_url, browser, lang):
    """ui.figures.CUMULATIVE_MARGIN: the chart every what-if on the terms draws anew already
    has the room its axis labels and legend take at 1280 px (the demo client), so Plotly keeps
    those margins (drawn once) instead of growing them from the auto margins and drawing it
    again. (Streamlit wraps a title in <b>: matched by inclusion. The demo is opened by id:
    a fresh session otherwise opens the client last opened by the tests before.)"""
    from core.i18n import t
    from store import repo
    from store.db import get_engine
    from store.demo import DEMO_NAME
    from ui.figures import CUMULATIVE_MARGIN

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{app_url}?lang={lang}")
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.wait_for(timeout=60_000)  # the store, with the demo, is open
    demo = next(c.id for c in repo.list_clients(get_engine(app_database)) if c.name == DEMO_NAME)
    page.goto(f"{app_url}?lang={lang}&as_of=2024-09-15&client={demo}")
    title = t("overview.cumulative", lang)
    drawn = page.wait_for_function(
        """title => { const g = [...document.querySelectorAll('.js-plotly-plot')]
                        .find(g => g._fullLayout && g._fullLayout.title.text.includes(title));
                      return g && g._fullLayout._size; }""", arg=title, timeout=60_000).json_value()
    assert {k: drawn[k] for k in "lrtb"} == dict(CUMULATIVE_MARGIN), drawn
    page.close()
