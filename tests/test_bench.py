"""The benchmark runs in its quick size so it cannot rot (its timings are not asserted)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_bench_quick_runs_and_prints_a_summary():
    run = subprocess.run([sys.executable, "-m", "bench", "--quick"], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[1])
    assert run.returncode == 0, run.stderr
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("summary: projection") and "x numpy baseline" in last
