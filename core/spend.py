"""The canonical spend row (rules §1) and its vectorised validation.

Why here and only here: the batch CLI, file uploads and the projections all feed the
engine the same table, so there is one definition of a valid row and one place that
turns raw cells (JSON values or file text) into typed columns with row-numbered errors.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from .parsing import (
    as_text,
    is_missing,
    parse_amount_fen,
    parse_bools,
    parse_dates,
    parse_enum,
    plain_decimal_fen,
)
from .policy import BUSINESS_MODELS, INDUSTRY_CLASSES, Policy
from .problems import Problem

PLATFORMS = ("ocean_ads", "oesa", "local", "xingtu_xgl", "xingtu_service", "dou_plus_upgraded", "dou_plus", "other")
NETWORKS = ("douyin", "toutiao", "ixigua", "fanqie", "csj", "dongchedi", "xingfuli", "other")
PLACEMENTS = ("feed", "search")
FUNDINGS = ("cash", "return", "grant")
AD_MODELS = ("standard", "traffic_ecommerce")
SPECIALS = ("class_i_medical", "class_i_other", "class_ii_cosmetics", "class_ii_other", "special_authority")

Kind = Literal["date", "text", "enum", "bool", "money", "category"]  # category: free text kept as pandas categorical
MAX_TEXT = 200  # an account id or company name is never longer; a longer cell is a wrong column or an attack


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    required: bool = True
    default: object = None
    values: tuple[str, ...] = ()


SPEND_FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("date", "date"),
        Field("customer", "text", required=False),  # defaults to the account id
        Field("account_id", "text"),
        Field("platform", "enum", values=PLATFORMS),
        Field("network", "enum", values=NETWORKS),
        Field("bidding", "bool"),
        Field("brand_bidding", "bool", False, False),
        Field("placement", "enum", False, "feed", PLACEMENTS),
        Field("funding", "enum", False, "cash", FUNDINGS),
        Field("industry_class", "enum", values=INDUSTRY_CLASSES),
        Field("business_model", "enum", values=BUSINESS_MODELS),
        Field("ad_model", "enum", False, "standard", AD_MODELS),
        Field("kol_reuses_xingtu_video", "bool", False, False),
        Field("via_party_b", "bool", False, True),
        Field("special", "enum", False, "", SPECIALS),
        Field("amount", "money"),
    )
}
ENUM_CATEGORIES: dict[str, tuple[str, ...]] = {
    name: (f.values + ("",) if name == "special" else f.values)
    for name, f in SPEND_FIELDS.items()
    if f.kind == "enum"
}
CANONICAL_COLUMNS = [n for n in SPEND_FIELDS if n != "amount"] + ["amount_fen", "source_row"]


@dataclass(frozen=True)
class SpendParse:
    """Typed rows that passed validation, and every problem found (errors and warnings)."""

    rows: pd.DataFrame
    problems: tuple[Problem, ...]
    rows_read: int

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")


def _shown(value: object, limit: int = 60) -> str:
    """A cell as shown in a message: long values cut, so a report stays readable."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _shown_cells(uniques: pd.Series, codes: np.ndarray) -> Callable[[int], str]:
    """The cell text of row i, looked up through its distinct value (only failing rows ask)."""
    return lambda i: as_text(uniques.iloc[[codes[i]]]).iat[0]


OUTSIDE_ROWS_LISTED = 20  # more rows outside the policy year are one summary line (a previous year's export)


def _outside_year(frame: pd.DataFrame, bad: np.ndarray, rows_no: np.ndarray, policy: Policy, source: str) -> list[Problem]:
    """Rows dated outside the policy year: a few are likely typos and are listed row by
    row; many are another year's data (kept: the previous year shapes the forecast) and
    get one line with their count and date range — not 166,000 warnings."""
    dates = frame["date"]
    outside = ((dates < pd.Timestamp(policy.year_start)) | (dates > pd.Timestamp(policy.year_end))).to_numpy(dtype=bool) & ~bad
    year = str(policy.year_start.year)
    n = int(outside.sum())
    if n <= OUTSIDE_ROWS_LISTED:
        return _problems_for(outside, "date", lambda i: dates.iat[i].strftime("%Y-%m-%d"), rows_no,
                             f"date outside the policy year {year}; the row is ignored", source, "warning",
                             code="outside_year", params=(("year", year),))
    span = f"{dates[outside].min():%Y-%m-%d} – {dates[outside].max():%Y-%m-%d}"
    return [Problem("warning", f"{n:,} rows dated outside the policy year {year} are not counted in this year's "
                    "contract (rows of the year before shape the seasonal forecast and its track record)",
                    None, "date", span, source, "outside_year_rows", (("year", year), ("n", f"{n:,}")))]


def _problems_for(
    mask: np.ndarray, column: str, shown: pd.Series | Callable[[int], str], rows: np.ndarray, message: str, source: str,
    severity: str = "error", code: str = "", params: tuple[tuple[str, str], ...] = (),
) -> list[Problem]:
    """One problem per masked row; ``shown`` is the rows' text or a function of the row index."""
    idx = np.flatnonzero(mask)
    cell = shown.iat.__getitem__ if isinstance(shown, pd.Series) else shown
    return [
        Problem(severity, message, int(rows[i]), column, _shown(cell(i)), source, code, params)  # type: ignore[arg-type]
        for i in idx
    ]


@dataclass(frozen=True)
class _Column:
    """A parsed column as codes into its distinct parsed values (materialised at assembly)."""

    codes: np.ndarray
    values: np.ndarray

    def dense(self) -> np.ndarray:
        return self.values[self.codes]


def _factorize(col: pd.Series, spec: Field) -> tuple[np.ndarray, pd.Series]:
    """Codes and distinct values of a raw column. Amounts are mostly distinct, so they are
    parsed as they are (codes 0..n-1); a categorical column is already factorized."""
    col = col.reset_index(drop=True)
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()
        values = np.asarray(col.cat.categories, dtype=object).tolist()
        if (codes < 0).any():  # missing cells point at one None after the categories
            return np.where(codes < 0, len(values), codes), pd.Series([*values, None], dtype=object)
        return codes, pd.Series(values, dtype=object)
    if spec.kind == "money":
        return np.arange(len(col)), col
    codes, uniques = pd.factorize(col, use_na_sentinel=False)
    return codes.astype(np.int64), pd.Series(uniques, dtype=object)


def normalise_spend(
    raw: pd.DataFrame,
    *,
    row_numbers: np.ndarray | None = None,
    source: str = "spend",
    value_aliases: dict[str, dict[str, str]] | None = None,
    policy: Policy | None = None,
    extra_fields: tuple[Field, ...] = (),
) -> SpendParse:
    """Validate raw cells column by column and return typed rows plus problems.
    ``extra_fields`` are validated and kept besides the canonical ones (the portfolio's
    `client` column).

    Rows with an error are left out of ``rows``; the caller decides whether a partial
    import is acceptable (the CLI never accepts one).
    """
    n = len(raw)
    prefen = None
    if "amount_fen" in raw.columns and "amount" not in raw.columns:  # stored rows: already exact fen
        prefen = raw["amount_fen"].to_numpy(dtype=np.int64)
        raw = raw.drop(columns=["amount_fen"]).assign(amount="0")
    if row_numbers is None and "source_row" in raw.columns:
        row_numbers = raw["source_row"].to_numpy()
        raw = raw.drop(columns=["source_row"])
    rows_no = np.arange(1, n + 1) if row_numbers is None else np.asarray(row_numbers)
    problems: list[Problem] = []
    fields = SPEND_FIELDS | {f.name: f for f in extra_fields}
    unknown = [c for c in raw.columns if c not in fields]
    for c in unknown:
        problems.append(Problem("error", f"unknown field '{c}' (known: {', '.join(fields)})", None, str(c), None, source))
    bad = np.zeros(n, dtype=bool)
    out: dict[str, object] = {}
    aliases = value_aliases or {}
    for name, spec in fields.items():
        if name not in raw.columns:
            if spec.required and name != "customer":
                problems.append(Problem("error", f"required field '{name}' is missing", None, name, None, source))
                bad[:] = True
            out[name] = _default_column(spec, n)
            continue
        # Parse each distinct cell once: an export repeats a handful of platforms, classes
        # and 366 dates over a million rows, so the parsers see thousands of cells, not millions.
        codes, uniques = _factorize(raw[name], spec)
        shown = _shown_cells(uniques, codes)
        values_u, ok_u, extra, missing_u = parse_column(spec, uniques, aliases.get(name))
        missing = missing_u[codes]
        if spec.required and name != "customer" and missing.any():
            problems += _problems_for(missing, name, shown, rows_no, f"'{name}' is empty", source, code="empty", params=(("field", name),))
            bad |= missing
        failed = (~ok_u & ~missing_u)[codes]
        if failed.any():
            problems += _problems_for(failed, name, shown, rows_no, _failure_message(spec), source, code=f"bad_{spec.kind}",
                                      params=(("field", name), ("values", ", ".join(spec.values))))
            bad |= failed
        for mask_u, msg, sev, code in extra:
            if not mask_u.any():
                continue
            mask = mask_u[codes]
            problems += _problems_for(mask, name, shown, rows_no, msg, source, sev, code)
            if sev == "error":
                bad |= mask
        if not spec.required or name == "customer":
            fill: Any = spec.default if spec.default is not None else values_u
            values_u = np.where(missing_u, fill, values_u)
        out[name] = _Column(codes, np.asarray(values_u))
    if prefen is not None:
        out["amount"] = prefen
    frame = _assemble(out, rows_no, n, fields)
    if n:
        unmapped_special = _special_authority_without_mapping(frame, policy)
        problems += _problems_for(
            unmapped_special, "special", lambda i: str(frame["industry_class"].iat[i]), rows_no,
            "special promotion authority in a class D or E industry is not covered by III.1(2)3); "
            "give the underlying class A, B1, B2, C1 or C2", source, code="special_authority",
        )
        bad |= unmapped_special
        if policy is not None:
            problems += _outside_year(frame, bad, rows_no, policy, source)
    rows = frame.loc[~bad].reset_index(drop=True) if bad.any() else frame  # no copy of a clean million rows
    return SpendParse(rows=rows, problems=tuple(problems), rows_read=n)


def typed_rows(values: pd.DataFrame) -> pd.DataFrame:
    """Rows whose cells are already canonical values (e.g. segments of validated rows,
    re-dated) in the canonical dtypes, without parsing them again: a projection builds
    such rows for every client, and re-validating them cost more than the projection."""
    n = len(values)
    out: dict[str, object] = {name: values[name].to_numpy() for name in SPEND_FIELDS if name != "amount"}
    out["amount"] = values["amount_fen"].to_numpy(dtype=np.int64)
    return _assemble(out, np.arange(1, n + 1), n, SPEND_FIELDS)


def _default_column(spec: Field, n: int) -> np.ndarray:
    if spec.kind == "bool":
        return np.full(n, bool(spec.default))
    if spec.kind == "date":
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if spec.kind == "money":
        return np.zeros(n, dtype=np.int64)
    return np.full(n, spec.default if spec.default is not None else "", dtype=object)


def parse_column(spec: Field, col: pd.Series, aliases: dict[str, str] | None
                 ) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, str, str, str]], np.ndarray]:
    """Parse one column of cells by its field kind; returns values, ok mask, extra (mask,
    message, severity, code) checks, and the missing mask. Shared by the spend validator
    (on distinct cells) and the portfolio's clients file."""
    if spec.kind == "money":
        fast = plain_decimal_fen(col)  # plain decimal text: nothing missing, no separators, no European comma
        if fast is not None:
            return fast.fen, fast.ok | fast.too_large, _amount_checks(fast, np.zeros(len(col), dtype=bool)), np.zeros(len(col), dtype=bool)
    text = as_text(col)
    missing = is_missing(text)
    if spec.kind == "date":
        values, ok = parse_dates(col)
        return values, ok, [], missing
    if spec.kind == "bool":
        values, ok = parse_bools(col)
        return values, ok, [], missing
    if spec.kind == "enum":
        values, ok = parse_enum(col, spec.values, aliases)
        return values, ok, [], missing
    if spec.kind == "money":
        parsed = parse_amount_fen(col)
        return parsed.fen, parsed.ok | parsed.too_large, _amount_checks(parsed, decimal_comma(text)), missing  # absurd amounts get their own message
    too_long = (text.str.len() > MAX_TEXT).to_numpy(dtype=bool)
    return text.to_numpy(dtype=object), np.ones(len(col), dtype=bool), [
        (too_long, f"text longer than {MAX_TEXT} characters; is this the right column?", "error", "too_long")], missing


def decimal_comma(text: pd.Series) -> np.ndarray:
    """Amount cells whose comma is a decimal comma: European '1.234,56', or any comma that
    does not group three digits ('1234,56' in a semicolon file). The amount parser strips
    commas, so reading them would be 100× too much; every amount reader refuses them."""
    european = text.str.match(r"^[¥￥]?\s*-?\d{1,3}(\.\d{3})+,\d{1,2}\s*(元)?$").fillna(False).to_numpy(dtype=bool)
    return european | _not_thousands(text)


def _not_thousands(text: pd.Series) -> np.ndarray:
    bare = text.str.replace(r"[\s¥￥$]|RMB|CNY|元|万|萬|亿|億", "", regex=True)
    has_comma = bare.str.contains(r"[,，]", regex=True).fillna(False).to_numpy(dtype=bool)
    grouped = bare.str.match(r"^[+-]?\(?\d{1,3}(?:[,，]\d{3})+(?:\.\d*)?\)?(?:[eE][+-]?\d+)?$").fillna(False).to_numpy(dtype=bool)
    return has_comma & ~grouped


def _amount_checks(parsed: Any, european: np.ndarray) -> list[tuple[np.ndarray, str, str, str]]:
    return [
        (european, "looks like a European decimal comma (1.234,56 or 1234,56); write 1234.56 or 1,234.56", "error", "european"),
        (parsed.negative, "negative amount: spend must be 0 or more (enter refunds as a separate adjustment)", "error", "negative"),
        (parsed.too_large, "amount is not a plausible spend (above 1,000,000,000,000 RMB)", "error", "too_large"),
        (parsed.rounded & ~parsed.negative, "amount has fractions of a fen; rounded half-up to 0.01", "warning", "rounded"),
    ]


def _failure_message(spec: Field) -> str:
    if spec.kind == "date":
        return "not a date (use 2024-01-05, 2024/1/5 or 2024年1月5日)"
    if spec.kind == "bool":
        return "not a yes/no value (use true/false, 1/0 or 是/否)"
    if spec.kind == "enum":
        return f"unknown value for '{spec.name}' (expected one of: {', '.join(spec.values)})"
    if spec.kind == "money":
        return "not an amount (use 1234.56, 1,234.56, ¥1,234.56 or 12.3万)"
    return "invalid value"


def _assemble(out: dict[str, object], rows_no: np.ndarray, n: int, fields: dict[str, Field]) -> pd.DataFrame:
    data: dict[str, object] = {}
    for name, spec in fields.items():
        v = out[name]
        if spec.kind == "enum":
            data[name] = _categorical(v, ENUM_CATEGORIES[name], n)
            continue
        if spec.kind in ("text", "category"):
            continue
        v = v.dense() if isinstance(v, _Column) else v
        if spec.kind == "bool":
            data[name] = np.asarray(v, dtype=bool)
        elif spec.kind == "date":
            data[name] = pd.to_datetime(np.asarray(v, dtype="datetime64[D]"))
        elif spec.kind == "money":
            data["amount_fen"] = np.asarray(v, dtype=np.int64)
    for name, spec in fields.items():
        if spec.kind == "text":
            data[name] = _text(out[name], n)
        elif spec.kind == "category":
            data[name] = _free_categorical(out[name], n)
    frame = pd.DataFrame(data, index=pd.RangeIndex(n))
    frame["customer"] = frame["customer"].where(frame["customer"] != "", frame["account_id"])
    frame["source_row"] = np.asarray(rows_no, dtype=np.int64)
    return frame[CANONICAL_COLUMNS + [f for f in fields if f not in SPEND_FIELDS]]


def _text(v: object, n: int) -> pd.Series:
    """A text column as pandas' Arrow-backed str, taken from its distinct values by code
    (a million account ids are never rebuilt one Python string at a time)."""
    if isinstance(v, _Column):
        values = pa.array([str(x) for x in v.values.tolist()], pa.large_string())
        return pd.Series(pd.array(values.take(pa.array(v.codes)), dtype="str"))
    return pd.Series(np.asarray(v, dtype=object), dtype="str")


def _free_categorical(v: object, n: int) -> pd.Categorical:
    """Free text with few distinct values (a portfolio's client ids) as a categorical."""
    if isinstance(v, _Column):
        texts = np.array([str(x) for x in v.values.tolist()], dtype=object)
        codes_u, categories = pd.factorize(texts)
        return pd.Categorical.from_codes(codes_u[v.codes] if n else np.zeros(0, dtype=np.int64), categories=categories)
    return pd.Categorical(np.asarray(v, dtype=object))


def _categorical(v: object, categories: tuple[str, ...], n: int) -> pd.Categorical:
    """Category codes straight from the distinct values (no million-string rebuild)."""
    if isinstance(v, _Column):
        index = {c: i for i, c in enumerate(categories)}
        codes_u = np.array([index.get(x, -1) for x in v.values.tolist()], dtype=np.int64)
        return pd.Categorical.from_codes(codes_u[v.codes] if n else np.zeros(0, dtype=np.int64), categories=list(categories))
    return pd.Categorical(np.asarray(v, dtype=object), categories=list(categories))


def _special_authority_without_mapping(frame: pd.DataFrame, policy: Policy | None) -> np.ndarray:
    """§9: special authority in a class D/E industry has no rate; reject instead of guessing."""
    mapped = tuple(policy.class_e_mapping.special_authority) if policy else ("A", "B1", "B2", "C1", "C2")
    return ((frame["special"] == "special_authority") & ~frame["industry_class"].isin(mapped)).to_numpy(dtype=bool)
