"""Rules §2 (III.1): the return rate of every row, with its four modifiers.

Why a lookup table: rates depend on (platform kind, business model, class) only, so a
small integer array indexed by categorical codes rates a million rows in milliseconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .classification import distinct_combinations, quarter_of
from .clauses import clause
from .policy import BUSINESS_MODELS, INDUSTRY_CLASSES, Policy, to_ppm
from .terms import ContractTerms

KIND_NONE, KIND_LOCAL, KIND_ADS = 0, 1, 2
# Zero groups of §5.1 rule 4 (III.2(2)③): rows that earn nothing in a shortfall below a size.
ZERO_NONE, ZERO_LISTED_D, ZERO_CLASS_E = 0, 1, 2
N_ZERO_GROUPS = 3
_CLASS_INDEX = {c: i for i, c in enumerate(INDUSTRY_CLASSES)}
_MODEL_INDEX = {m: i for i, m in enumerate(BUSINESS_MODELS)}


@dataclass(frozen=True)
class RowRates:
    agreed_ppm: np.ndarray  # int64: the agreed rate (§2 modifiers 1–3), parts per million
    zero_group: np.ndarray  # int8: ZERO_* group for the shortfall rule
    effective_class: np.ndarray  # object: class after Class E mapping and listing
    kol_reuse: np.ndarray  # bool: rated as brand under reading kol_reuse_as_brand


@lru_cache(maxsize=8)
def rate_table_ppm(policy: Policy) -> np.ndarray:
    """[kind, business model, class] -> rate in ppm; kind NONE rates 0."""
    table = np.zeros((3, len(BUSINESS_MODELS), len(INDUSTRY_CLASSES)), dtype=np.int64)
    for m, model in enumerate(BUSINESS_MODELS):
        for c, cls in enumerate(INDUSTRY_CLASSES):
            table[KIND_LOCAL, m, c] = to_ppm(policy.rates.local_rate(cls))
            table[KIND_ADS, m, c] = to_ppm(policy.rates.ads_rate(model, cls))
    return table


def _codes(values: pd.Series, index: dict[str, int]) -> np.ndarray:
    return values.astype(object).map(index).to_numpy(dtype=np.int64)


@clause("III.1(2)")
def _special_class(rows: pd.DataFrame, policy: Policy) -> np.ndarray:
    """III.1(2): a special industry row takes its Class E (E1/E2) instead of its class."""
    cls = rows["industry_class"].astype(object).to_numpy()
    special = rows["special"].astype(object).to_numpy()
    mapping = policy.class_e_mapping
    out = cls.copy()
    for name in ("class_i_medical", "class_i_other", "class_ii_cosmetics", "class_ii_other"):
        out = np.where(special == name, getattr(mapping, name), out)
    authority = pd.Series(cls).map(mapping.special_authority).to_numpy(dtype=object)
    return np.where((special == "special_authority") & pd.notna(authority), authority, out)


@clause("III.1(4)")
def _listed_class(rows: pd.DataFrame, q: np.ndarray, policy: Policy, terms: ContractTerms) -> np.ndarray:
    """III.1(4): listed from the notice's quarter; unlisted from the quarter after. '' = not listed."""
    if not terms.listed_changes:
        return np.full(len(rows), "", dtype=object)
    by_quarter: dict[tuple[str, int], str] = {}
    for change in sorted(terms.listed_changes, key=lambda c: c.notified_on):
        start = quarter_of(change.notified_on, policy) + (0 if change.listed else 1)
        for quarter in range(max(start, 1), 5):
            by_quarter[(change.customer, quarter)] = (change.listed_class or "") if change.listed else ""
    if not by_quarter:
        return np.full(len(rows), "", dtype=object)
    codes, customers = pd.factorize(rows["customer"], use_na_sentinel=False)  # looked up per customer, not per row
    table = np.array([[by_quarter.get((c, quarter), "") for quarter in range(6)] for c in customers] or [[""] * 6],
                     dtype=object)
    return table[codes, q]


RATE_COLUMNS = ("industry_class", "special", "business_model", "kol_reuses_xingtu_video", "platform", "ad_model")


@clause("III.1")
def row_rates(rows: pd.DataFrame, q: np.ndarray, policy: Policy, terms: ContractTerms) -> RowRates:
    """Agreed rate per row: Class E mapping, listing (1), KOL reuse (2), traffic e-commerce cap (3).
    The 630 reduction (4) depends on the checkpoint, so it is applied per quarter later.

    Why distinct rows: a rate depends only on the row's class, special industry, model,
    KOL reuse, platform, ad model and listing — a few dozen combinations even in a
    million-row portfolio — so the rules run once per combination and rows take theirs."""
    listed = _listed_class(rows, q, policy, terms)
    columns = [rows[c] for c in RATE_COLUMNS] + ([listed] if terms.listed_changes else [])
    inverse, first = distinct_combinations(columns)
    small = _distinct_rates(rows.iloc[first].reset_index(drop=True), listed[first], policy)
    return RowRates(agreed_ppm=small.agreed_ppm[inverse], zero_group=small.zero_group[inverse],
                    effective_class=small.effective_class[inverse], kol_reuse=small.kol_reuse[inverse])


def _distinct_rates(rows: pd.DataFrame, listed: np.ndarray, policy: Policy) -> RowRates:
    """§2 on rows that differ in every rate-relevant column (see row_rates)."""
    cls = np.where(listed != "", listed, _special_class(rows, policy))
    model = rows["business_model"].astype(object).to_numpy()
    reuse = rows["kol_reuses_xingtu_video"].to_numpy(dtype=bool) & (model == "kol")
    model = np.where(reuse, policy.rates.kol_reuse_rated_as, model)
    platform = rows["platform"]
    kind = np.where(
        platform.isin(policy.rates.local_platforms).to_numpy(dtype=bool),
        KIND_LOCAL,
        np.where(platform.isin(policy.rates.ads_platforms).to_numpy(dtype=bool), KIND_ADS, KIND_NONE),
    )
    table = rate_table_ppm(policy)
    m_idx = _codes(pd.Series(model, dtype=object), _MODEL_INDEX)
    c_idx = _codes(pd.Series(cls, dtype=object), _CLASS_INDEX)
    rate = table[kind, m_idx, c_idx]
    cap = table[kind, m_idx, _CLASS_INDEX[policy.rates.traffic_ecommerce_cap_class]]
    traffic = (rows["ad_model"] == "traffic_ecommerce").to_numpy(dtype=bool)
    rate = np.where(traffic, np.minimum(rate, cap), rate)
    zeroed_special = rows["special"].isin(policy.shortfall_zeroing.special_zeroed_with_class_e).to_numpy(dtype=bool)
    zero = np.where(
        listed == "D", ZERO_LISTED_D, np.where(np.isin(listed, ["E1", "E2"]) | zeroed_special, ZERO_CLASS_E, ZERO_NONE)
    ).astype(np.int8)
    return RowRates(agreed_ppm=rate.astype(np.int64), zero_group=zero, effective_class=cls, kol_reuse=reuse)
