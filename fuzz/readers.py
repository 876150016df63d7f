"""python -m fuzz.readers [libFuzzer flags, e.g. -runs=20000 or -max_total_time=600]

Coverage-guided fuzzing (atheris, libFuzzer) of every reader of user input: spend files
through the row reader and Arrow's columnar path, the portfolio's clients file and the
batch CLI's scenario JSON (then the engine on whatever it accepts). The oracle is the
project's promise: bad input raises `InputError` (a message for the user), anything else
is a crash libFuzzer reports with the input that caused it.

Seeds: the good and bad spend fixtures and the golden scenarios, so the fuzzer starts
from real exports rather than from empty bytes.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["core"]):
    from core.columns import map_headers
    from core.evaluation import evaluate
    from core.ingest import _read_csv_columnar, prepare_spend
    from core.ingest import read_table_in_process as read_table
    from core.policy import load_policy
    from core.portfolio import read_clients
    from core.problems import InputError
    from core.scenario import scenario_from_bytes

import core.portfolio  # noqa: E402

# The clients file's reader in this process too: a worker per input would fuzz the fork
# server, not the parser (isolation has its own hostile-file tests), and would make a run's
# time depend on how fast the machine forks.
core.portfolio.read_table = read_table

ROOT = Path(__file__).resolve().parents[1]
POLICY = load_policy()
NAMES = ["spend.csv", "spend.xlsx", "spend.tsv", "clients.csv", "scenario.json", "columnar.csv"]


def one_input(data: bytes) -> None:
    """The first byte picks the reader; the rest is the file."""
    if not data:
        return
    name, body = NAMES[data[0] % len(NAMES)], data[1:]
    try:
        if name == "scenario.json":
            s = scenario_from_bytes(body, name)
            evaluate(s.spend, s.terms, s.policy, s.as_of)
        elif name == "clients.csv":
            read_clients(body, name, POLICY)
        else:
            table = _read_csv_columnar(body, name, "columns") if name == "columnar.csv" else read_table(body, name)
            if table is not None:
                prepare_spend(table, map_headers(table.headers), POLICY)
    except InputError:
        pass  # a message for the user; anything else is a crash


def seed_corpus() -> Path:
    """Real files, each prefixed with the byte that routes it to its reader."""
    out = Path(tempfile.mkdtemp(prefix="fuzz-seeds-"))
    files = [(p, 0) for p in sorted((ROOT / "tests" / "fixtures").glob("*/*.csv"))]
    files += [(p, 5) for p in sorted((ROOT / "tests" / "fixtures").glob("good/*.csv"))]
    files += [(p, 1) for p in sorted((ROOT / "tests" / "fixtures").glob("*/*.xlsx"))]
    files += [(p, 4) for p in sorted((ROOT / "tests" / "golden").glob("*.json")) if not p.name.endswith(".expected.json")]
    files += [(ROOT / "data" / "demo" / "portfolio_clients.csv", 3)]
    seeds = [path.read_bytes() for path, _ in files]
    routes = [route for _, route in files]
    sys.path.insert(0, str(ROOT / "tests"))
    from hostile import (
        cases,  # the hostile corpus's small files: JSON, long lines, odd unicode
    )

    for case in cases():
        if not case.slow and case.kind in ("scenario", "spend", "clients") and not case.name.endswith((".xlsx", ".xls")):
            # (workbooks that make calamine abort are the worker's job: in process they end the fuzzer)
            data = case.build()
            if len(data) <= 20_000:  # small ones only: libFuzzer mutates each seed many times
                seeds.append(data)
                routes.append({"scenario": 4, "spend": 0, "clients": 3}[case.kind])
    for i, (data, route) in enumerate(zip(seeds, routes)):
        if len(data) <= 200_000:
            (out / f"{i:03d}").write_bytes(bytes([route]) + data)
    return out


def main() -> None:
    args = [sys.argv[0], *sys.argv[1:]]
    if not any(not a.startswith("-") for a in args[1:]):
        args.append(str(seed_corpus()))
    atheris.Setup(args, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
