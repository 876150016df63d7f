"""`python -m core evaluate SCENARIO.json [--spend FILE]` (and project, payouts, portfolio): the batch entry point.

Why exit 2 with one line: scripts and CI can tell bad input (2) from a crash, and a
person reads which field of which row to fix, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .forecast import METHODS
from .isolation import batch_process
from .policy import DEFAULT_POLICY
from .problems import InputError

if TYPE_CHECKING:
    import pandas as pd

    from .payouts import Flag
    from .policy import Policy
    from .problems import Problem
    from .scenario import Scenario


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"usage: {message}")


def _parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="python -m core", description="Ocean Engine rebate agreement engine")
    sub = ap.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="evaluate a scenario file; JSON on stdout")
    ev.add_argument("scenario")
    ev.add_argument("--spend", help="CSV/XLSX spend file whose rows replace the scenario's")
    ev.add_argument("--strict", action="store_true", help="refuse (exit 2) when the spend file has any warning")
    ev.add_argument("--policy", help="contract: a shipped name (e.g. ocean_engine_2024) or a TOML file (e.g. one "
                    "exported from the Contract terms page); replaces the scenario's own")
    pr = sub.add_parser("project", help="project the year: probabilities, distributions, required spend, ledger")
    pr.add_argument("scenario")
    pr.add_argument("--spend", help="CSV/XLSX spend file whose rows replace the scenario's")
    pr.add_argument("--strict", action="store_true", help="refuse (exit 2) when the spend file has any warning")
    pr.add_argument("--policy", help="contract: a shipped name (e.g. ocean_engine_2024) or a TOML file (e.g. one "
                    "exported from the Contract terms page); replaces the scenario's own")
    pr.add_argument("--method", choices=list(METHODS), help="default: combined (weights and error bands learned from past errors)")
    pr.add_argument("--paths", type=int, default=10_000)
    pr.add_argument("--seed", type=int, default=0)
    pr.add_argument("--plan", help="CSV with month (YYYY-MM), amount and optionally account_id: cash spend plan")
    po = sub.add_parser("payouts", help="developer revenue-share payouts: owed, to whom, by when")
    po.add_argument("earnings", help="CSV/XLSX with month, developer, product, earnings")
    po.add_argument("--flags", help="CSV with product, from_month, to_month, action (withhold|clawback), flagged_on")
    po.add_argument("--as-of", dest="as_of", help="date for the owed split (default: today)")
    po.add_argument("--weekends-only-beyond-calendar", action="store_true", dest="weekends_only",
                    help="in years the installed official calendar does not cover, count Monday-Friday as working days "
                         "(an assumption, listed in the output)")
    ca = sub.add_parser("calibrate", help="learn the forecast's error bands from your own history (full years per client)")
    ca.add_argument("spend", nargs="+", help="spend files with a client column (CSV/XLSX/Parquet), one or more years")
    ca.add_argument("--out", help="where to write the model (default: data/calibration.json, which the app reads)")
    ca.add_argument("--min-years", type=int, default=30, dest="min_years", help="refuse with fewer full client-years")
    ca.add_argument("--policy", default=DEFAULT_POLICY)
    ca.add_argument("--strict", action="store_true", help="refuse (exit 2) when a spend file has any warning")
    pf = sub.add_parser("portfolio", help="every client of an agency at a date from one spend file")
    pf.add_argument("clients", help="CSV/XLSX: client, target_amount, customer_type, [name, main_industry, previous_year, "
                                    "deposit_paid_on, signed_on, ...]")
    pf.add_argument("spend", help="CSV/XLSX/Parquet spend rows with a client column")
    pf.add_argument("--as-of", dest="as_of", help="evaluation date (default: the policy's year end)")
    pf.add_argument("--out", help="write the table to results.xlsx, .csv or .json instead of stdout")
    pf.add_argument("--project", action="store_true", help="add Monte-Carlo probabilities per client (slower)")
    pf.add_argument("--engine", choices=["pandas", "dask"], default="pandas",
                    help="dask: one task per group of clients on a Dask cluster (same table; see README, Beyond one machine)")
    pf.add_argument("--scheduler", help="with --engine dask: a running scheduler's address (default: a LocalCluster here)")
    pf.add_argument("--policy", default=DEFAULT_POLICY)
    pf.add_argument("--strict", action="store_true", help="refuse (exit 2) when the spend file has any warning")
    return ap


MAX_WARNING_LINES = 20


def report_warnings(warnings: Sequence[Problem], strict: bool) -> None:
    """Every reader warning reaches the user: one line each on stderr (capped, with a count);
    --strict makes any warning a refusal (exit 2) for pipelines that must not guess."""
    for w in warnings[:MAX_WARNING_LINES]:
        print(f"warning: {w.one_line()}", file=sys.stderr)
    if len(warnings) > MAX_WARNING_LINES:
        print(f"warning: … and {len(warnings) - MAX_WARNING_LINES} more warnings", file=sys.stderr)
    if strict and warnings:
        raise InputError(f"--strict: {len(warnings)} warning(s) in the spend file; fix them or run without --strict")


def _scenario(args: argparse.Namespace) -> Scenario:
    """The scenario file, with its rows replaced by --spend when given."""
    from .ingest import read_spend_file
    from .scenario import load_scenario

    def from_file(policy: Policy) -> pd.DataFrame:
        parsed = read_spend_file(args.spend, policy)
        if parsed.errors:
            raise InputError(list(parsed.errors))
        report_warnings(parsed.warnings, strict=args.strict)
        return parsed.rows

    return load_scenario(args.scenario, spend=from_file if args.spend else None, policy=args.policy)


def cmd_evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from .evaluation import evaluate

    scenario = _scenario(args)
    result = evaluate(scenario.spend, scenario.terms, scenario.policy, scenario.as_of, scenario.notes)
    return result.to_dict(scenario.policy)


def read_plan(path: str) -> pd.DataFrame:
    """A plan CSV: month (YYYY-MM), amount (RMB), optional account_id -> amount_fen."""
    import pandas as pd

    from .parsing import parse_amount_fen

    try:
        plan = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the plan ({exc})") from None
    for col in ("month", "amount"):
        if col not in plan.columns:
            raise InputError(f"{path}: the plan needs a column '{col}'")
    bad_month = ~plan["month"].str.match(r"^\d{4}-\d{2}$")
    if bad_month.any():
        i = int(bad_month.to_numpy().nonzero()[0][0])
        raise InputError(f"{path}, row {i + 2}, column month: use YYYY-MM (value {plan['month'].iat[i]!r})")
    amounts = parse_amount_fen(plan["amount"])
    bad = ~amounts.ok | amounts.negative
    if bad.any():
        i = int(bad.nonzero()[0][0])
        raise InputError(f"{path}, row {i + 2}, column amount: not a non-negative amount (value {plan['amount'].iat[i]!r})")
    return plan.assign(amount_fen=amounts.fen)


def cmd_project(args: argparse.Namespace) -> dict[str, Any]:
    from .outlook import outlook

    if args.paths < 1 or args.paths > 1_000_000:
        raise InputError("--paths: use 1 to 1,000,000 paths")
    if args.method == "plan" and not args.plan:
        raise InputError("--method plan needs --plan plan.csv")
    scenario = _scenario(args)
    plan = read_plan(args.plan) if args.plan else None
    result = outlook(scenario.spend, scenario.terms, scenario.policy, scenario.as_of, args.method or ("plan" if plan is not None else None),
                     args.paths, args.seed, plan)
    return result.to_dict()


def read_flags(path: str) -> list[Flag]:
    """Cheating flags CSV -> Flag list; errors name the row and column."""
    import datetime as dt

    import pandas as pd

    from .payouts import Flag, parse_months

    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the flags ({exc})") from None
    for col in ("product", "from_month", "to_month", "action"):
        if col not in table.columns:
            raise InputError(f"{path}: the flags need a column '{col}'")
    flags = []
    for i, r in enumerate(table.itertuples(), start=2):
        months, ok = parse_months(pd.Series([r.from_month, r.to_month], dtype=object))
        if not ok.all():
            raise InputError(f"{path}, row {i}, column from_month/to_month: use YYYY-MM")
        if r.action not in ("withhold", "clawback"):
            raise InputError(f"{path}, row {i}, column action: use withhold or clawback (value {r.action!r})")
        on = getattr(r, "flagged_on", "") or ""
        try:
            flagged = dt.date.fromisoformat(on) if on else None
        except ValueError:
            raise InputError(f"{path}, row {i}, column flagged_on: use an ISO date like 2024-05-20") from None
        flags.append(Flag(r.product, months[0], months[1], r.action, flagged))
    return flags


def cmd_payouts(args: argparse.Namespace) -> dict[str, Any]:
    import datetime as dt
    from contextlib import AbstractContextManager, nullcontext
    from pathlib import Path

    from .money import fen_to_yuan
    from .payouts import (
        cash_calendar,
        load_settlement_policy,
        owed_at,
        read_earnings,
        settle_payouts,
    )
    from .working_days import weekends_only_assumption, weekends_only_beyond_calendar

    try:
        day = dt.date.fromisoformat(args.as_of) if args.as_of else dt.date.today()
    except ValueError:
        raise InputError("--as-of: use an ISO date like 2024-12-31") from None
    path = Path(args.earnings)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path.name}: cannot read the file ({exc.strerror})") from None
    earnings, problems = read_earnings(data, path.name)
    if problems:
        raise InputError(problems)
    policy = load_settlement_policy()
    fallback: AbstractContextManager[set[int]] = weekends_only_beyond_calendar() if args.weekends_only else nullcontext(set())
    with fallback as fallback_years:
        ledger = settle_payouts(earnings, read_flags(args.flags) if args.flags else [], policy)
    money = [c for c in ledger.columns if c.endswith("_fen")]
    rows = ledger.assign(**{c: ledger[c].map(fen_to_yuan) for c in money}).rename(columns={c: c[:-4] for c in money})
    for c in ("statement_date", "invoice_by", "pay_by"):
        rows[c] = rows[c].map(lambda d: d.isoformat())
    calendar = cash_calendar(ledger)
    return {
        "as_of": day.isoformat(),
        "owed": {k[:-4]: fen_to_yuan(v) for k, v in owed_at(ledger, day).items()},
        "developers": rows.to_dict("records"),
        "cash_calendar": [{"week": w.isoformat(), "paid": fen_to_yuan(v)} for w, v in zip(calendar["week"], calendar["paid_fen"])],
        "assumptions": [r.en for r in policy.readings] + [weekends_only_assumption(y) for y in sorted(fallback_years)],
    }


def cmd_portfolio(args: argparse.Namespace) -> dict[str, Any]:
    import datetime as dt
    from pathlib import Path

    from .export import csv_bytes, workbook_bytes
    from .policy import load_policy
    from .portfolio import read_files, run_portfolio, to_output, unknown_clients

    policy = load_policy(args.policy)
    try:
        day = dt.date.fromisoformat(args.as_of) if args.as_of else policy.year_end
    except ValueError:
        raise InputError("--as-of: use an ISO date like 2024-09-30") from None
    clients, spend = read_files(Path(args.clients), Path(args.spend), policy)
    report_warnings(spend.warnings, strict=args.strict)

    def progress(done: int, total: int, name: str) -> None:
        if sys.stderr.isatty():
            print(f"\r{done}/{total} {name[:40]:<40}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    if args.engine == "dask":
        from .portfolio_dask import portfolio_on_dask

        table = to_output(portfolio_on_dask(clients, spend, policy, day, project=args.project, scheduler=args.scheduler))
    else:
        table = to_output(run_portfolio(clients, spend, policy, day, project=args.project, progress=progress).table)
    summary = {
        "as_of": day.isoformat(), "clients": len(table), "rows": len(spend.rows),
        "risk": {k: int(v) for k, v in table["risk"].value_counts().items()},
        "unknown_clients": list(unknown_clients(spend.rows, clients)), "warnings": len(spend.warnings),
    }
    if not args.out:
        return {**summary, "results": table.to_dict("records")}
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix == ".xlsx":
        out.write_bytes(workbook_bytes({"Portfolio": table}))
    elif suffix == ".csv":
        out.write_bytes(csv_bytes(table))
    elif suffix == ".json":
        out.write_text(json.dumps(table.to_dict("records"), ensure_ascii=False, indent=2), encoding="utf-8")
    else:
        raise InputError(f"--out {out.name}: use a .xlsx, .csv or .json file name")
    return {**summary, "written": str(out)}


def cmd_calibrate(args: argparse.Namespace) -> dict[str, Any]:
    """Fit the error model from a team's own history (full calendar years per client)."""
    from pathlib import Path

    import pandas as pd

    from .calibration import fit, pool_from_rows
    from .error_model import DEFAULT_PATH
    from .policy import load_policy
    from .portfolio import read_portfolio_spend

    policy = load_policy(args.policy)
    parsed = [read_portfolio_spend(Path(p), Path(p).name, policy, max_bytes=None) for p in args.spend]
    for spend in parsed:
        report_warnings(spend.warnings, strict=args.strict)
    pool = pool_from_rows(pd.concat([s.rows for s in parsed], ignore_index=True))
    if len(pool) < args.min_years:
        raise InputError(f"only {len(pool)} full client-years (Jan to Dec) in the files; the error model needs at "
                         f"least {args.min_years} to learn from — keep the shipped model or add more history")
    model = fit(pool, f"files: {', '.join(Path(p).name for p in args.spend)}")
    out = Path(args.out) if args.out else DEFAULT_PATH
    out.write_text(model.to_json(), encoding="utf-8")
    return {"client_years": len(pool), "written": str(out)}


COMMANDS = {"evaluate": cmd_evaluate, "project": cmd_project, "payouts": cmd_payouts, "portfolio": cmd_portfolio,
            "calibrate": cmd_calibrate}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        with batch_process():  # a batch command: its file readers fork from it directly
            out = COMMANDS[args.command](args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0
