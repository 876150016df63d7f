"""End-to-end: `streamlit run` in a subprocess, driven by Playwright in headless Chromium."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from core.evaluation import evaluate
from core.i18n import fmt_pct
from tests.conftest import demo_scenario

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    port = _free_port()
    log = open(Path(tempfile.gettempdir()) / f"streamlit-e2e-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp(prefix='rebate-e2e-')}/e2e.db"},
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    yield f"http://127.0.0.1:{port}/"
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


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
    page.close()
