"""Validation of spend rows (rules §1): raw cells (JSON values or file text) -> typed
columns with row-numbered errors and warnings.

Why one module: the batch CLI, file uploads, the portfolio and the projections all feed
the engine the same table (core.spend defines the row), so one function decides what a
valid row is and every message names file, row and column.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .parsing import (
    as_text,
    is_missing,
    parse_amount_fen,
    parse_bools,
    parse_dates,
    parse_enum,
    plain_decimal_fen,
)
from .policy import Policy
from .problems import Problem
from .spend import SPEND_FIELDS, CodedColumn, Field, SpendParse, assemble

MAX_TEXT = 200  # an account id or company name is never longer; a longer cell is a wrong column or an attack


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
    raw, prefen = _stored_amounts(raw)
    raw, rows_no = _row_numbers(raw, row_numbers)
    fields = SPEND_FIELDS | {f.name: f for f in extra_fields}
    problems = [Problem("error", f"unknown field '{c}' (known: {', '.join(fields)})", None, str(c), None, source)
                for c in raw.columns if c not in fields]
    bad = np.zeros(n, dtype=bool)
    out: dict[str, object] = {}
    for name, spec in fields.items():
        if name in raw.columns:
            out[name], found, failed = _validate_column(raw[name], spec, (value_aliases or {}).get(name), rows_no, source)
        else:
            out[name], found, failed = _absent_column(spec, n, source)
        problems += found
        bad |= failed
    if prefen is not None:
        out["amount"] = prefen
    frame = assemble(out, rows_no, n, fields)
    if n:
        found, failed = _row_checks(frame, bad, rows_no, policy, source)
        problems += found
        bad |= failed
    rows = frame.loc[~bad].reset_index(drop=True) if bad.any() else frame  # no copy of a clean million rows
    return SpendParse(rows=rows, problems=tuple(problems), rows_read=n)


def _optional(spec: Field) -> bool:
    """A field that may be empty or absent (the customer defaults to the account id)."""
    return not spec.required or spec.name == "customer"


def _absent_column(spec: Field, n: int, source: str) -> tuple[np.ndarray, list[Problem], np.ndarray]:
    """A field the table does not have: its default, or — when required — every row bad."""
    if _optional(spec):
        return _default_column(spec, n), [], np.zeros(n, dtype=bool)
    problem = Problem("error", f"required field '{spec.name}' is missing", None, spec.name, None, source)
    return _default_column(spec, n), [problem], np.ones(n, dtype=bool)


def _stored_amounts(raw: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Stored rows carry exact fen already: they are taken as they are, not parsed again."""
    if "amount_fen" in raw.columns and "amount" not in raw.columns:
        return raw.drop(columns=["amount_fen"]).assign(amount="0"), raw["amount_fen"].to_numpy(dtype=np.int64)
    return raw, None


def _row_numbers(raw: pd.DataFrame, row_numbers: np.ndarray | None) -> tuple[pd.DataFrame, np.ndarray]:
    """The row numbers messages name: the file's (given or stored in source_row), else 1..n."""
    if row_numbers is None and "source_row" in raw.columns:
        return raw.drop(columns=["source_row"]), raw["source_row"].to_numpy()
    return raw, np.arange(1, len(raw) + 1) if row_numbers is None else np.asarray(row_numbers)


def _validate_column(col: pd.Series, spec: Field, aliases: dict[str, str] | None, rows_no: np.ndarray,
                     source: str) -> tuple[CodedColumn, list[Problem], np.ndarray]:
    """One column: parsed values, its problems and the rows it makes bad. Each distinct
    cell is parsed once: an export repeats a handful of platforms, classes and 366 dates
    over a million rows, so the parsers see thousands of cells, not millions."""
    name = spec.name
    codes, uniques = _factorize(col, spec)
    shown = _shown_cells(uniques, codes)
    values_u, ok_u, extra, missing_u = parse_column(spec, uniques, aliases)
    optional = _optional(spec)
    checks: list[tuple[np.ndarray, str, str, str, tuple[tuple[str, str], ...]]] = \
        [] if optional else [(missing_u, f"'{name}' is empty", "error", "empty", (("field", name),))]
    checks.append((~ok_u & ~missing_u, _failure_message(spec), "error", f"bad_{spec.kind}",
                   (("field", name), ("values", ", ".join(spec.values)))))
    checks += [(mask_u, msg, sev, code, ()) for mask_u, msg, sev, code in extra]
    problems: list[Problem] = []
    bad = np.zeros(len(codes), dtype=bool)
    for mask_u, msg, sev, code, params in checks:
        if not mask_u.any():
            continue
        mask = mask_u[codes]
        problems += _problems_for(mask, name, shown, rows_no, msg, source, sev, code, params)
        if sev == "error":
            bad |= mask
    if optional:
        fill: Any = spec.default if spec.default is not None else values_u
        values_u = np.where(missing_u, fill, values_u)
    return CodedColumn(codes, np.asarray(values_u)), problems, bad


def _row_checks(frame: pd.DataFrame, bad: np.ndarray, rows_no: np.ndarray, policy: Policy | None,
                source: str) -> tuple[list[Problem], np.ndarray]:
    """Checks across columns of the typed rows: special authority without a class mapping
    (an error) and dates outside the policy year (warnings)."""
    unmapped_special = _special_authority_without_mapping(frame, policy)
    problems = _problems_for(
        unmapped_special, "special", lambda i: str(frame["industry_class"].iat[i]), rows_no,
        "special promotion authority in a class D or E industry is not covered by III.1(2)3); "
        "give the underlying class A, B1, B2, C1 or C2", source, code="special_authority",
    )
    if policy is not None:
        problems += _outside_year(frame, bad | unmapped_special, rows_no, policy, source)
    return problems, unmapped_special


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






def _special_authority_without_mapping(frame: pd.DataFrame, policy: Policy | None) -> np.ndarray:
    """§9: special authority in a class D/E industry has no rate; reject instead of guessing."""
    mapped = tuple(policy.class_e_mapping.special_authority) if policy else ("A", "B1", "B2", "C1", "C2")
    return ((frame["special"] == "special_authority") & ~frame["industry_class"].isin(mapped)).to_numpy(dtype=bool)
