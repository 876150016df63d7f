"""Generate the demo client's spend (2024 and 2023) with a fixed seed.

Run: python -m tools.make_demo  ->  data/demo/spend_2024.csv, data/demo/spend_2023.csv
Why synthetic: a new user must see a full dashboard on first start, and no real
client's data may ship in the repository. The shape follows the Chinese ad market:
a Spring Festival dip, the 618 run-up and the Double 11 peak, weekly rhythm, noise.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "data" / "demo"
SEED = 20240101

# account id, customer, platform, network, placement, class, model, bidding, share of spend
ACCOUNTS = [
    ("1780000001", "济南富达食品有限公司", "ocean_ads", "douyin", "feed", "B1", "brand", True, 0.30),
    ("1780000002", "济南富达食品有限公司", "ocean_ads", "toutiao", "search", "B1", "brand", True, 0.08),
    ("1780000003", "济南富达食品有限公司", "local", "douyin", "feed", "C2", "brand", True, 0.12),
    ("1780000004", "富达电子商务（济南）有限公司", "oesa", "douyin", "feed", "B2", "kol", True, 0.22),
    ("1780000005", "富达电子商务（济南）有限公司", "xingtu_xgl", "douyin", "feed", "B1", "brand", True, 0.08),
    ("1780000006", "济南富达饮品有限公司", "ocean_ads", "csj", "feed", "B1", "distribution", True, 0.10),
    ("1780000007", "济南富达饮品有限公司", "xingtu_service", "douyin", "feed", "B1", "brand", False, 0.05),
    ("1780000008", "济南富达饮品有限公司", "ocean_ads", "douyin", "feed", "B1", "agency", True, 0.05),
]


def seasonal_profile(days: pd.DatetimeIndex, spring_festival: dt.date) -> np.ndarray:
    """Relative daily level: weekly rhythm, Spring Festival dip, 618 and Double 11 peaks."""
    level = np.ones(len(days))
    level *= np.where(days.day_of_week >= 5, 0.88, 1.0)
    sf = (days - pd.Timestamp(spring_festival)).days.to_numpy()
    level *= np.where((sf >= -7) & (sf <= 8), 0.45, 1.0)
    md = days.month * 100 + days.day
    level *= np.where((md >= 601) & (md <= 618), 1.45, 1.0)
    level *= np.where((md >= 1020) & (md <= 1111), 1.7, 1.0)
    level *= np.where((md >= 1201), 0.92, 1.0)
    level *= 1 + 0.25 * (days.day_of_year.to_numpy() / 366)  # growth through the year
    return level


def make_year(year: int, annual_total: float, spring_festival: dt.date, rng: np.random.Generator) -> pd.DataFrame:
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    profile = seasonal_profile(days, spring_festival)
    daily_total = annual_total * profile / profile.sum()
    frames = []
    for acc, customer, platform, network, placement, cls, model, bidding, share in ACCOUNTS:
        noise = rng.lognormal(mean=0.0, sigma=0.18, size=len(days))
        amount = np.round(daily_total * share * noise, 2)
        frame = pd.DataFrame(
            {
                "date": days.strftime("%Y-%m-%d"), "customer": customer, "account_id": acc, "platform": platform,
                "network": network, "bidding": bidding, "placement": placement, "funding": "cash",
                "industry_class": cls, "business_model": model, "amount": amount,
            }
        )
        frames.append(frame)
    spend = pd.concat(frames, ignore_index=True)
    # Returns credited after each quarter are spent on the bidding accounts (not counted).
    bidding_rows = spend["bidding"] & spend["date"].between(f"{year}-04-21", f"{year}-12-31")
    returned = spend.loc[bidding_rows].copy()
    returned["funding"] = "return"
    returned["amount"] = np.round(returned["amount"] * rng.uniform(0.02, 0.05, len(returned)), 2)
    spend.loc[bidding_rows, "amount"] = np.round(spend.loc[bidding_rows, "amount"] - returned["amount"], 2)
    return pd.concat([spend, returned], ignore_index=True).sort_values(["date", "account_id", "funding"])


def make_earnings(rng: np.random.Generator) -> pd.DataFrame:
    """Monthly SDK earnings of a few developers (some below the 1,000 minimum)."""
    developers = {"星河工作室": ["星河阅读", "星河天气"], "小鹿游戏": ["消消乐"], "青柠科技": ["青柠记账", "青柠相机"],
                  "独立开发者王某": ["番茄钟"], "蓝鲸网络": ["蓝鲸短剧"]}
    scale = {"星河工作室": 8000, "小鹿游戏": 25000, "青柠科技": 3000, "独立开发者王某": 400, "蓝鲸网络": 60000}
    rows = []
    for month in pd.period_range("2024-01", "2024-12", freq="M"):
        for dev, apps in developers.items():
            for app in apps:
                amount = round(float(scale[dev] * rng.lognormal(0, 0.35) / len(apps)), 2)
                rows.append({"月份": str(month), "开发者": dev, "应用": app, "收益": amount})
    return pd.DataFrame(rows)


def main() -> None:
    rng = np.random.default_rng(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    make_year(2024, 49_200_000, dt.date(2024, 2, 10), rng).to_csv(OUT / "spend_2024.csv", index=False)
    make_year(2023, 41_000_000, dt.date(2023, 1, 22), rng).to_csv(OUT / "spend_2023.csv", index=False)
    make_earnings(rng).to_csv(OUT / "earnings_2024.csv", index=False)


if __name__ == "__main__":
    main()
