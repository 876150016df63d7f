"""python -m bench.memory MODE CLIENTS SPEND AS_OF: one portfolio run in a fresh process;
prints JSON with its wall and CPU seconds, the resident memory before it and the highest
resident memory during it, and the rows it read.

MODE: `engine` (ingest + full evaluation, what the product does), `arrow` (Arrow's CSV read
+ one group-by: the floor), `polars` and `duckdb` (the same read + group-by in those
engines, when installed: `pip install -r requirements-bench.txt`).

Why sampling /proc/self/statm: Arrow, polars and duckdb allocate outside Python's allocator
(tracemalloc does not see it), and getrusage's peak includes import-time spikes; a 2 ms
sampler sees both. Imports happen before the clock starts."""
from __future__ import annotations

import datetime as dt
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
MODES = ("engine", "arrow", "polars", "duckdb")


def resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def _proc_cpu(pid: int, reaped: bool) -> float:
    """CPU seconds of a process from /proc (with its reaped children's when ``reaped``)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if reaped else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        out += [int(c) for c in task.read_text().split()]
    return out


def cpu_seconds() -> float:
    """This process's CPU plus every live descendant's and what they reaped: the product
    parses uploads in worker processes (core/isolation.py), which must count too."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime + reaped.ru_utime + reaped.ru_stime
    todo = _children(os.getpid())
    while todo:
        pid = todo.pop()
        total += _proc_cpu(pid, reaped=True)
        todo += _children(pid)
    return total


def runner(mode: str, clients_path: Path, spend_path: Path, as_of: dt.date) -> Callable[[], int]:
    """The run for a mode (imports done here, outside the timing); it returns the rows read."""
    if mode == "engine":
        from core.policy import load_policy
        from core.portfolio import read_files, run_portfolio

        policy = load_policy()

        def engine() -> int:
            clients, spend = read_files(clients_path, spend_path, policy)
            run_portfolio(clients, spend, policy, as_of)
            return len(spend.rows)
        return engine
    if mode == "arrow":
        import pyarrow.csv as pv

        def arrow() -> int:
            table = pv.read_csv(spend_path)
            table.group_by("client").aggregate([("amount", "sum")])
            return table.num_rows
        return arrow
    if mode == "polars":
        import polars as pl

        def polars() -> int:
            frame = pl.read_csv(spend_path)
            frame.group_by("client").agg(pl.col("amount").sum())
            return frame.height
        return polars
    if mode == "duckdb":
        import duckdb

        def duck() -> int:
            sums = duckdb.connect().execute(
                "SELECT client, sum(amount), count(*) FROM read_csv_auto(?) GROUP BY client", [str(spend_path)]).fetchall()
            return sum(n for _, _, n in sums)
        return duck
    raise SystemExit(f"unknown mode {mode!r} (one of {', '.join(MODES)})")


def main() -> None:
    mode, clients_path, spend_path, as_of = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), dt.date.fromisoformat(sys.argv[4])
    run = runner(mode, clients_path, spend_path, as_of)
    base = resident_bytes()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], resident_bytes())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    wall, cpu = time.perf_counter(), cpu_seconds()
    rows = run()
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    done.set()
    sampler.join()
    peak[0] = max(peak[0], resident_bytes())
    print(json.dumps({"mode": mode, "wall": wall, "cpu": cpu, "base_bytes": base, "peak_bytes": peak[0], "rows": rows}))


if __name__ == "__main__":
    main()
