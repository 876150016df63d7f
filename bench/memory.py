"""python -m bench.memory CLIENTS SPEND AS_OF [--floor]: one portfolio run (or, with --floor,
the Arrow read + group-by baseline) in a fresh process; prints JSON with the resident memory
before the run and the highest resident memory during it.

Why sampling /proc/self/statm: Arrow allocates outside Python's allocator (tracemalloc does
not see it), and getrusage's peak includes import-time spikes; a 2 ms sampler sees both."""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
import threading
import time
from pathlib import Path

import pyarrow.csv as pv

from core.policy import load_policy
from core.portfolio import read_files, run_portfolio

PAGE = os.sysconf("SC_PAGE_SIZE")


def resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def main() -> None:
    clients_path, spend_path, as_of = Path(sys.argv[1]), Path(sys.argv[2]), dt.date.fromisoformat(sys.argv[3])
    policy = load_policy()
    base = resident_bytes()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], resident_bytes())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    if "--floor" in sys.argv:
        table = pv.read_csv(spend_path)
        table.group_by("client").aggregate([("amount", "sum")])
        rows = table.num_rows
    else:
        clients, spend = read_files(clients_path, spend_path, policy)
        run_portfolio(clients, spend, policy, as_of)
        rows = len(spend.rows)
    done.set()
    sampler.join()
    peak[0] = max(peak[0], resident_bytes())
    print(json.dumps({"base_bytes": base, "peak_bytes": peak[0], "rows": rows}))


if __name__ == "__main__":
    main()
