"""Account classification: the per-account facts most exports lack.

Why per account: industry class, business model, platform, network and placement are
properties of an ad account, not of a day's spend. The user sets them once per client
in an editable table; every upload of that client is completed from it. Values that a
file does carry win over the table, row by row.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .spend import SpendParse
from .validate import normalise_spend

# Field -> default when neither the file nor the saved classification says. Class A is the
# lowest positive rate: an unclassified account never overstates a return.
DEFAULTS: dict[str, object] = {
    "customer": "",
    "platform": "ocean_ads",
    "network": "douyin",
    "placement": "feed",
    "bidding": True,
    "industry_class": "A",
    "business_model": "brand",
    "ad_model": "standard",
    "via_party_b": True,
    "special": "",
}
ACCOUNT_FIELDS: tuple[str, ...] = tuple(DEFAULTS)


def _most_common(raw: pd.DataFrame, field: str) -> pd.Series:
    """The most frequent non-empty value of a field per account."""
    values = raw[["account_id", field]].astype({field: "string"})
    values = values[values[field].fillna("").str.strip() != ""]
    if values.empty:
        return pd.Series(dtype=object)
    return values.groupby("account_id")[field].agg(lambda s: s.value_counts().index[0])


def accounts_table(raw: pd.DataFrame, saved: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per account of an upload: saved classification, else what the file says
    most often, else the default. ``raw`` holds canonical cells (see core.ingest)."""
    accounts = pd.Index(sorted(raw["account_id"].astype(str).unique()), name="account_id")
    out = pd.DataFrame(index=accounts)
    for field, default in DEFAULTS.items():
        col = pd.Series(default, index=accounts, dtype=object)
        if field in raw.columns:
            col.update(_most_common(raw.assign(account_id=raw["account_id"].astype(str)), field))
        if saved is not None and field in saved.columns:
            known = saved[field].reindex(accounts)
            col = col.where(known.isna(), known)
        out[field] = col
    if "account_name" in raw.columns:
        names = _most_common(raw.assign(account_id=raw["account_id"].astype(str)), "account_name")
        out.insert(0, "account_name", names.reindex(accounts).fillna(""))
    return out.reset_index()


def accounts_of_upload(rows: pd.DataFrame, given: tuple[str, ...], cells: pd.DataFrame,
                       saved: pd.DataFrame | None = None) -> pd.DataFrame:
    """The accounts an upload introduces, classified from its *validated* rows (canonical
    values such as 'local', never the file's '巨量本地推', which the classification grid
    cannot show and a later evaluation would refuse), only for the fields the file gave;
    names from the file's account_name column."""
    fields = [f for f in ACCOUNT_FIELDS if f in given and f in rows.columns]
    raw = pd.DataFrame({"account_id": rows["account_id"].astype(str).to_numpy()})
    for f in fields:
        raw[f] = rows[f].astype(object).to_numpy()
    if "account_name" in cells.columns:
        names = cells.assign(account_id=cells["account_id"].astype(str)).groupby("account_id")["account_name"].first()
        raw["account_name"] = raw["account_id"].map(names).fillna("").astype(str)
    return accounts_table(raw, saved)


def apply_classification(raw: pd.DataFrame, classification: pd.DataFrame | None) -> pd.DataFrame:
    """Fill every per-account field a row lacks from the classification (then defaults)."""
    out = raw.copy(deep=False)  # copy-on-write: only the columns filled below are new
    table = classification.set_index("account_id") if classification is not None and len(classification) else None
    for field, default in DEFAULTS.items():
        if table is not None and field in table.columns:
            fill = _per_account(out["account_id"], table[field], default)
        else:
            fill = _constant(default, len(out))
        if field not in out.columns:
            out[field] = fill
            continue
        empty = _empty_cells(out[field])
        if empty.any():  # a big export usually has none: leave its (categorical) column as it is
            out[field] = out[field].astype(object).where(~empty, fill)
    return out


def _constant(value: object, n: int) -> object:
    """A default for every row: text as a one-category categorical (a million copies of
    'feed' would be hashed again by the validator), anything else as the scalar."""
    if isinstance(value, str):
        return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[value])
    return value


def _per_account(account_id: pd.Series, values: pd.Series, default: object) -> pd.Series:
    """The classification's value of each row's account (the default where it has none),
    looked up once per distinct account."""
    codes, accounts = pd.factorize(account_id, use_na_sentinel=False)
    fill = pd.Series(accounts).astype(str).map(values)
    fill = fill.astype(object).where(fill.notna(), default).to_numpy(dtype=object)
    return pd.Series(fill[codes], index=account_id.index, dtype=object)


def _empty_cells(col: pd.Series) -> np.ndarray:
    """Missing or blank cells; a categorical column is checked on its categories only."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = pd.Series(col.cat.categories.astype(str))
        blank = col.cat.categories[cats.str.strip().eq("").to_numpy()]
        return (col.isna() | col.isin(blank)).to_numpy(dtype=bool)
    return (col.isna() | (col.astype(str).str.strip() == "")).to_numpy(dtype=bool)


def classified_spend(cells: pd.DataFrame, classification: pd.DataFrame | None, source: str = "stored spend") -> SpendParse:
    """Stored cells (None where the file said nothing) + classification -> typed rows."""
    return normalise_spend(apply_classification(cells, classification), source=source)
