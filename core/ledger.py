"""Rules §6 (III.8): return balances by bucket, consumed first-in-first-out, and what
will expire unused.

A credit can be spent only in the bucket that earned it: the same platform (ocean_ads,
oesa, local, xingtu_xgl), feed vs search, CSJ vs the other specific networks. Each
quarter's credited amount is split over buckets by their share of that quarter's
Σ base × rate. Past days consume what the export shows as return-funded spend; future
days consume the projected bidding spend of the bucket, oldest-expiring credit first
(reading fifo_within_bucket).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .classification import RowClasses, classify_rows, distinct_combinations, in_scope
from .credit_timing import credit_timing
from .policy import QUARTERS, Policy
from .rates import RowRates, row_rates
from .terms import ContractTerms

LEDGER_PLATFORMS = ("ocean_ads", "oesa", "local", "xingtu_xgl")


def bucket_of(platform: pd.Series, placement: pd.Series, network: pd.Series) -> pd.Series:
    """'ocean_ads/feed/other' style bucket names; '' for spend that no return can pay."""
    if len(platform) == 0:
        return pd.Series([], index=platform.index, dtype=object)
    codes, names = bucket_codes(platform, placement, network)
    return pd.Series(names[codes], index=platform.index)


def bucket_codes(platform: pd.Series, placement: pd.Series, network: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each row's bucket as (codes, names), exactly as pd.factorize(bucket_of(...)) numbers
    them (in order of first appearance). Named once per distinct (platform, placement,
    network) — a million rows have a few dozen — and never as a million-string column."""
    inverse, first = distinct_combinations([platform, placement, network])  # combinations in order of first appearance
    p, place, net = (col.iloc[first].astype(str).to_numpy(dtype=object) for col in (platform, placement, network))
    per_combination = np.where(np.isin(p, LEDGER_PLATFORMS), p + "/" + place + "/" + np.where(net == "csj", "csj", "other"), "")
    name_code, names = pd.factorize(per_combination.astype(object))
    return name_code[inverse], np.asarray(names, dtype=object)


@dataclass(frozen=True)
class Credit:
    quarter: str
    bucket: str
    amount_fen: int
    credit_date: dt.date
    expiry: dt.date


def bucket_pre_return_shares(rows: pd.DataFrame, terms: ContractTerms, policy: Policy) -> pd.DataFrame:
    """Share of each quarter's Σ base × agreed rate by bucket (rows of the policy year)."""
    scoped = in_scope(rows, policy, policy.year_end)
    classes = classify_rows(scoped, policy, terms)
    rates = row_rates(scoped, classes.quarter, policy, terms)
    return pre_return_shares(scoped, classes, rates).drop(columns="group")


def pre_return_shares(rows: pd.DataFrame, classes: RowClasses, rates: RowRates, group: np.ndarray | None = None) -> pd.DataFrame:
    """Columns group, quarter, bucket, share: each (group, quarter)'s Σ base × agreed rate
    split by bucket. ``group`` numbers a portfolio's clients (None: one client, group 0)."""
    m = classes.base & (rates.agreed_ppm > 0)
    units = rows["amount_fen"].to_numpy(dtype=np.float64)[m] * rates.agreed_ppm[m]
    part = rows[["platform", "placement", "network"]]  # only what names a bucket is copied
    part = part.loc[m] if not m.all() else part
    codes, bucket_names = bucket_codes(part["platform"], part["placement"], part["network"])
    groups = np.zeros(int(m.sum()), dtype=np.int64) if group is None else group[m]
    positive = units > 0
    by = _units_by_cell(groups[positive], classes.quarter[m][positive], codes[positive], units[positive], len(bucket_names))
    out = (by / by.groupby(level=[0, 1]).transform("sum")).rename("share").reset_index()
    out["bucket"] = np.asarray(bucket_names, dtype=object)[out["bucket"].to_numpy()] if len(out) else out["bucket"].astype(object)
    return out


def _units_by_cell(group: np.ndarray, quarter: np.ndarray, bucket: np.ndarray, units: np.ndarray, buckets: int) -> pd.Series:
    """Σ units per (group, quarter, bucket), indexed and ordered as a sorted group-by would.
    One fused key and a bincount when the units are whole and every cell's sum stays below
    2**53 (each partial sum is then an exact float, so any order of adding gives the
    group-by's sum); else the group-by itself."""
    if len(units) and bool((units == np.floor(units)).all()):
        key = (group.astype(np.int64) * 4 + (quarter.astype(np.int64) - 1)) * buckets + bucket
        size = int(key.max()) + 1
        if size <= 4 * len(key) + 4096:
            sums = np.bincount(key, weights=units, minlength=size)
            present = np.flatnonzero(sums)  # every unit is positive: a cell is present exactly when its sum is
            sums = sums[present]
        else:  # many clients: number the cells present
            inverse, present = pd.factorize(key, sort=True)
            sums = np.bincount(inverse, weights=units, minlength=len(present))
        if sums.max() < 2**53:  # sums only grow, so no partial sum of any cell was rounded
            cell, b = np.divmod(present, buckets)
            g, q = np.divmod(cell, 4)
            index = pd.MultiIndex.from_arrays([g.astype(group.dtype), (q + 1).astype(quarter.dtype), b.astype(bucket.dtype)],
                                              names=["group", "quarter", "bucket"])
            return pd.Series(sums, index=index, name="units")
    frame = pd.DataFrame({"group": group, "quarter": quarter, "bucket": bucket, "units": units})
    return frame.groupby(["group", "quarter", "bucket"])["units"].sum()


def credit_table(credited_fen: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """Credits per (group, quarter, bucket) for many clients at once: each quarter's
    credited amount split by its bucket shares, largest remainder first so the fen total
    stays exact (ties keep the shares' order).

    ``credited_fen``: columns group, quarter (1–4), amount; ``shares``: as from
    `pre_return_shares`. Returns columns group, quarter, bucket, amount (fen > 0)."""
    group, quarter = shares["group"].to_numpy(dtype=np.int64), shares["quarter"].to_numpy(dtype=np.int64)
    paid = credited_fen[credited_fen["amount"] > 0]
    amount_of = dict(zip(zip(paid["group"].tolist(), paid["quarter"].tolist()), paid["amount"].tolist()))
    amount = np.array([amount_of.get(k, 0) for k in zip(group.tolist(), quarter.tolist())], dtype=np.int64)
    kept = np.flatnonzero(amount > 0)  # the shares of quarters with something credited, in the shares' order
    group, quarter, amount = group[kept], quarter[kept], amount[kept]
    raw = shares["share"].to_numpy(dtype=np.float64)[kept] * amount
    fen = np.floor(raw).astype(np.int64)
    _, cell = np.unique(np.stack([group, quarter]), axis=1, return_inverse=True)  # one number per (group, quarter)
    cell = cell.reshape(-1)
    floors = np.zeros(cell.max(initial=-1) + 1, dtype=np.int64)
    np.add.at(floors, cell, fen)  # whole fen, summed exactly
    short = amount - floors[cell]  # fen still to place in each row's cell
    position = np.arange(len(kept))
    order = np.lexsort((position, -(raw - fen), cell))  # per cell: largest remainder first, ties in the shares' order
    rank = np.empty(len(kept), dtype=np.int64)
    rank[order] = position - np.searchsorted(cell[order], cell[order], side="left")
    fen = fen + (rank < short)
    by_cell = np.lexsort((position, cell))  # cell by cell, each in the shares' order
    keep = by_cell[fen[by_cell] > 0]
    buckets = shares["bucket"].to_numpy(dtype=object)[kept]
    return pd.DataFrame({"group": group[keep], "quarter": quarter[keep], "bucket": buckets[keep].astype(object),
                         "amount": fen[keep]}).astype({"bucket": object})


def dated_credits(credited_fen: pd.DataFrame, shares: pd.DataFrame, policy: Policy,
                  actual_credit_dates: dict[str, dt.date] | None = None) -> pd.DataFrame:
    """`credit_table` with each credit's quarter name, credit date and expiry (§6)."""
    table = credit_table(credited_fen, shares)
    timing = credit_timing(policy, actual_credit_dates)
    dates = pd.DataFrame([(qi, c.quarter, c.credit_date, c.expiry) for qi, c in enumerate(timing, start=1)],
                         columns=["quarter", "name", "credit_date", "expiry"])
    out = table.merge(dates, on="quarter", how="left")
    return out.drop(columns="quarter").rename(columns={"name": "quarter"})


def credit_list(table: pd.DataFrame) -> list[Credit]:
    """Rows of `dated_credits` as Credit records (what the FIFO ledger consumes)."""
    return [Credit(q, b, int(a), d, e) for q, b, a, d, e in
            zip(table["quarter"], table["bucket"], table["amount"], table["credit_date"], table["expiry"])]


def credits(credited_fen: dict[str, int], shares: pd.DataFrame, policy: Policy,
            actual_credit_dates: dict[str, dt.date] | None = None) -> list[Credit]:
    """One client's credits per bucket, with their credit and expiry dates."""
    amounts = pd.DataFrame({"group": 0, "quarter": range(1, len(QUARTERS) + 1),
                            "amount": [int(credited_fen.get(q, 0)) for q in QUARTERS]})
    return credit_list(dated_credits(amounts, shares.assign(group=0), policy, actual_credit_dates))


def consume(credit_list: list[Credit], daily_use: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """FIFO consumption per bucket. ``daily_use``: columns date, bucket, fen (return-funded
    spend before as_of, projected bidding spend after). Returns one row per credit."""
    rows = []
    by_bucket = _use_by_bucket(daily_use)
    for bucket in sorted({c.bucket for c in credit_list}):
        mine = sorted((c for c in credit_list if c.bucket == bucket), key=lambda c: (c.expiry, c.credit_date))
        left = [c.amount_fen for c in mine]
        used_by_as_of = [0] * len(mine)
        days, spend = by_bucket.get(bucket, ((), ()))
        for day, fen in zip(days, spend):
            want = float(fen)
            for i, c in enumerate(mine):
                if want <= 0:
                    break
                if c.credit_date <= day <= c.expiry and left[i] > 0:
                    take = min(left[i], round(want))
                    left[i] -= take
                    want -= take
                    if day <= as_of:
                        used_by_as_of[i] += take
        for i, c in enumerate(mine):
            if c.expiry < as_of:
                balance = 0  # cleared at expiry; what was left shows as unused
            else:
                balance = c.amount_fen - used_by_as_of[i] if c.credit_date <= as_of else c.amount_fen
            start = max(as_of, c.credit_date - dt.timedelta(days=1))
            days_left = max((c.expiry - start).days, 0)
            rows.append({
                "quarter": c.quarter, "bucket": bucket, "credited_fen": c.amount_fen, "credit_date": c.credit_date,
                "expiry": c.expiry, "balance_at_as_of_fen": balance, "projected_unused_fen": left[i],
                "needed_per_day_fen": -(-balance // days_left) if days_left and balance > 0 else 0,
            })
    return pd.DataFrame(rows, columns=["quarter", "bucket", "credited_fen", "credit_date", "expiry",
                                       "balance_at_as_of_fen", "projected_unused_fen", "needed_per_day_fen"])


def _use_by_bucket(daily_use: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each bucket's days with use (in order, as dates) and the spend on each (rows of one
    bucket and day added up)."""
    if daily_use.empty:
        return {}
    codes, names = pd.factorize(daily_use["bucket"].astype(object).to_numpy())
    days, day = np.unique(daily_use["date"].to_numpy(dtype="datetime64[D]"), return_inverse=True)
    key = codes * len(days) + day
    size = len(names) * len(days)
    spend = np.bincount(key, weights=daily_use["fen"].to_numpy(dtype=np.float64), minlength=size).reshape(len(names), -1)
    seen = np.bincount(key, minlength=size).reshape(len(names), -1) > 0
    return {str(b): (days[seen[i]].astype(object), spend[i, seen[i]]) for i, b in enumerate(names)}


def daily_use(rows: pd.DataFrame, future: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Return-funded spend per bucket and day up to as_of, then projected bidding spend
    (``future``: date, bucket, fen) after it."""
    past = rows[(rows["funding"] == "return").to_numpy(dtype=bool) & (rows["date"] <= pd.Timestamp(as_of)).to_numpy()]
    past = pd.DataFrame({"date": past["date"], "bucket": bucket_of(past["platform"], past["placement"], past["network"]),
                         "fen": past["amount_fen"].astype(float)})
    return pd.concat([past, future], ignore_index=True)


EXPIRING_SOON_DAYS = 30  # "expiring within a month": the Overview's KPI and the portfolio's column


def expiring_balance_fen(ledger: pd.DataFrame, as_of: dt.date, within_days: int = EXPIRING_SOON_DAYS) -> int:
    """Return balance still unspent at as_of whose 90-day validity ends within ``within_days``."""
    soon = ledger[(ledger["expiry"] >= as_of) & (ledger["expiry"] <= as_of + dt.timedelta(days=within_days))]
    return int(soon["balance_at_as_of_fen"].sum())
