"""Screenshots of every page in both languages:
python -m tools.screenshots [OUT_DIR] [AS_OF] [PAGE,PAGE,...] [WIDTH HEIGHT]

Starts `streamlit run` on a fresh demo database, drives Debian's headless Chromium with
Playwright, and writes OUT_DIR/<page>-<lang>.png (default OUT_DIR: screenshots/).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["overview", "checkpoints", "deposit", "returns", "negotiation", "portfolio", "scenarios", "payouts", "data", "assumptions"]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@contextmanager
def served() -> Iterator[int]:
    """`streamlit run` on a fresh demo database; yields its port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp()}/shots.db"}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
                               "--server.headless", "true"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(4)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=20)


@contextmanager
def browser_pages(width: int, height: int) -> Iterator[tuple[int, Callable[[], Page]]]:
    """A fresh demo server and Debian's headless Chromium: yields the port and a new-page maker."""
    with served() as port, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        try:
            yield port, lambda: browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def each_page(new_page: Callable[[], Page], items: list) -> Iterator[tuple[str, object, Page]]:
    """A fresh page per language and item (中文 first), closed after the caller's screenshot."""
    for lang in ("zh", "en"):
        for item in items:
            page = new_page()
            yield lang, item, page
            page.close()


def main() -> None:
    """OUT_DIR [AS_OF] [PAGES] [WIDTH] [HEIGHT]: e.g. `screenshots out 2024-09-15 overview,terms 390 2400`
    (a tall window: Streamlit scrolls inside its main area, so full_page alone cuts pages off)."""
    if len(sys.argv) > 1 and sys.argv[1].startswith("-"):  # -h/--help: not an output folder
        print(__doc__)
        return
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "screenshots")
    as_of = sys.argv[2] if len(sys.argv) > 2 else "2024-09-15"
    only = sys.argv[3].split(",") if len(sys.argv) > 3 else PAGES  # e.g. "portfolio,overview"
    width, height = (int(sys.argv[4]), int(sys.argv[5])) if len(sys.argv) > 5 else (1280, 800)
    out.mkdir(parents=True, exist_ok=True)
    with browser_pages(width, height) as (port, new_page):
        for lang, name, page in each_page(new_page, only):
            page.goto(f"http://127.0.0.1:{port}/{'' if name == 'overview' else name}?lang={lang}&as_of={as_of}")
            page.wait_for_selector('[data-testid="stSidebar"]', state="attached", timeout=60_000)  # collapsed on a phone
            page.wait_for_timeout(5000)
            page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=120_000)  # the run has ended
            page.wait_for_timeout(2500)  # grids draw on a canvas after the run
            page.screenshot(path=str(out / f"{name}-{lang}-{width}.png"), full_page=True)

if __name__ == "__main__":
    main()
