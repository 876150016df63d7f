"""An agency's whole portfolio at a date: every client's position from one spend file.

Why grouped, not a loop over clients: the row rules (§1–§3) are the expensive part and
depend on a client's terms only through a few row-level switches (deposit quarter,
non-bidding framework, listed and customer changes). Clients that share those switches
are classified and rated together in one vectorised pass, and their quarterly sums come
out of one group-by on (client, quarter, zero group, rate). What is left per client is
settling 4 quarterly numbers (§4, §5, §7) — the same `evaluation_of` that `evaluate` uses,
so a portfolio row is, by construction, the client's own evaluation.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from .classification import classify_rows, deposit_quarter, in_scope_mask
from .columns import map_headers, value_aliases
from .credit_timing import credit_timing
from .evaluation import Evaluation, evaluation_of
from .ingest import BULK_ROWS, MAX_BYTES, RawTable, prepare_spend, read_table, read_table_file, return_freed_memory
from .ledger import (
    EXPIRING_SOON_DAYS,
    bucket_of,
    consume,
    credit_list,
    daily_use,
    dated_credits,
    pre_return_shares,
)
from .money import fen_to_yuan, summable
from .parsing import as_text
from .policy import CUSTOMER_TYPES, QUARTERS, Policy
from .pre_return import QuarterTotals, quarter_totals, zero_totals
from .problems import InputError, file_problem
from .rates import row_rates
from .scenario import ClientIn, terms_from_client
from .spend import Field, SpendParse
from .terms import ContractTerms
from .validate import parse_column

CLIENT_FIELD = Field("client", "category")
Progress = Callable[[int, int, str], None]  # (done, total, client) -> None


@dataclass(frozen=True)
class PortfolioClient:
    """One row of the clients file: the agreement's id, display name and terms."""

    client: str
    name: str
    terms: ContractTerms
    inputs: dict[str, Any]  # the ClientIn fields as JSON values (stored when the client is opened in the dashboard)


# ---------------------------------------------------------------- the clients file

_CLIENT_KINDS = {
    "target_amount": "money", "party_b_target_amount": "money", "previous_year": "money", "deposit_amount": "money",
    "signed_on": "date", "deposit_paid_on": "date", "non_bidding_framework": "bool",
    "customer_type": "enum", "client": "text", "name": "text", "main_industry": "text",
}


def read_clients(data: bytes, name: str, policy: Policy) -> list[PortfolioClient]:
    """The clients file (CSV/XLSX, 中文 or English headers) -> validated clients.
    Any bad cell raises one InputError naming file, row and column."""
    table = read_table(data, name, section="client_columns")
    mapping = map_headers(table.headers, section="client_columns")
    for required in ("client", "target_amount", "customer_type"):
        if required not in mapping.fields:
            raise file_problem(name, "no_column", f"no column for {required}; headers are {', '.join(table.headers[:12])}",
                               fields=required, headers=", ".join(table.headers[:12]))
    columns = {f: _client_column(table, mapping.fields[f], f, kind, name) for f, kind in _CLIENT_KINDS.items()
               if f in mapping.fields}
    out: list[PortfolioClient] = []
    seen: set[str] = set()
    for i, row_no in enumerate(table.row_numbers):
        values = {f: col[i] for f, col in columns.items() if col[i] is not None}
        client = str(values.pop("client", "")).strip()
        if not client:
            raise InputError(f"{name}: row {row_no}, column client: empty; give every client an id")
        if client in seen:
            raise InputError(f"{name}: row {row_no}, column client: '{client}' appears twice; one row per client")
        seen.add(client)
        display = str(values.pop("name", "") or client)
        try:
            model = ClientIn.model_validate(values)
            terms = terms_from_client(model, policy)
        except ValidationError as err:
            first = err.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise InputError(f"{name}: row {row_no}, column {field}: {first['msg'].removeprefix('Value error, ')}") from None
        out.append(PortfolioClient(client, display, terms, _json_inputs(model)))
    if not out:
        raise file_problem(name, "header_only", "the header is there but no client rows follow")
    return out


def _json_inputs(model: ClientIn) -> dict[str, Any]:
    """ClientIn as the store keeps client inputs: money as numbers (JSON floats read back as
    Decimal, exact for amounts to the fen), dates as ISO text."""
    def plain(v: object) -> object:
        if isinstance(v, Decimal):
            return float(v)
        if isinstance(v, dt.date):
            return v.isoformat()
        return v
    return {k: plain(v) for k, v in model.model_dump(exclude_none=True).items()}


def _client_column(table: RawTable, header: str, field: str, kind: str, name: str) -> list[object]:
    """One column of the clients file parsed to what ClientIn accepts (None = not given),
    with the spend validator's parsers; the first unreadable cell stops the run."""
    cells = table.cells[header].reset_index(drop=True)
    spec = Field(field, kind, values=CUSTOMER_TYPES if kind == "enum" else ())  # type: ignore[arg-type]
    values, ok, extra, missing = parse_column(spec, cells, value_aliases().get(field))
    bad = ~ok & ~missing
    reason = np.full(len(cells), "", dtype=object)
    for mask, message, severity, _ in extra:
        hit = mask & ~bad & (severity == "error")
        reason[hit], bad = message, bad | hit
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        why = f": {reason[i]}" if reason[i] else ""
        raise InputError(f"{name}: row {table.row_numbers[i]}, column {header}: cannot read '{as_text(cells).iat[i]}' as {field}{why}")
    shown: list[Any] = list(values)
    if kind == "money":
        shown = [Decimal(int(f)) / 100 for f in values]
    elif kind == "date":
        shown = [str(d) for d in np.asarray(values).astype("datetime64[D]")]
    return [None if m else v for v, m in zip(shown, missing)]


# ---------------------------------------------------------------- the spend file


def read_portfolio_spend(data: bytes | Path, name: str, policy: Policy, max_bytes: int | None = MAX_BYTES) -> SpendParse:
    """One spend file for all clients: the single-client readers plus a `client` column
    (``data``: an upload's bytes, or a path on disk that big CSVs stream from)."""
    table = read_table_file(data) if isinstance(data, Path) else read_table(data, name, max_bytes=max_bytes)
    mapping = map_headers(table.headers)
    if "client" not in mapping.fields:
        raise file_problem(name, "no_column", f"no column for client (which agreement a row belongs to); headers are "
                           f"{', '.join(table.headers[:12])}", fields="client", headers=", ".join(table.headers[:12]))
    parsed = prepare_spend(table, mapping, policy, extra_fields=(CLIENT_FIELD,))[0]
    del table
    if len(parsed.rows) >= BULK_ROWS:
        return_freed_memory()  # the raw cells and the warnings' temporaries, before the evaluation allocates its own
    return parsed


# ---------------------------------------------------------------- evaluation


def client_codes(column: pd.Series, clients: list[PortfolioClient]) -> np.ndarray:
    """Index into `clients` per row (-1: not in the clients file), via the categories only."""
    ids = [c.client for c in clients]
    if isinstance(column.dtype, pd.CategoricalDtype):
        lookup = pd.Index(ids).get_indexer(column.cat.categories.astype(object))
        codes = column.cat.codes.to_numpy()
        return np.where(codes >= 0, lookup[codes], -1).astype(np.int64)
    return pd.Index(ids).get_indexer(column.astype(object)).astype(np.int64)


def _row_rule_profile(terms: ContractTerms, policy: Policy) -> tuple[Any, ...]:
    """What of a client's terms the row rules read; clients with equal profiles share a pass."""
    return (terms.non_bidding_framework, deposit_quarter(policy, terms), terms.listed_changes, terms.customer_changes)


def _row_rule_columns(rows: pd.DataFrame) -> pd.DataFrame:
    """The columns the row rules read, customers as codes. Why: each profile's rows are a
    copy, and the account ids, row numbers and customer strings were most of its bytes
    (5M rows: +231 MB for the in-scope copy alone)."""
    narrow = rows.drop(columns=[c for c in ("account_id", "source_row") if c in rows])
    if not isinstance(narrow["customer"].dtype, pd.CategoricalDtype):
        narrow = narrow.assign(customer=narrow["customer"].astype("category"))
    return narrow


@dataclass(frozen=True)
class PortfolioTotals:
    totals: QuarterTotals  # one leading entry per client, in `clients` order
    readings: list[frozenset[str]]  # each client's row-level readings
    shares: pd.DataFrame  # group (client index), quarter, bucket, share of Σ base × rate (§6 ledger)


def portfolio_totals(rows: pd.DataFrame, clients: list[PortfolioClient], policy: Policy, as_of: dt.date) -> PortfolioTotals:
    """Rules §1–§3 for every client at once, from one classification pass per row-rule
    profile. The bucket shares cover the quarters closed by as_of — the only ones credited."""
    narrow = _row_rule_columns(rows)
    codes = client_codes(narrow["client"], clients)
    kept = in_scope_mask(narrow, policy, as_of)
    totals = zero_totals(len(clients))
    kol = np.zeros(len(clients), dtype=bool)
    shares = []
    profiles: dict[tuple[Any, ...], list[int]] = {}
    for i, c in enumerate(clients):
        profiles.setdefault(_row_rule_profile(c.terms, policy), []).append(i)
    for members in profiles.values():
        terms = clients[members[0]].terms
        mask = kept & np.isin(codes, members)  # one copy per profile, of the columns the rules read
        part = narrow if mask.all() else narrow.loc[mask]
        group = codes if mask.all() else codes[mask]
        classes = classify_rows(part, policy, terms)
        rates = row_rates(part, classes.quarter, policy, terms)
        totals = totals + quarter_totals(part["amount_fen"].to_numpy(dtype=np.int64), classes, rates, policy, group, len(clients))
        kol |= np.bincount(group, weights=rates.kol_reuse & classes.base, minlength=len(clients)) > 0
        shares.append(pre_return_shares(part, classes, rates, group))
    readings = [frozenset({"kol_reuse_as_brand"}) if k else frozenset() for k in kol]
    return PortfolioTotals(totals, readings, pd.concat(shares, ignore_index=True))


def evaluations_of(pt: PortfolioTotals, clients: list[PortfolioClient], policy: Policy, as_of: dt.date) -> list[Evaluation]:
    return [evaluation_of(pt.totals.path(i), pt.readings[i], c.terms, policy, as_of) for i, c in enumerate(clients)]


def expiring_balances(rows: pd.DataFrame, clients: list[PortfolioClient], evaluations: list[Evaluation],
                      shares: pd.DataFrame, policy: Policy, as_of: dt.date, days: int = EXPIRING_SOON_DAYS) -> np.ndarray:
    """Fen of return balances that expire within `days` after as_of, per client (§6
    ledger: credited quarters split by bucket, return-funded spend consumed FIFO).

    Credit dates are the policy's, the same for every client. When no credit expires in the
    window nothing needs a ledger. When the live credits' windows do not overlap (the usual
    case: each quarter's credit expires before the next is credited), FIFO reduces to
    "a credit's use is the bucket's return-funded spend inside its window, capped at the
    credit", which is one merge for all clients; otherwise each client walks the ledger."""
    timing = credit_timing(policy)
    window = [c.quarter for c in timing if as_of <= c.expiry <= as_of + dt.timedelta(days=days) and c.credit_date <= as_of]
    out = np.zeros(len(clients), dtype=np.int64)
    if not window:
        return out
    funded = rows[(rows["funding"] == "return").to_numpy(dtype=bool) & (rows["date"] <= pd.Timestamp(as_of)).to_numpy()]
    live = sorted((c.credit_date, c.expiry) for c in timing if c.credit_date <= as_of)
    overlap = any(later[0] <= earlier[1] for earlier, later in pairwise(live))
    needed = QUARTERS if overlap else window  # without overlap only the expiring credits matter
    credited = pd.DataFrame([(i, qi, fen) for i, ev in enumerate(evaluations)
                             for qi, (q, fen) in enumerate(zip(QUARTERS, ev.credited_fen), start=1) if q in needed],
                            columns=["group", "quarter", "amount"])
    table = dated_credits(credited, shares, policy)
    if overlap:
        return _expiring_by_ledger(funded, clients, table, window, as_of, out)
    table = table[table["quarter"].isin(window) & (table["expiry"] >= as_of)]
    if table.empty:
        return out
    codes = client_codes(funded["client"], clients)
    use = pd.DataFrame({"group": codes, "bucket": bucket_of(funded["platform"], funded["placement"], funded["network"]).to_numpy(),
                        "date": funded["date"].dt.date.to_numpy(),
                        "fen": pd.array(funded["amount_fen"].to_numpy(dtype=np.int64), dtype="Int64")})  # stays integer through the merge
    pairs = table.reset_index().merge(use, on=["group", "bucket"], how="left")
    inside = (pairs["date"] >= pairs["credit_date"]) & (pairs["date"] <= pairs["expiry"])
    fen = summable(pairs["fen"].fillna(0).to_numpy(dtype=np.int64))  # whole fen, never through float
    used = pd.Series(np.where(inside.to_numpy(dtype=bool), fen, 0)).groupby(pairs["index"].to_numpy()).sum()
    used = used.reindex(table.index, fill_value=0).to_numpy()
    balance = (table["amount"].to_numpy(dtype=object) - np.minimum(used, table["amount"].to_numpy(dtype=object))).astype(np.int64)
    np.add.at(out, table["group"].to_numpy(), balance)
    return out


def _expiring_by_ledger(funded: pd.DataFrame, clients: list[PortfolioClient], table: pd.DataFrame,
                        window: list[str], as_of: dt.date, out: np.ndarray) -> np.ndarray:
    """The general FIFO ledger, client by client (overlapping credit windows)."""
    by_client = dict(tuple(funded.groupby("client", observed=True, sort=False)))
    no_use = pd.DataFrame(columns=["date", "bucket", "fen"])
    for i, mine in table.groupby("group", sort=False):
        c = clients[int(i)]
        ledger = consume(credit_list(mine), daily_use(by_client.get(c.client, funded.iloc[:0]), no_use, as_of), as_of)
        soon = ledger["quarter"].isin(window) & (ledger["expiry"] >= as_of)
        out[int(i)] = int(ledger.loc[soon, "balance_at_as_of_fen"].sum())
    return out


def portfolio_table(clients: list[PortfolioClient], evaluations: list[Evaluation], expiring_fen: np.ndarray,
                    as_of: dt.date, policy: Policy, projections: dict[str, dict[str, Any]] | None = None,
                    data_end: dict[str, dt.date] | None = None) -> pd.DataFrame:
    """One row per client: what finance previews at quarter end (money in fen; `risk`
    red/amber/green from `risk_level`, `reasons` from `risk_reasons`; `data_end` the
    client's last day of data, so a stale client is never read as a settled one)."""
    records = []
    for c, ev, exp in zip(clients, evaluations, expiring_fen):
        rec: dict[str, Any] = {
            "client": c.client, "name": c.name, "customer_type": c.terms.customer_type,
            "data_end": (data_end or {}).get(c.client),
            "target_fen": ev.target_fen, "actual_fen": ev.actual_fen, "completion_rate": ev.completion_rate,
            "assessment_630": ev.assessment_630, "assessment_930": ev.assessment_930, "year_end_rule": ev.year_end_rule,
            "pre_return_fen": sum(ev.pre_return_fen), "credited_fen": sum(ev.credited_fen),
            "final_return_fen": ev.final_return_fen, "clawback_fen": ev.clawback_fen,
            "deposit_fen": ev.deposit_fen, "deposit_deducted_fen": ev.deposit_deducted_fen,
            "expiring_30d_fen": int(exp),
        }
        if projections is not None:
            rec.update(projections.get(c.client, {}))
        rec["reasons"] = risk_reasons(rec, as_of, policy)
        rec["risk"] = risk_level(rec["reasons"])
        records.append(rec)
    return pd.DataFrame.from_records(records)


RED_REASONS = frozenset({"630_terminated", "q3_withheld", "deposit_deducted", "deposit_likely", "year_end_below_threshold",
                         "year_end_shortfall", "year_end_forfeited", "year_end_not_effective", "year_end_terminated"})


def risk_level(reasons: tuple[str, ...]) -> str:
    """red / amber / green for the portfolio list. A modelling assumption, documented on the
    Assumptions page: red = money already lost or likely lost (630 terminated, Q3 withheld,
    deposit deducted, or ≥ 50 % projected chance of a deduction); amber = 630 reduced, or
    completion behind the straight-line pace of the year by more than 10 points, or < 80 %
    projected chance of meeting the target; green otherwise. Derived from risk_reasons, so
    a colour can never lack its reason."""
    return "red" if RED_REASONS.intersection(reasons) else "amber" if reasons else "green"


STALE_DAYS = 7  # data ending more than a week before the evaluation date is flagged


def stale(data_end: dt.date | None, as_of: dt.date, policy: Policy) -> bool:
    """No data, or data ending more than STALE_DAYS before the (in-year) evaluation date:
    the figures count the missing days as zero spend."""
    day = min(as_of, policy.year_end)
    return data_end is None or (day - data_end).days > STALE_DAYS


def risk_reasons(rec: dict[str, Any], as_of: dt.date, policy: Policy) -> tuple[str, ...]:
    """Why a row is red or amber, as codes the UI translates (every red has a reason: a
    client at 120 % completion is red because its target is below the industry threshold,
    and the list must say so). Empty for a green row."""
    out: list[str] = []
    if (rec.get("deposit_deducted_fen") or 0) > 0:  # the reason that moves the most money first
        rule = rec.get("year_end_rule", "")
        out.append(f"year_end_{rule}" if rule in ("below_threshold", "shortfall", "forfeited", "not_effective", "terminated")
                   else "deposit_deducted")
    if rec["assessment_630"] == "terminated":
        out.append("630_terminated")
    if rec["assessment_930"] == "q3_withheld":
        out.append("q3_withheld")
    if rec.get("p_deposit_deduction", 0) >= 0.5:
        out.append("deposit_likely")
    if rec["assessment_630"] == "reduced":
        out.append("630_reduced")
    if "data_end" in rec and stale(rec["data_end"], as_of, policy):
        out.append("stale_data")
    elapsed = ((min(as_of, policy.year_end) - policy.year_start).days + 1) / ((policy.year_end - policy.year_start).days + 1)
    if "p_target_met" in rec:
        if rec["p_target_met"] < 0.8:
            out.append("target_unlikely")
    elif rec["completion_rate"] < elapsed - 0.10:
        out.append("behind_pace")
    return tuple(dict.fromkeys(out))


def project_portfolio(rows: pd.DataFrame, clients: list[PortfolioClient], policy: Policy, as_of: dt.date,
                      method: str = "combined", paths: int = 2_000, seed: int = 0,
                      progress: Progress | None = None, actual: QuarterTotals | None = None) -> dict[str, dict[str, Any]]:
    """Monte-Carlo outlook per client (per client, not per account: the issue's AutoETS
    figure is ~0.1 s a series). Each client's rows go through the same forecast and
    `project` as the dashboard (the combined forecast), with fewer paths. ``actual``: the
    run's totals to as_of (one entry per client), so the row rules are not applied again."""
    from .calibration import calibrated_forecast
    from .error_model import load as load_error_model
    from .forecast import segment_history
    from .projection import project, segment_factors

    out: dict[str, dict[str, Any]] = {}
    by_client = dict(tuple(rows.groupby("client", observed=True, sort=False)))
    for i, c in enumerate(clients):
        if progress:
            progress(i + 1, len(clients), c.name)
        mine = by_client.get(c.client)
        if mine is None or as_of >= policy.year_end:
            continue
        history = segment_history(mine, policy, as_of)
        forecast = calibrated_forecast(method, history, policy, as_of, load_error_model())[0]
        p = project(mine, history, forecast, c.terms, policy, as_of, paths, seed, False,
                    segment_factors(history.segments, c.terms, policy), actual=None if actual is None else actual.path(i))
        o = p.outcome
        deducted = np.asarray(o.deposit_deducted, dtype=np.float64)
        out[c.client] = {
            "p_target_met": float(np.mean(o.actual.astype(float) >= c.terms.target_fen)),
            "p_930_pass": float(np.mean(o.assessment_930 == "pass")),
            "p_deposit_deduction": float(np.mean(deducted > 0)),
            "projected_completion": float(np.mean(o.actual.astype(float)) / c.terms.target_fen),
            "deposit_at_risk_fen": round(deducted.mean()),
            "projected_final_return_fen": round(np.mean(np.asarray(o.final_return, dtype=np.float64))),
        }
    return out


# ---------------------------------------------------------------- one call, files in


@dataclass(frozen=True)
class PortfolioRun:
    clients: list[PortfolioClient]
    evaluations: list[Evaluation]
    expiring_fen: np.ndarray
    as_of: dt.date
    table: pd.DataFrame
    unknown_clients: tuple[str, ...]  # client ids in the spend file but not in the clients file
    totals: QuarterTotals  # each client's totals to as_of (the projection starts from them)
    data_end: dict[str, dt.date]  # each client's last day of data

    def with_projections(self, projections: dict[str, dict[str, Any]], policy: Policy) -> PortfolioRun:
        """The same positions with Monte-Carlo columns (and risk) added."""
        table = portfolio_table(self.clients, self.evaluations, self.expiring_fen, self.as_of, policy, projections,
                                self.data_end)
        return replace(self, table=table)


def refuse_errors(spend: SpendParse) -> None:
    """A spend file with row errors is not evaluated: one InputError naming the first."""
    if spend.errors:
        first = spend.errors[0]
        raise InputError(f"{first.source}: {len(spend.errors)} rows with errors; first: row {first.row}, "
                         f"column {first.column}: {first.message}")


def run_portfolio(clients: list[PortfolioClient], spend: SpendParse, policy: Policy, as_of: dt.date,
                  project: bool = False, progress: Progress | None = None) -> PortfolioRun:
    """Evaluate (and optionally project) every client of a validated spend file."""
    refuse_errors(spend)
    rows = spend.rows
    unknown = unknown_clients(rows, clients)
    pt = portfolio_totals(rows, clients, policy, as_of)
    evaluations = evaluations_of(pt, clients, policy, as_of)
    expiring = expiring_balances(rows, clients, evaluations, pt.shares, policy, as_of)
    ends = data_ends(rows)
    run = PortfolioRun(clients, evaluations, expiring, as_of,
                       portfolio_table(clients, evaluations, expiring, as_of, policy, data_end=ends), unknown, pt.totals, ends)
    if project:
        run = run.with_projections(project_portfolio(rows, clients, policy, as_of, progress=progress, actual=pt.totals), policy)
    return run


def unknown_clients(rows: pd.DataFrame, clients: list[PortfolioClient]) -> tuple[str, ...]:
    """Client ids in the spend file that the clients file does not name (never evaluated)."""
    present = {str(x) for x in rows["client"].unique()} if len(rows) else set()
    return tuple(sorted(present - {c.client for c in clients}))


def data_ends(rows: pd.DataFrame) -> dict[str, dt.date]:
    """Each client's last day with a row."""
    if rows.empty:
        return {}
    last = rows.groupby("client", observed=True)["date"].max()
    return {str(k): pd.Timestamp(v).date() for k, v in last.items()}


def client_rows(rows: pd.DataFrame, client: str) -> pd.DataFrame:
    """One client's rows in the single-client schema (to open it in the dashboard)."""
    return rows[(rows["client"] == client).to_numpy(dtype=bool)].drop(columns=["client"]).reset_index(drop=True)


def to_output(table: pd.DataFrame) -> pd.DataFrame:
    """The table as written by the CLI: money in RMB to 0.01, rates as fractions, dates ISO."""
    out = table.copy()
    if "data_end" in out:
        out["data_end"] = out["data_end"].map(lambda d: d.isoformat() if isinstance(d, dt.date) else None)
    for col in [c for c in out.columns if c.endswith("_fen")]:
        out[col.removesuffix("_fen")] = out.pop(col).map(lambda v: None if v is None or pd.isna(v) else fen_to_yuan(int(v)))
    return out


def _readable(path: Path) -> Path:
    if not path.is_file():
        raise InputError(f"{path.name}: cannot read the file (no such file)")
    return path


def read_files(clients_path: Path, spend_path: Path, policy: Policy) -> tuple[list[PortfolioClient], SpendParse]:
    """Both files from disk (the CLI)."""
    def read(p: Path) -> bytes:
        try:
            return p.read_bytes()
        except OSError as exc:
            raise InputError(f"{p.name}: cannot read the file ({exc.strerror})") from None
    return read_clients(read(clients_path), clients_path.name, policy), \
        read_portfolio_spend(_readable(spend_path), spend_path.name, policy)

