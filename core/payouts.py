"""Developer revenue-share payouts (developer-settlement.md; agreement 2.4, 2.2.6, 1.12).

Monthly earnings per developer and product -> share -> withheld for cheating flags ->
carried under the RMB 1,000 minimum -> payable; statement, latest invoice and latest
payment dates on the official Chinese working-day calendar; what is owed at any date,
split into statement / invoice / payment pending. Money in integer fen.
"""
from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from .money import div_round_half_up, to_fen
from .policy import POLICY_DIR, PolicyError, Reading
from .working_days import add_working_days, next_working_day

Action = Literal["withhold", "clawback"]


class SettlementPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    title: str
    title_zh: str
    share: Decimal
    minimum_payout: Decimal
    statement_day: int
    invoice_working_days: int
    payment_working_days: int
    term_months: int
    notice_months: int
    readings: tuple[Reading, ...]


@lru_cache(maxsize=4)
def load_settlement_policy(name: str = "sdk_cooperation") -> SettlementPolicy:
    path = POLICY_DIR / f"{name}.toml"
    try:
        return SettlementPolicy.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise PolicyError(f"settlement policy '{name}' not found") from None
    except Exception as exc:  # pydantic.ValidationError / TOMLDecodeError
        raise PolicyError(f"{path.name}: {str(exc).splitlines()[0]}") from None


@dataclass(frozen=True)
class Flag:
    """2.2.6: a product found cheating in months [from_month, to_month]."""

    product: str
    from_month: str  # YYYY-MM
    to_month: str
    action: Action
    flagged_on: dt.date | None = None  # clawback: statements before this date were already settled


@dataclass(frozen=True)
class Cycle:
    statement: dt.date
    invoice_by: dt.date
    pay_by: dt.date


def cycle_of(month: str, policy: SettlementPolicy) -> Cycle:
    """Statement on the 15th of M+1 (or the next working day), invoice within 5 working
    days, payment within 30 working days of the invoice (readings in the policy file)."""
    period = pd.Period(month, freq="M") + 1
    statement = next_working_day(dt.date(period.year, period.month, policy.statement_day))
    invoice_by = add_working_days(statement, policy.invoice_working_days)
    return Cycle(statement, invoice_by, add_working_days(invoice_by, policy.payment_working_days))


def _share(fen: np.ndarray, share: Decimal) -> np.ndarray:
    f = Fraction(share)
    return div_round_half_up(fen.astype(object) * f.numerator, f.denominator)


def settle_payouts(earnings: pd.DataFrame, flags: list[Flag], policy: SettlementPolicy) -> pd.DataFrame:
    """One row per developer and month: earned, share, withheld, clawback, carried in/out,
    paid, and the cycle dates. ``earnings``: month (YYYY-MM), developer, product, earnings_fen."""
    e = earnings.copy()
    e["share_fen"] = _share(e["earnings_fen"].to_numpy(), policy.share)
    e["withheld_fen"] = 0
    e["clawback_fen"] = 0
    recover: dict[str, list[tuple[dt.date, int]]] = {}
    for flag in flags:
        hit = (e["product"] == flag.product) & (e["month"] >= flag.from_month) & (e["month"] <= flag.to_month)
        for idx in e.index[hit]:
            amount = int(e.at[idx, "share_fen"])
            flagged = flag.flagged_on if flag.action == "clawback" else None
            if flagged is not None and cycle_of(e.at[idx, "month"], policy).statement < flagged:
                # paid (or carried) already: recovered from later payables
                recover.setdefault(e.at[idx, "developer"], []).append((flagged, amount))
                e.at[idx, "clawback_fen"] = amount
            else:
                e.at[idx, "withheld_fen"] = amount
    monthly = e.groupby(["developer", "month"], as_index=False).agg(
        earned_fen=("earnings_fen", "sum"), share_fen=("share_fen", "sum"),
        withheld_fen=("withheld_fen", "sum"), clawback_flagged_fen=("clawback_fen", "sum"))
    minimum = to_fen(policy.minimum_payout)
    rows = []
    for developer, months in monthly.groupby("developer", sort=True):
        carried = 0
        pending = sorted(recover.get(developer, []))
        for m in months.sort_values("month").itertuples():
            cycle = cycle_of(m.month, policy)
            deduct = sum(a for when, a in pending if when <= cycle.statement)
            pending = [(w, a) for w, a in pending if w > cycle.statement]
            payable = carried + int(m.share_fen) - int(m.withheld_fen) - deduct
            paid = payable if payable >= minimum else 0
            rows.append({
                "developer": developer, "month": m.month, "earned_fen": int(m.earned_fen), "share_fen": int(m.share_fen),
                "withheld_fen": int(m.withheld_fen), "clawback_fen": deduct, "carried_in_fen": carried,
                "payable_fen": payable, "paid_fen": paid, "carried_out_fen": payable - paid,
                "statement_date": cycle.statement, "invoice_by": cycle.invoice_by, "pay_by": cycle.pay_by,
            })
            carried = payable - paid
    return pd.DataFrame(rows)


def owed_at(ledger: pd.DataFrame, day: dt.date) -> dict[str, int]:
    """What is owed on ``day`` (months that have ended), by stage, plus carried balances."""
    out = {"statement_pending_fen": 0, "invoice_pending_fen": 0, "payment_pending_fen": 0, "carried_fen": 0}
    if ledger.empty:
        return out
    month_end = pd.PeriodIndex(ledger["month"], freq="M").end_time.date
    earned = ledger[np.array([d <= day for d in month_end])]
    due = earned[earned["paid_fen"] > 0]
    out["statement_pending_fen"] = int(due.loc[due["statement_date"] > day, "paid_fen"].sum())
    out["invoice_pending_fen"] = int(due.loc[(due["statement_date"] <= day) & (due["invoice_by"] > day), "paid_fen"].sum())
    out["payment_pending_fen"] = int(due.loc[(due["invoice_by"] <= day) & (due["pay_by"] >= day), "paid_fen"].sum())
    if len(earned):
        last = earned.sort_values("month").groupby("developer").tail(1)
        out["carried_fen"] = int(last["carried_out_fen"].sum())
    return out


def cash_calendar(ledger: pd.DataFrame) -> pd.DataFrame:
    """Payments by the ISO week of their latest payment date."""
    paid = ledger[ledger["paid_fen"] > 0]
    if paid.empty:
        return pd.DataFrame(columns=["week", "paid_fen"])
    week = pd.to_datetime(paid["pay_by"]).dt.to_period("W-SUN").dt.start_time.dt.date
    return paid.assign(week=week).groupby("week", as_index=False)["paid_fen"].sum()


_MONTH_RE = r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:月|[-/.]\s*\d{1,2}\s*日?)?(?:[T\s].*)?$"


def by_developer(ledger: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Per developer: earned, withheld, clawed back and paid over the ledger, what is carried
    below the minimum at the end, and the next payment deadline on or after ``day`` (None: nothing due)."""
    summary = ledger.groupby("developer").agg(earned_fen=("earned_fen", "sum"), withheld_fen=("withheld_fen", "sum"),
                                              clawback_fen=("clawback_fen", "sum"), paid_fen=("paid_fen", "sum"))
    summary["carried_fen"] = ledger.sort_values("month").groupby("developer")["carried_out_fen"].last()
    upcoming = ledger[(ledger["paid_fen"] > 0) & (ledger["pay_by"] >= day)].sort_values("pay_by").groupby("developer").head(1)
    summary["next_pay_by"] = upcoming.set_index("developer")["pay_by"]
    return summary


def parse_months(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """'2024-01', '2024/1', '2024年1月', '2024-01-31', '202401' -> 'YYYY-MM'."""
    from .parsing import as_text

    text = as_text(values)
    parts = text.str.extract(_MONTH_RE).fillna(text.str.extract(r"^(\d{4})(\d{2})$"))
    month = pd.to_numeric(parts[1], errors="coerce")
    ok = parts[0].notna().to_numpy() & month.between(1, 12).fillna(False).to_numpy(dtype=bool)
    out = (parts[0].fillna("0000") + "-" + parts[1].fillna("0").str.zfill(2)).to_numpy(dtype=object)
    return np.where(ok, out, ""), ok


def read_earnings(data: bytes, name: str) -> tuple[pd.DataFrame, list[Any]]:
    """An earnings export (CSV/XLSX, 中文 or English headers) -> month, developer, product,
    earnings_fen; rows with problems are left out and reported (file row, column, value)."""
    from .columns import map_headers
    from .ingest import read_table
    from .parsing import as_text, parse_amount_fen
    from .problems import InputError, Problem

    table = read_table(data, name, section="earnings_columns")
    mapping = map_headers(table.headers, section="earnings_columns")
    missing = [f for f in ("month", "developer", "earnings") if f not in mapping.fields]
    if missing:
        raise InputError(f"{name}: no column for {', '.join(missing)}; headers are {', '.join(table.headers[:10])} — "
                         "expected e.g. 月份/month, 开发者/developer, 应用/product, 收益/earnings")
    cells = table.cells
    months, m_ok = parse_months(cells[mapping.fields["month"]])
    developer = as_text(cells[mapping.fields["developer"]])
    product = as_text(cells[mapping.fields["product"]]) if "product" in mapping.fields else pd.Series([""] * len(cells))
    amounts = parse_amount_fen(cells[mapping.fields["earnings"]])
    problems: list[Problem] = []
    checks = [
        (~m_ok, mapping.fields["month"], "not a month (use 2024-01, 2024/1 or 2024年1月)"),
        ((developer == "").to_numpy(), mapping.fields["developer"], "developer is empty"),
        (~amounts.ok, mapping.fields["earnings"], "not an amount (use 1234.56 or 1,234.56)"),
        (amounts.negative, mapping.fields["earnings"], "negative earnings: enter corrections as a cheating flag"),
    ]
    bad = np.zeros(len(cells), dtype=bool)
    for mask, column, message in checks:
        for i in np.flatnonzero(mask):
            problems.append(Problem("error", message, int(table.row_numbers[i]), column, str(cells[column].iat[i]), name))
        bad |= mask
    frame = pd.DataFrame({"month": months, "developer": developer.to_numpy(dtype=object),
                          "product": product.to_numpy(dtype=object), "earnings_fen": amounts.fen})
    return frame[~bad].reset_index(drop=True), sorted(problems, key=lambda p: p.row or 0)
