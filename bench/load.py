"""python -m bench.load [--quick] [--client ws|browser]: N concurrent sessions re-evaluating a client.

Starts `streamlit run` on a fresh demo database and drives N sessions at once. Each session
opens the Overview at a different evaluation date — a cache miss, so the server really
recomputes evaluation + 10,000-path projection — and the time until the run has finished
with the KPI cards drawn is one sample. Reports p50/p95 latency and errors for N = 1, 5, 20
(1, 2 with --quick).

Two clients, because on a 2-core machine the browsers compete with the server for CPU:
- `ws` (default): speaks Streamlit's own websocket protocol (a `rerun_script` BackMsg with
  the page's query string, then every ForwardMsg until `script_finished`) — exactly the
  server's work for a browser session, without rendering. An exception element or a run
  that does not finish is an error.
- `browser`: N Chromium pages (Playwright, Debian chromium) waiting for the KPI text.
Requests go to 127.0.0.1 only and stop by themselves.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
KPI_LABEL = "Projected completion"
Visit = Callable[[str, dt.date, float], Awaitable[None]]


class RunError(Exception):
    """A session's run failed as a user would see it (exception shown, run not finished)."""


_DAYS = itertools.count()


def evaluation_day() -> dt.date:
    """A new evaluation date per sample (a cache miss), always inside the projection window
    Jul 1 – Dec 15 2024: after Dec 31 there is nothing left to project."""
    return dt.date(2024, 7, 1) + dt.timedelta(days=next(_DAYS) % 168)


async def ws_visit(base: str, day: dt.date, timeout: float) -> None:
    """One page load over the websocket protocol: rerun with the deep link, read to the end."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    url = base.replace("http://", "ws://") + "_stcore/stream"
    async with websockets.connect(url, subprotocols=["streamlit"], max_size=None, open_timeout=timeout) as ws:
        back = BackMsg()
        back.rerun_script.query_string = f"lang=en&as_of={day}"
        back.rerun_script.page_script_hash = ""
        await ws.send(back.SerializeToString())
        seen_kpi = False
        async with asyncio.timeout(timeout):
            while True:
                msg = ForwardMsg()
                msg.ParseFromString(await ws.recv())
                kind = msg.WhichOneof("type")
                if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    element = msg.delta.new_element
                    if element.WhichOneof("type") == "exception":
                        raise RunError(f"exception: {element.exception.message[:80]}")
                    if element.WhichOneof("type") == "metric" and element.metric.label == KPI_LABEL:
                        seen_kpi = True
                elif kind == "script_finished" and msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    if seen_kpi:
                        return
                elif kind == "script_finished" and msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    raise RunError("compile error")


def browser_visitor(browser) -> Visit:
    """One page load in a real Chromium tab, waiting for the KPI text to render."""
    async def visit(base: str, day: dt.date, timeout: float) -> None:
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        try:
            await page.goto(f"{base}?lang=en&as_of={day}", timeout=timeout * 1000)
            await page.wait_for_function(f"document.body.innerText.includes('{KPI_LABEL}')", timeout=timeout * 1000)
            if await page.get_by_text("This app has encountered an error").count():
                raise RunError("app error")
        finally:
            await page.close()
    return visit


async def session(visit: Visit, base: str, rounds: int, timeout: float,
                  samples: list[float], errors: list[str]) -> None:
    """One simulated user: `rounds` evaluations one after another."""
    for _ in range(rounds):
        t = time.perf_counter()
        try:
            await visit(base, evaluation_day(), timeout)
        except Exception as exc:  # noqa: BLE001 — any failure is an error of the run, counted, not raised
            errors.append(f"{type(exc).__name__}: {exc}"[:120])
            continue
        samples.append(time.perf_counter() - t)


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: a reported p95 is a latency that happened)."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def measure(visit: Visit, base: str, levels: list[int], rounds: int, timeout: float) -> list[str]:
    await session(visit, base, 1, timeout, [], [])  # warm imports and the demo load
    summary = []
    for n in levels:
        samples: list[float] = []
        errors: list[str] = []
        t = time.perf_counter()
        await asyncio.gather(*(session(visit, base, rounds, timeout, samples, errors) for i in range(n)))
        wall = time.perf_counter() - t
        ordered = sorted(samples)
        p50, p95 = (statistics.median(ordered) if ordered else float("nan")), percentile(ordered, 0.95)
        print(f"N={n:>2}: {len(samples)} evaluations in {wall:.1f} s ({len(samples) / wall:.2f}/s), "
              f"p50 {p50:.2f} s, p95 {p95:.2f} s, errors {len(errors)}"
              + (f" {sorted(set(errors))[:3]}" if errors else ""), flush=True)
        summary.append(f"N={n} p50 {p50:.2f}s p95 {p95:.2f}s errors {len(errors)}")
    return summary


def start_server(database_url: str | None = None, script: str = "streamlit_app.py") -> tuple[subprocess.Popen, str]:
    """`streamlit run` on its own port (and a fresh SQLite database unless one is given);
    returns once the port accepts connections. ``script``: the app (bench/floor_app.py is
    the start-up floor)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": database_url or f"sqlite:///{tempfile.mkdtemp()}/load.db"}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
                               "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    return server, f"http://127.0.0.1:{port}/"


async def run(client: str, levels: list[int], rounds: int, timeout: float) -> None:
    server, base = start_server()
    try:
        if client == "ws":
            summary = await measure(ws_visit, base, levels, rounds, timeout)
        else:
            from playwright.async_api import async_playwright
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
                summary = await measure(browser_visitor(browser), base, levels, rounds, timeout)
                await browser.close()
        print(f"summary ({client}): " + "; ".join(summary))
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.load")
    ap.add_argument("--quick", action="store_true", help="N = 1, 2 with one evaluation each")
    ap.add_argument("--client", choices=["ws", "browser"], default="ws")
    ap.add_argument("--sessions", type=int, nargs="*", help="levels of N (default 1 5 20)")
    ap.add_argument("--rounds", type=int, default=3, help="evaluations per session")
    ap.add_argument("--timeout", type=float, default=120, help="seconds one evaluation may take")
    a = ap.parse_args()
    levels = a.sessions or ([1, 2] if a.quick else [1, 5, 20])
    asyncio.run(run(a.client, levels, 1 if a.quick else a.rounds, a.timeout))


if __name__ == "__main__":
    main()
