"""python -m bench.memory MODE CLIENTS SPEND AS_OF: one portfolio run in a fresh process;
prints JSON with its wall and CPU seconds, the resident memory before it and the highest
resident memory during it, and the rows it read.

MODE: `engine` (ingest + full evaluation, what the product does, as the CLI runs it),
`arrow` (Arrow's CSV read + one group-by: the floor), `polars` and `duckdb` (the same read +
group-by in those engines, when installed: `pip install -r requirements-bench.txt`).

Why sampling /proc/PID/statm: Arrow, polars and duckdb allocate outside Python's allocator
(tracemalloc does not see it), and getrusage's peak includes import-time spikes; a 2 ms
sampler sees both. It samples from the parent process, so the measured run has no thread of
the bench's own (the CLI forks its readers directly only when it runs no other thread).
Imports happen before the clock starts."""
from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import sys
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
        from core.isolation import batch_process
        from core.policy import load_policy
        from core.portfolio import read_files, run_portfolio

        policy = load_policy()

        def engine() -> int:
            with batch_process():  # as `python -m core portfolio` runs it
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


def child(mode: str, clients_path: Path, spend_path: Path, as_of: dt.date) -> None:
    """The measured run: imports, then READY with the resident bytes (the parent starts
    sampling), then the run, then its JSON line."""
    run = runner(mode, clients_path, spend_path, as_of)
    print(f"READY {resident_bytes()}", flush=True)
    wall, cpu = time.perf_counter(), cpu_seconds()
    rows = run()
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    print(json.dumps({"mode": mode, "wall": wall, "cpu": cpu, "rows": rows}), flush=True)


def statm_resident(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):  # the process has just ended
        return 0


def measured(mode: str, clients_path: Path, spend_path: Path, as_of: dt.date) -> dict:
    """One run of ``mode`` in a fresh process, its resident memory sampled every 2 ms from
    here: the run's JSON plus base_bytes (after imports) and peak_bytes."""
    proc = subprocess.Popen([sys.executable, "-m", "bench.memory", "--child", mode, str(clients_path), str(spend_path), str(as_of)],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    assert proc.stdout is not None
    ready = proc.stdout.readline().split()
    if len(ready) != 2 or ready[0] != "READY":
        proc.wait()
        raise RuntimeError(f"bench.memory {mode}: the run did not start ({' '.join(ready)[:200]})")
    base = peak = int(ready[1])
    while proc.poll() is None:
        peak = max(peak, statm_resident(proc.pid))
        time.sleep(0.002)
    out = proc.stdout.read().strip().splitlines()
    if proc.returncode != 0 or not out:
        raise RuntimeError(f"bench.memory {mode}: exit {proc.returncode}")
    return json.loads(out[-1]) | {"base_bytes": base, "peak_bytes": peak}


def main() -> None:
    args = sys.argv[1:]
    as_child = args[:1] == ["--child"]
    mode, clients_path, spend_path, as_of = args[as_child:][0], Path(args[as_child:][1]), Path(args[as_child:][2]), \
        dt.date.fromisoformat(args[as_child:][3])
    if as_child:
        child(mode, clients_path, spend_path, as_of)
    else:
        print(json.dumps(measured(mode, clients_path, spend_path, as_of)))


if __name__ == "__main__":
    main()
