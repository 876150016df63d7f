"""The benchmarks run in their quick size so they cannot rot (timings are not asserted)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench  # a benchmark in its quick size

ROOT = Path(__file__).resolve().parents[1]


def test_bench_quick_runs_every_figure_and_prints_a_summary():
    run = subprocess.run([sys.executable, "-m", "bench", "--quick"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("summary: projection") and "x numpy baseline" in last
    assert "what-if target" in last and "x no-op rerun" in last and "portfolio quick cpu" in last and "x arrow" in last and "peak memory" in last


def test_load_bench_quick_drives_the_real_server_without_errors():
    run = subprocess.run([sys.executable, "-m", "bench.load", "--quick"], capture_output=True, text=True, timeout=300,
                         cwd=ROOT)
    assert run.returncode == 0, run.stderr
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("summary (ws): N=1") and "N=2" in last and "errors 1" not in last and "errors 2" not in last
