"""python -m bench.pages [--rounds N]: the dashboard's own what-if path, timed in-process.

Runs the real router and Overview page (Streamlit's AppTest, a fresh demo database) and
times, interleaved round by round, a no-op rerun of the page, the four what-ifs on the
terms (target, customer type, previous-year amount, deposit date within its quarter) and an
evaluation-date change — the same cached functions a browser session goes through, with
no browser or network in the way. Reports medians of wall and CPU time (CPU: the whole
process, where the script thread runs) and each action's ratio to the no-op rerun of the
same round. `python -m bench.browser` measures the same actions in Chromium.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ACTIONS = ("no-op rerun", "target change", "customer type", "previous year", "deposit date", "date change")


def _timed(action: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def page_times(rounds: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, cpu) seconds per action and round on the demo client's Overview."""
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='bench-pages-')}/bench.db"  # only the demo client
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from streamlit.testing.v1 import AppTest

    from store import repo
    from store.db import database_url, get_engine
    from store.demo import ensure_demo
    from ui.router import pin_navigation_for_apptest

    pin_navigation_for_apptest()
    engine = get_engine(database_url())
    ensure_demo(engine)
    client_id = repo.list_clients(engine)[0].id  # the demo client of a fresh database
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
    at.session_state["lang"], at.session_state["client"] = "en", client_id
    at.session_state["as_of"] = dt.date(2024, 9, 15)
    at.run()  # the first visit: forecast, draws and row stage computed once
    target = at.number_input(key=f"target_{client_id}").value
    kind0, prev0 = at.selectbox(key=f"ctype_{client_id}_en").value, at.number_input(key=f"prev_{client_id}").value
    paid0 = at.date_input(key=f"paid_{client_id}").value
    out: dict[str, list[tuple[float, float]]] = {a: [] for a in ACTIONS}
    for i in range(rounds):
        out["no-op rerun"].append(_timed(at.run))
        amount, day = target + (i + 1) * 1e6, dt.date(2024, 9, 14) - dt.timedelta(days=i)
        out["target change"].append(_timed(lambda amount=amount: at.number_input(key=f"target_{client_id}").set_value(amount).run()))
        kind = at.selectbox(key=f"ctype_{client_id}_en")
        out["customer type"].append(_timed(lambda kind=kind: kind.set_value("new" if kind.value == "regular" else "regular").run()))
        out["previous year"].append(_timed(lambda i=i: at.number_input(key=f"prev_{client_id}").set_value(20_000_000.0 + i * 100_000).run()))
        paid = dt.date(2024, 3, 1) + dt.timedelta(days=i % 28)  # the demo paid on Mar 8: the same deposit quarter
        out["deposit date"].append(_timed(lambda paid=paid: at.date_input(key=f"paid_{client_id}").set_value(paid).run()))
        out["date change"].append(_timed(lambda day=day: at.date_input(key="as_of").set_value(day).run()))
        if at.exception:
            raise RuntimeError(at.exception[0].message)
    at.number_input(key=f"target_{client_id}").set_value(target).run()  # leave the demo as it was
    at.selectbox(key=f"ctype_{client_id}_en").set_value(kind0).run()
    at.number_input(key=f"prev_{client_id}").set_value(prev0).run()
    at.date_input(key=f"paid_{client_id}").set_value(paid0).run()
    return out


def round_ratios(samples: list[float] | list[float | None], noop: list[float]) -> list[float]:
    """Each sample over the no-op rerun of its round (an action timed k times a round pairs
    each with that round's); None samples (not measured in that round) are left out."""
    per_round = max(len(samples) // len(noop), 1)
    return [x / noop[k // per_round] for k, x in enumerate(samples) if x is not None]


def report(times: dict[str, list[tuple[float, float]]], cpu_label: str = "cpu", wall_label: str = "wall") -> dict[str, float]:
    """Print each action's median wall and CPU time and the median of its ratio to the no-op
    rerun of the same round (an action timed k times a round pairs each with that round's);
    return those ratios. Shared with bench.browser."""
    noop = [w for w, _ in times["no-op rerun"]]
    ratios = {}
    for action, samples in times.items():
        wall = statistics.median(w for w, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        line = f"  {action:14s} {wall_label} {wall * 1000:7.1f} ms  {cpu_label} {cpu * 1000:7.1f} ms"
        if action != "no-op rerun":
            ratios[action] = statistics.median(round_ratios([w for w, _ in samples], noop))
            line += f"  {ratios[action]:.2f}x the no-op rerun of its round (median)"
        print(line, flush=True)
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    times = page_times(args.rounds)
    print(f"Overview of the demo client at 2024-09-15 (AppTest, {args.rounds} interleaved rounds):")
    ratios = report(times)
    print("summary (pages): " + ", ".join(f"{a} {ratios[a]:.2f}x no-op" for a in ACTIONS[1:]))


if __name__ == "__main__":
    main()
