"""python -m bench.browser [--rounds N]: what a user waits for, in Chromium.

Starts `streamlit run` on a fresh demo database and drives Debian's headless Chromium
(Playwright) on the demo client's Overview at 2024-09-15. Round by round, interleaved, it
times each action until the server's `script_finished` message has arrived over the
page's websocket and the browser has drawn the result:

- no-op rerun: the "R" shortcut (the same page, nothing changed) — the floor;
- target change: a new target typed in the sidebar, until the Completion KPI shows the new value;
- customer type, previous year, deposit date: the other what-ifs on the terms (a type chosen
  by keyboard, a new 2023 amount, a deposit day in the same quarter);
- date change: a new evaluation date picked in the sidebar's calendar;
- page switch: Overview -> Checkpoints -> Overview through the sidebar (each leg one sample).

With ``--starts N`` it also times N starts of bare Streamlit (bench/floor_app.py: one KPI, the
floor), N first starts (a fresh database: the demo client is
imported, its projection computed) and the restart of the same server on that database,
from launching `streamlit run` until the Overview's Completion KPI is drawn.

For each: median wall time, median server CPU time (the `streamlit run` process, from
/proc), and the median of each round's ratio to that round's no-op rerun. A second table
splits the wall time: from the request (the page's websocket sent the rerun — what is left
once Playwright's typing, which differs by action, is taken out) and the browser's long
tasks (main-thread work over 50 ms, from a PerformanceObserver: a chart drawn anew shows
here, a no-op has none). A third line times the actions that change the Completion KPI from
the request until the frame that drew its new value (on the page's own clock).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.load import FLAGS, start_server
from bench.pages import report, round_ratios

COMPLETION = "Completion"
ACTIONS = ("no-op rerun", "target change", "customer type", "previous year", "deposit date", "date change", "page switch")


def server_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


PROBES = """(() => {
  window.__probe = {longTaskMs: 0, sentAt: [], kpiDrawnAt: []};
  new PerformanceObserver(list => { for (const e of list.getEntries()) window.__probe.longTaskMs += e.duration; })
    .observe({type: "longtask", buffered: true});
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) { window.__probe.sentAt.push(performance.now()); return send.call(this, data); };
  let shown = null;
  new MutationObserver(() => {
    const metric = [...document.querySelectorAll("[data-testid=stMetric]")].find(m => m.textContent.startsWith(LABEL));
    const value = metric && metric.querySelector("[data-testid=stMetricValue]");
    if (value && value.textContent !== shown) {
      shown = value.textContent;
      requestAnimationFrame(frame => window.__probe.kpiDrawnAt.push(frame));
    }
  }).observe(document, {subtree: true, childList: true, characterData: true});
})();"""
"""In the page, on the page's clock: the main thread's long tasks (work over 50 ms: a chart
drawn anew), when the page sent each websocket message, and the frame that drew each new
value of the Completion KPI (textContent, not innerText: reading it forces no layout in the
middle of the page's own work)."""


@dataclass(frozen=True)
class Split:
    """Where one action's wall time went: after the request was sent, in the browser's long
    tasks, and until the new Completion KPI was drawn (None when the action left it as it was)."""

    from_request: float
    long_tasks: float
    kpi_drawn: float | None


class Session:
    """One browser page on the server, counting the runs it has seen finish."""

    def __init__(self, page, base: str, pid: int):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.page, self.pid, self.finished = page, pid, 0
        self.splits: list[Split] = []  # one per timed action

        def frame(payload) -> None:
            msg = ForwardMsg()
            try:
                msg.ParseFromString(payload if isinstance(payload, bytes) else payload.encode("latin-1"))
            except Exception:  # noqa: BLE001 — not a ForwardMsg (a ping): not a run's end
                return
            if msg.WhichOneof("type") == "script_finished":
                self.finished += 1

        page.add_init_script(PROBES.replace("LABEL", json.dumps(COMPLETION)))
        page.on("websocket", lambda ws: ws.on("framereceived", frame))
        page.goto(f"{base}?lang=en&as_of=2024-09-15")
        self.kpi()  # the first run (forecast, draws) is not a sample

    def kpi(self) -> str:
        metric = self.page.locator('[data-testid="stMetric"]', has_text=COMPLETION).first
        metric.wait_for(timeout=120_000)
        return metric.locator('[data-testid="stMetricValue"]').inner_text()

    def timed(self, act: Callable[[], None], done: Callable[[], None] | None = None,
              prepare: Callable[[], None] | None = None) -> tuple[float, float]:
        """Wall and server CPU seconds from the action until its run finished and was drawn
        (``prepare``: untimed steps before it, such as opening a calendar)."""
        if prepare:
            prepare()
        probe = self.probe()
        before, cpu, wall = self.finished, server_cpu(self.pid), time.perf_counter()
        act()
        while self.finished == before:
            if time.perf_counter() - wall > 120:
                raise TimeoutError("the action started no run (the page did not take the input)")
            self.page.wait_for_timeout(2)
        if done:
            done()
        drawn_at = self.page.evaluate(  # the page's clock when the run's result has been drawn
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))")
        end, cpu = time.perf_counter(), server_cpu(self.pid) - cpu
        after = self.probe()
        sent = after["sentAt"][len(probe["sentAt"]):]
        kpi = after["kpiDrawnAt"][len(probe["kpiDrawnAt"]):]
        from_request = (drawn_at - sent[0]) / 1000 if sent else end - wall  # nothing sent seen: the whole wall time
        self.splits.append(Split(from_request, (after["longTaskMs"] - probe["longTaskMs"]) / 1000,
                                 (kpi[0] - sent[0]) / 1000 if kpi and sent else None))
        return end - wall, cpu

    def probe(self) -> dict:
        return self.page.evaluate("() => window.__probe")

    def sidebar_input(self, label: str, value: str) -> None:
        field = self.page.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Enter")

    def open_calendar(self, label: str = "Evaluation date") -> None:
        field = self.page.locator('[data-testid="stDateInput"]').filter(has_text=label)
        field.get_by_test_id("stDateInputCalendarButton").click()

    def pick_day(self, day: int, month: str = "September") -> None:
        """A day of 2024 in the open calendar (it opens on the month of the input's value)."""
        self.page.get_by_role("button", name=f"{month} {day}, 2024").click()

    def type_option(self, label: str, option: str) -> None:
        """Type an option's text into a select box (untimed: the user's typing); Enter takes it."""
        box = self.select_box(label)
        box.click()
        box.press_sequentially(option)

    def select_box(self, label: str):
        return self.page.locator('[data-testid="stSelectbox"]').filter(has_text=label).get_by_role("combobox")

    def rerun(self) -> None:
        self.page.evaluate("() => document.activeElement && document.activeElement.blur()")  # "R" works outside inputs
        self.page.keyboard.press("r")


def server_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def measure(rounds: int) -> tuple[dict[str, list[tuple[float, float]]], dict[str, list[Split]]]:
    """Per action, (wall, server CPU) samples and the same samples' splits."""
    from playwright.sync_api import sync_playwright

    server, base = start_server()
    out: dict[str, list[tuple[float, float]]] = {a: [] for a in ACTIONS}
    split: dict[str, list[Split]] = {a: [] for a in ACTIONS}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            s = Session(browser.new_page(viewport={"width": 1280, "height": 900}), base, server.pid)

            def take(action: str, *act: Callable[[], None], **steps: Callable[[], None]) -> None:
                out[action].append(s.timed(*act, **steps))
                split[action].append(s.splits[-1])

            for i in range(rounds):
                old = s.kpi()
                take("no-op rerun", s.rerun)
                target = f"{50_000_000 + (i + 1) * 1_000_000:.2f}"
                take("target change", lambda target=target: s.sidebar_input("Target amount (RMB)", target),
                     lambda old=old: s.page.wait_for_function(
                         "([label, old]) => [...document.querySelectorAll('[data-testid=stMetric]')]"
                         ".some(m => m.innerText.includes(label) && !m.innerText.includes(old))", arg=[COMPLETION, old]))
                kind = "New" if i % 2 == 0 else "Regular (spent in 2023)"
                take("customer type", lambda: s.select_box("Customer type").press("Enter"),
                     prepare=lambda kind=kind: s.type_option("Customer type", kind))
                take("previous year", lambda i=i: s.sidebar_input("Actual amount 2023 (RMB)", f"{20_000_000 + i * 100_000:.2f}"))
                take("deposit date", lambda day=9 + i % 10: s.pick_day(day, "March"),  # the demo paid on Mar 8: the same quarter
                     prepare=lambda: s.open_calendar("Deposit paid on"))
                take("date change", lambda day=14 - i % 10: s.pick_day(day), prepare=s.open_calendar)
                for link in ("Checkpoints", "Overview"):
                    take("page switch", lambda link=link: s.page.get_by_role("link", name=link).first.click())
            s.sidebar_input("Target amount (RMB)", "50000000.00")  # the server's database is a fresh one: nothing to restore beyond this
            print(f"server RSS after {rounds} rounds: {server_rss_mb(server.pid):.0f} MB", flush=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return out, split


def time_start(browser, database_url: str, script: str = "streamlit_app.py") -> tuple[float, float]:
    """Wall seconds from launching the server until the Overview's Completion KPI is drawn,
    and the server's CPU seconds by then."""
    wall = time.perf_counter()
    server, base = start_server(database_url, script)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}?lang=en&as_of=2024-09-15")
        page.locator('[data-testid="stMetric"]', has_text=COMPLETION).first.wait_for(timeout=180_000)
        took = time.perf_counter() - wall
        cpu = server_cpu(server.pid)
        page.close()
        return took, cpu
    finally:
        server.terminate()
        server.wait(timeout=30)


def measure_starts(n: int) -> dict[str, list[tuple[float, float]]]:
    """First start on a fresh database, then a restart on the same database, n times."""
    import tempfile

    from playwright.sync_api import sync_playwright

    out: dict[str, list[tuple[float, float]]] = {"bare streamlit": [], "first start": [], "later start": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        for _ in range(n):
            url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-start-')}/start.db"
            out["bare streamlit"].append(time_start(browser, url, "bench/floor_app.py"))
            out["first start"].append(time_start(browser, url))
            out["later start"].append(time_start(browser, url))
        browser.close()
    return out


def kpi_report(split: dict[str, list[Split]]) -> None:
    """From the request until the frame that drew the new Completion KPI, for the actions
    that change it, against the no-op rerun of the same round timed from its request until
    everything was drawn."""
    noop = [x.from_request for x in split["no-op rerun"]]
    print("until the new Completion KPI was drawn (from the request):")
    for action, samples in split.items():
        drawn = [x.kpi_drawn for x in samples]
        ratios = round_ratios(drawn, noop)
        if action == "no-op rerun" or not ratios:
            continue
        print(f"  {action:14s} kpi drawn {statistics.median(d for d in drawn if d is not None) * 1000:7.1f} ms  "
              f"{statistics.median(ratios):.2f}x the no-op rerun of its round (median of {len(ratios)})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--starts", type=int, default=0, help="also time N first starts and restarts")
    args = parser.parse_args()
    if args.starts:
        starts = measure_starts(args.starts)
        floor = statistics.median(w for w, _ in starts["bare streamlit"])
        for name, samples in starts.items():
            walls, cpus = [w for w, _ in samples], [c for _, c in samples]
            goal = {"first start": " goal ≤ 5 s;", "later start": " goal ≤ 3 s;"}.get(name, "")
            print(f"  {name:<14} wall {statistics.median(walls):6.2f} s  server cpu {statistics.median(cpus):6.2f} s "
                  f"({statistics.median(walls) / floor:.2f}x bare Streamlit;{goal} median of {len(samples)})", flush=True)
    times, split = measure(args.rounds)
    print(f"Chromium, Overview of the demo client at 2024-09-15, {args.rounds} interleaved rounds:")
    r = report(times, cpu_label="server cpu")
    print("the same samples, timed from the request (the page sent the rerun), and the browser's long tasks:")
    report({a: [(x.from_request, x.long_tasks) for x in v] for a, v in split.items()}, wall_label="from request", cpu_label="long tasks")
    kpi_report(split)
    print("summary (browser): " + ", ".join(f"{a} {r[a]:.2f}x no-op" for a in ACTIONS[1:]))


if __name__ == "__main__":
    main()
