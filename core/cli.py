"""`python -m core evaluate SCENARIO.json [--spend FILE]`: the batch entry point.

Why exit 2 with one line: scripts and CI can tell bad input (2) from a crash, and a
person reads which field of which row to fix, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from .validation import InputError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"usage: {message}")


def _parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="python -m core", description="Ocean Engine rebate agreement engine")
    sub = ap.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="evaluate a scenario file; JSON on stdout")
    ev.add_argument("scenario")
    ev.add_argument("--spend", help="CSV/XLSX spend file whose rows replace the scenario's")
    return ap


def cmd_evaluate(args: argparse.Namespace) -> dict:
    from .evaluation import evaluate
    from .ingest import read_spend_file
    from .scenario import load_scenario

    def from_file(policy):
        parsed = read_spend_file(args.spend, policy)
        if parsed.errors:
            raise InputError(list(parsed.errors))
        return parsed.rows

    scenario = load_scenario(args.scenario, spend=from_file if args.spend else None)
    result = evaluate(scenario.spend, scenario.terms, scenario.policy, scenario.as_of, scenario.notes)
    return result.to_dict(scenario.policy)


COMMANDS = {"evaluate": cmd_evaluate}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        out = COMMANDS[args.command](args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0
