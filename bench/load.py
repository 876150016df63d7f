"""python -m bench.load [--quick]: N concurrent browser sessions re-evaluating a client.

Starts `streamlit run` on a fresh demo database and drives N Chromium pages at once
(Playwright, Debian chromium). Each session opens the Overview at a different evaluation
date — a cache miss, so the server really recomputes evaluation + 10,000-path projection —
and the time until the KPI cards show is one sample. Reports p50/p95 latency and errors
for N = 1, 5, 20 (1, 2 with --quick). Requests go to 127.0.0.1 only and stop by themselves.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 120_000
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


async def session(browser, url: str, rounds: int, offset: int, samples: list[float], errors: list[str]) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        for r in range(rounds):
            day = dt.date(2024, 7, 1) + dt.timedelta(days=offset * rounds + r)
            t = time.perf_counter()
            await page.goto(f"{url}?lang=en&as_of={day}")
            await page.wait_for_function(
                "document.body.innerText.includes('Projected completion')", timeout=TIMEOUT_MS)
            samples.append(time.perf_counter() - t)
            if await page.get_by_text("This app has encountered an error").count():
                errors.append(f"session {offset}: app error")
    except Exception as exc:  # a timeout or crash is an error of the run, not of the bench
        errors.append(f"session {offset}: {type(exc).__name__}")
    finally:
        await page.close()


async def run(levels: list[int], rounds: int) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp()}/load.db"}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
                               "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        time.sleep(4)
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            await session(browser, url, 1, 999, [], [])  # warm imports and the demo load
            summary = []
            for n in levels:
                samples: list[float] = []
                errors: list[str] = []
                await asyncio.gather(*(session(browser, url, rounds, i + 10 * n, samples, errors) for i in range(n)))
                ordered = sorted(samples)
                p50 = statistics.median(ordered) if ordered else float("nan")
                p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else float("nan")
                print(f"N={n:>2}: {len(samples)} evaluations, p50 {p50:.2f} s, p95 {p95:.2f} s, errors {len(errors)}"
                      + (" " + str(sorted({e.split(": ")[1] for e in errors})) if errors else ""))
                summary.append(f"N={n} p50 {p50:.2f}s p95 {p95:.2f}s errors {len(errors)}")
            await browser.close()
        print("summary: " + "; ".join(summary))
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.load")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sessions", type=int, nargs="*", help="levels of N (default 1 5 20)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=120, help="seconds one evaluation may take")
    a = ap.parse_args()
    global TIMEOUT_MS
    TIMEOUT_MS = int(a.timeout * 1000)
    levels = a.sessions or ([1, 2] if a.quick else [1, 5, 20])
    asyncio.run(run(levels, 1 if a.quick else a.rounds))


if __name__ == "__main__":
    main()
