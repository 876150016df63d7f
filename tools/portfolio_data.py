"""Seeded synthetic portfolios: an agency's clients, accounts and a year of daily spend.

`python -m tools.portfolio_data OUT_DIR [--clients 150 --accounts 3000]` writes clients.csv
and spend.csv (one row per account and day, exact two-decimal amounts) — the benchmark's
data (150 clients × 3,000 accounts × 365 days ≈ 1.1M rows; 5M rows with --accounts 13700).
`python -m tools.portfolio_data --demo` writes the Portfolio page's demo files to
data/demo (150 realistic client-years over 2023–2024 from bench.synthetic, Parquet). No real client's data ships in the repo.
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq

PLATFORMS = np.array(["ocean_ads", "oesa", "local", "xingtu_xgl", "ocean_ads", "ocean_ads"])
NETWORKS = np.array(["douyin", "toutiao", "douyin", "csj", "douyin", "douyin"])
CLASSES = np.array(["A", "B1", "B2", "C1", "C2", "D"])
MODELS = np.array(["brand", "kol", "distribution", "agency"])
TYPES = np.array(["regular", "new"])
CITIES = ["济南", "青岛", "杭州", "成都", "武汉", "西安", "长沙", "厦门", "苏州", "郑州", "合肥", "南京", "佛山", "东莞", "宁波"]
WORDS = ["华康", "瑞丰", "鼎盛", "嘉禾", "恒通", "金穗", "新航", "博远", "悦享", "云帆"]
TRADES = ["食品", "美妆", "家居", "教育", "汽车", "电商", "文旅", "医疗器械", "服饰", "数码"]


def client_name(i: int) -> str:
    """A plausible, made-up company name per client index (unique for i < 1500)."""
    return f"{CITIES[i % len(CITIES)]}{WORDS[(i // len(CITIES)) % len(WORDS)]}{TRADES[(i * 7) % len(TRADES)]}有限公司"


def portfolio(clients: int, accounts: int, seed: int = 2024) -> tuple[pa.Table, pa.Table]:
    """(clients table, spend table): each account belongs to one client; daily cash spend
    with a weekly rhythm and lognormal noise; 3 % of days also spend returns."""
    rng = np.random.default_rng(seed)
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-12-31"))  # 365 days
    owner = rng.integers(0, clients, accounts)
    owner[:clients] = np.arange(clients)  # every client has at least one account
    level = rng.lognormal(np.log(6000), 0.8, accounts)
    n = accounts * len(days)
    acc = np.repeat(np.arange(accounts), len(days))
    day = np.tile(days, accounts)
    weekly = np.where((day.astype("datetime64[D]").view("int64") + 3) % 7 >= 5, 0.85, 1.0)
    fen = np.round(level[acc] * weekly * rng.lognormal(0, 0.25, n) * 100).astype(np.int64)
    funding = np.where(rng.random(n) < 0.03, "return", "cash")
    kind = acc % len(PLATFORMS)
    spend = pa.table({
        "client": pa.array(np.char.add("K", owner[acc].astype(str))),
        "date": pa.array(day.astype("datetime64[D]")).cast(pa.string()),
        "customer": pa.array(np.char.add("C", (acc // 4).astype(str))),
        "account_id": pa.array(np.char.add("17", (10_000_000 + acc).astype(str))),
        "platform": pa.array(PLATFORMS[kind]),
        "network": pa.array(NETWORKS[kind]),
        "bidding": pa.array(np.where(acc % 11 == 0, "false", "true")),
        "industry_class": pa.array(CLASSES[acc % len(CLASSES)]),
        "business_model": pa.array(MODELS[acc % len(MODELS)]),
        "funding": pa.array(funding),
        "amount": pa.array([f"{v // 100}.{v % 100:02d}" for v in fen.tolist()]),
    })
    total = np.bincount(owner[acc], weights=fen, minlength=clients)  # fen per client-year
    targets = np.round(total * rng.uniform(0.8, 1.3, clients) / 100, -4)  # RMB, to 10,000
    paid = np.where(rng.random(clients) < 0.9, "2024-02-20", "2024-05-10")
    clients_table = pa.table({
        "client": [f"K{i}" for i in range(clients)],
        "name": [client_name(i) for i in range(clients)],
        "target_amount": targets,
        "customer_type": TYPES[rng.integers(0, 2, clients)],
        "main_industry": np.where(rng.random(clients) < 0.2, "food_beverage", "other"),
        "previous_year": np.round(targets * rng.uniform(0.5, 1.1, clients), -2),
        "deposit_paid_on": paid,
    })
    return clients_table, spend


def write(out: Path, clients: int, accounts: int, seed: int = 2024) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    c, s = portfolio(clients, accounts, seed)
    pv.write_csv(c, out / "clients.csv", pv.WriteOptions(quoting_style="none"))
    pv.write_csv(s, out / "spend.csv", pv.WriteOptions(quoting_style="none"))
    return out / "clients.csv", out / "spend.csv"


DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"


def demo_portfolio(clients: int = 150, seed: int = 2024) -> tuple[pa.Table, pa.Table]:
    """(clients table, spend table) of realistic client-years (bench.synthetic: seasons,
    trends, steps, churn, stops) over 2023 and 2024, with targets negotiated from 2023 —
    so the risk mix is an agency's (some meet the target, some fall short, a few fall
    below the previous year), not 149 of 150 red."""
    from bench.synthetic import client_years

    rng = np.random.default_rng(seed)
    years, targets, previous = [], [], []
    for c in client_years(clients, seed, volatility=0.5):  # an agency's clients: 2023 spend of 25–150M, targets grown from it
        before = c.total[c.days.year == c.year - 1].sum()
        scale = float(np.clip(rng.uniform(25_000_000_00, 150_000_000_00) / max(before, 1), 0.2, 20.0))
        c = replace(c, spend=np.round(c.spend * scale).astype(np.int64))
        previous.append(int(c.total[c.days.year == c.year - 1].sum()) // 100)
        targets.append(max(round(previous[-1] * np.exp(rng.normal(0.08, 0.12)), -4), 30_000_000))
        years.append(c)
    frames = []
    for i, c in enumerate(years):
        rows = c.rows()
        frames.append(pd.DataFrame({
            "client": f"K{i}", "date": rows["date"].dt.strftime("%Y-%m-%d"), "customer": client_name(i),
            "account_id": [f"17{10_000_000 + 10 * i + int(a.rsplit('-', 1)[1])}" for a in rows["account_id"]],
            "platform": rows["platform"], "network": rows["network"], "bidding": "true", "placement": rows["placement"],
            "industry_class": rows["industry_class"], "business_model": rows["business_model"], "funding": "cash",
            "amount": [f"{v // 100}.{v % 100:02d}" for v in rows["amount_fen"].tolist()],
        }))
    spend = pa.Table.from_pandas(pd.concat(frames, ignore_index=True), preserve_index=False)
    clients_table = pa.table({
        "client": [f"K{i}" for i in range(clients)],
        "name": [client_name(i) for i in range(clients)],
        "target_amount": targets,
        "customer_type": np.where(rng.random(clients) < 0.15, "new", "regular"),
        "main_industry": np.where(rng.random(clients) < 0.2, "food_beverage", "other"),
        "previous_year": previous,
        "deposit_paid_on": np.where(rng.random(clients) < 0.9, "2024-02-20", "2024-05-10"),
    })
    return clients_table, spend


def write_demo() -> tuple[Path, Path]:
    """The Portfolio page's demo: 150 clients over 2023–2024, small enough to ship (Parquet)."""
    c, s = demo_portfolio()
    pv.write_csv(c, DEMO / "portfolio_clients.csv", pv.WriteOptions(quoting_style="none"))
    pq.write_table(s, DEMO / "portfolio_spend.parquet", compression="zstd")
    return DEMO / "portfolio_clients.csv", DEMO / "portfolio_spend.parquet"


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m tools.portfolio_data")
    ap.add_argument("out", type=Path, nargs="?")
    ap.add_argument("--clients", type=int, default=150)
    ap.add_argument("--accounts", type=int, default=3000)
    ap.add_argument("--demo", action="store_true", help="write data/demo/portfolio_* instead")
    a = ap.parse_args()
    print(*(write_demo() if a.demo else write(a.out, a.clients, a.accounts)))
