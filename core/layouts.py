"""What a spend export's layout means: summary rows, fund statements, units and funding parts.

Why a module of its own: every rule here exists because a real export was once read with
no error and the wrong spend — a 当日合计 row counted as an account (spend doubled), a
Qianchuan 财务流水 whose cash column 非赠款消耗 was dropped once 赠款消耗 was recognised,
recharges (充值) counted as spend, `消耗(万元)` read as RMB, the API's 1/1000 fen read as
RMB. Each rule either reads the file right or refuses it with the reason; what it decides
is a warning the user sees.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from .columns import HeaderMapping, normalise_header
from .parsing import as_text, is_missing, parse_amount_fen, parse_enum
from .problems import InputError, Problem, file_problem
from .spend import SPEND_FIELDS
from .validate import decimal_comma

SUMMARY = re.compile(r"^\s*(?:当日|本日|本页|本月|全部|总)?(?:合计|总计|小计|汇总|总和)|^\s*(?:grand\s*)?(?:sub)?totals?\b|^\s*sum\s*$",
                     re.IGNORECASE)
FUND_STATEMENT_HEADERS = frozenset({"交易类型", "transaction_type", "流水类型", "收支类型", "资金流水类型", "交易类别"})
FUND_MOVES = frozenset({"充值", "转账", "转入", "转出", "退款", "提现", "recharge", "transfer", "transfer_in", "transfer_out",
                        "refund", "withdraw"})
# Values that say a column means something else (the device OS of a v3 report's `platform`):
# only then is a coded column set aside; an unknown value of the field itself stays an error.
OTHER_MEANINGS = frozenset({"android", "ios", "ipad", "iphone", "pc", "wap", "h5", "harmonyos", "harmony", "mac", "windows",
                            "unknown", "others", "安卓", "苹果", "鸿蒙"})
API_TOTALS = frozenset({"cost", "stat_cost", "total_cost"})  # the API's totals include grants
MAX_ROW_WARNINGS = 20


@dataclass(frozen=True)
class Amounts:
    """Per funding, the exact amount text of every row ('' where that funding is absent)."""

    by_funding: dict[str, pd.Series]  # funding ('' = the file's own funding column or cash) -> text
    problems: list[Problem]


def summary_rows(cells: pd.DataFrame, skip: set[str], name: str, row_numbers: np.ndarray,
                 mapped: tuple[str, ...] = ()) -> tuple[np.ndarray, list[Problem]]:
    """Rows that are totals (合计/总计/小计/当日合计/Total/Subtotal in a label cell — any mapped
    text column or one of the leading columns): dropped, each named in a warning. ``skip``
    are the amount columns (numbers, never labels)."""
    hit = np.zeros(len(cells), dtype=bool)
    for col in dict.fromkeys([*(c for c in mapped if c not in skip), *_label_columns(cells, skip)]):
        hit |= _matches(cells[col], SUMMARY)
    out = [Problem("warning", "summary row (合计/小计/Total) left out: it repeats the rows above", int(r), None, None, name, "summary_row")
           for r in row_numbers[hit][:MAX_ROW_WARNINGS]]
    if hit.sum() > MAX_ROW_WARNINGS:
        out.append(Problem("warning", f"{int(hit.sum()) - MAX_ROW_WARNINGS} more summary rows left out", None, None, None, name,
                           "summary_more", (("n", str(int(hit.sum()) - MAX_ROW_WARNINGS)),)))
    return hit, out


LABEL_COLUMNS = 12  # a 合计 label sits in the leading columns; a 20,000-column file is not scanned whole


def _label_columns(cells: pd.DataFrame, skip: set[str]) -> list[str]:
    return [c for c in list(cells.columns)[:LABEL_COLUMNS] if c not in skip]


def _matches(col: pd.Series, pattern: re.Pattern[str]) -> np.ndarray:
    """Regex match per cell, on the categories only when the column is dictionary-encoded."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = pd.Series(col.cat.categories.astype(str)).str.match(pattern).to_numpy(dtype=bool)
        if not cats.any():  # the usual column: no label at all, so no pass over the rows
            return np.zeros(len(col), dtype=bool)
        codes = col.cat.codes.to_numpy()
        return np.where(codes >= 0, cats[np.maximum(codes, 0)], False)
    if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype):
        return np.zeros(len(col), dtype=bool)
    codes, uniques = pd.factorize(col, use_na_sentinel=False)  # each distinct cell matched once (a regex per
    hits = as_text(pd.Series(uniques)).str.match(pattern).fillna(False).to_numpy(dtype=bool)  # cell: 0.3 s a 9,418-row import)
    return hits[codes]


def refuse_fund_statement(cells: pd.DataFrame, headers: list[str], name: str) -> None:
    """A fund statement (交易类型 充值/转账/转入/转出/退款) records money moving, not spend."""
    for col in headers:
        if normalise_header(col) not in FUND_STATEMENT_HEADERS:
            continue
        kinds = set(as_text(cells[col]).str.lower().unique())
        moves = sorted(kinds & FUND_MOVES)
        if moves:
            raise file_problem(
                name, "fund_statement",
                f"this is a fund statement ({col}: {', '.join(moves)}): it records money moving into and out of accounts, "
                "not spend — export the spend report (消耗报表 / 账户日报 / 财务流水的消耗明细) instead",
                column=col, kinds=", ".join(moves),
            )


def scaled_text(col: pd.Series, unit: Fraction) -> pd.Series:
    """Amount cells with the header's unit applied exactly, as text: every unit is a power
    of ten, so '1.012345' in 消耗(万元) becomes '1.012345e4' — the amount parser shifts the
    decimal point (no rounding before the scale) and rounds a fraction of a fen once."""
    text = as_text(col)
    if unit == 1:
        return text
    exponent = _power_of_ten(unit)
    plain = text.str.match(r"^[^eE万萬亿億kK]*\d[^eE万萬亿億kK]*$").fillna(False)
    return text.where(~plain, text + f"e{exponent}")


def _power_of_ten(unit: Fraction) -> int:
    exponent, value = 0, unit
    while value >= 10:
        value, exponent = value / 10, exponent + 1
    while value < 1:
        value, exponent = value * 10, exponent - 1
    if value != 1:
        raise ValueError(f"unit {unit} is not a power of ten")
    return exponent


def _fen(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Amount text -> (integer fen, ok). A cell the validator would refuse (negative, a
    decimal comma) is not ok: it keeps its text, and the validator names it."""
    parsed = parse_amount_fen(text)
    return parsed.fen, parsed.ok & ~parsed.negative & ~decimal_comma(text)


def _fen_text(fen: np.ndarray, ok: np.ndarray, original: pd.Series) -> pd.Series:
    """Integer fen as exact RMB text; cells that did not parse keep their text (the validator
    names them). A negative derived cash stays negative so the validator refuses the row."""
    sign = np.where(fen < 0, "-", "")
    mag = np.abs(fen)
    text = pd.Series(sign, dtype=object) + pd.Series(mag // 100).astype(str).to_numpy() + "." + \
        pd.Series(mag % 100).astype(str).str.zfill(2).to_numpy()
    out = pd.Series(text.to_numpy(), index=original.index, dtype=object)
    return out.where(pd.Series(ok, index=original.index), original.astype(object))


def amounts(cells: pd.DataFrame, mapping: HeaderMapping, name: str, row_numbers: np.ndarray) -> Amounts:
    """The file's amounts per funding, as exact RMB text, with units applied and the funding
    parts reconciled with the total. Refuses a file whose cash cannot be known."""
    total_col = mapping.fields.get("amount")
    parts = dict(mapping.funding_columns)
    problems: list[Problem] = []
    money = [*parts.values(), *mapping.cash_parts, *([total_col] if total_col else [])]
    if not parts and not mapping.cash_parts:  # one amount column: its text as is unless a unit applies
        return Amounts({"": _total_text(cells, total_col, mapping, name, problems)}, problems)
    text = {c: scaled_text(cells[c], mapping.units.get(c, Fraction(1))) for c in money}
    fen = {c: _fen(t) for c, t in text.items()}
    cash, cash_ok, cash_source = _cash(fen, parts, mapping.cash_parts, total_col, name)
    if cash_source == "derived":
        problems.append(Problem("warning", f"no cash column: cash = {total_col} − grant − return, row by row", None, "amount",
                                None, name, "cash_derived", (("total", str(total_col)),)))
    if total_col is not None and cash_source != "derived":
        problems += _reconcile(fen, parts, cash, cash_ok, total_col, name, row_numbers)
    out: dict[str, pd.Series] = {}
    cash_source_col = parts.get("cash") or next(iter(mapping.cash_parts), total_col)  # whose text names a bad cell
    if cash_source_col is None:  # the caller maps a cash, part or total column before it gets here
        raise ValueError("no column holds the cash amount")
    out["cash"] = _fen_text(cash, cash_ok, text[cash_source_col])
    for funding in ("grant", "return"):
        if funding in parts:
            out[funding] = _fen_text(*fen[parts[funding]], text[parts[funding]])
    return Amounts(out, problems)


def _cash(scaled: dict[str, tuple[np.ndarray, np.ndarray]], parts: dict[str, str], cash_parts: tuple[str, ...], total_col: str | None,
          name: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Cash per row: the cash column; else the sum of its parts (预付 + 授信); else the total
    minus grant and return. None of these: the file cannot say what was cash — refused."""
    if "cash" in parts:
        v, ok = scaled[parts["cash"]]
        return v, ok, "column"
    if cash_parts:
        v = np.sum([scaled[c][0] for c in cash_parts], axis=0)
        ok = np.logical_and.reduce([scaled[c][1] for c in cash_parts])
        return v, ok, "parts"
    if total_col is not None:
        v, ok = scaled[total_col]
        for funding in ("grant", "return"):
            if funding in parts:
                pv, pok = scaled[parts[funding]]
                v, ok = v - pv, ok & pok
        return v, ok, "derived"
    listed = ", ".join(parts.values())
    raise file_problem(name, "no_cash",
                       f"the file has {listed} but no cash (非赠款消耗 / cash_cost) and no total column, so cash spend cannot be counted; "
                       "export the report with 非赠款消耗 or 总消耗", columns=listed)


def _reconcile(scaled: dict[str, tuple[np.ndarray, np.ndarray]], parts: dict[str, str], cash: np.ndarray, cash_ok: np.ndarray, total_col: str, name: str, row_numbers: np.ndarray) -> list[Problem]:
    """Parts must add up to the total, row by row; the parts are used, a mismatch is named."""
    total, total_ok = scaled[total_col]
    summed, ok = cash, cash_ok & total_ok
    for funding in ("grant", "return"):
        if funding in parts:
            pv, pok = scaled[parts[funding]]
            summed, ok = summed + pv, ok & pok
    off = ok & (summed != total)
    out = [Problem("warning", f"cash + grant + return ({_yuan(summed[i])}) ≠ {total_col} ({_yuan(total[i])}); the parts are counted",
                   int(row_numbers[i]), total_col, None, name, "parts_mismatch",
                   (("parts", _yuan(summed[i])), ("total", _yuan(total[i])), ("column", total_col)))
           for i in np.flatnonzero(off)[:MAX_ROW_WARNINGS]]
    if off.sum() > MAX_ROW_WARNINGS:
        out.append(Problem("warning", f"{int(off.sum()) - MAX_ROW_WARNINGS} more rows whose parts do not add up to {total_col}", None,
                           total_col, None, name, "parts_mismatch_more", (("n", str(int(off.sum()) - MAX_ROW_WARNINGS)),)))
    return out


def _yuan(fen: int | np.integer) -> str:
    return f"{Decimal(int(fen)) / 100:,.2f}"


def _total_text(cells: pd.DataFrame, col: str | None, mapping: HeaderMapping, name: str, problems: list[Problem]) -> pd.Series:
    """The one amount column, unit applied; the API's 1/1000-fen convention is asked about,
    and an API total that includes grants is accepted with a warning."""
    if col is None:
        return pd.Series([""] * len(cells), index=cells.index, dtype=object)
    if normalise_header(col) in API_TOTALS:
        if col not in mapping.units:  # a stated unit answers the question
            _refuse_millifen(cells[col], col, name)
        problems.append(Problem("warning", f"'{col}' is the API's total spend, grants included; counted as cash "
                                "(export 非赠款消耗 / cash_cost to count cash only)", None, col, None, name, "total_includes_grants",
                                (("column", col),)))
    return cells[col] if col not in mapping.units else scaled_text(cells[col], mapping.units[col])


def _refuse_millifen(col: pd.Series, header: str, name: str) -> None:
    """Every amount a whole multiple of 1000 (at least 5 non-zero): the API's 1/1000 fen read as RMB
    would be 100,000 × too big. Ask: the header's unit decides, never a guess."""
    parsed = parse_amount_fen(col)
    values = parsed.fen[parsed.ok & (parsed.fen > 0)]
    if len(values) >= 5 and bool(np.all(values % 100_000 == 0)):
        raise file_problem(
            name, "millifen",
            f"every amount in '{header}' is a whole multiple of 1,000 — the API's 1/1000-fen unit? Read as RMB it would be "
            f"100,000× too big. Rename the column to '{header}(千分之一分)' if so, or '{header}(元)' if these are RMB",
            column=header,
        )


_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\\s]")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d+)?[eE][+-]?\d+$")


def account_keys(col: pd.Series, header: str, name: str, row_numbers: np.ndarray) -> pd.Series:
    """Account ids as one key per account: full-width digits folded, apostrophes ('1790000001
    is Excel's text marker), spaces and invisible characters removed — so a re-upload finds
    the same account. Ids Excel turned into numbers are refused: 1.74803E+15 or any
    number of 16+ digits has lost its last digits, and two accounts would merge."""
    codes, uniques = _distinct(col)
    big_u = np.array([isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) >= 1e15 for v in uniques], dtype=bool)
    if big_u.any():
        big = big_u[codes] & (codes >= 0)
        _refuse_id(name, header, row_numbers, big, f"{col[big].iloc[0]:.0f}")
    keys_u = pd.Series(as_text(pd.Series(list(uniques), dtype=object)).map(_one_key), dtype=object)
    sci_u = keys_u.str.match(_SCIENTIFIC).fillna(False).to_numpy(dtype=bool)
    if sci_u.any():
        sci = sci_u[codes] & (codes >= 0)
        _refuse_id(name, header, row_numbers, sci, str(col[sci].iloc[0]))
    key_codes, keys = pd.factorize(keys_u)  # '1790000001 and 1790000001 become one category
    new_codes = np.where(codes >= 0, key_codes[np.maximum(codes, 0)] if len(key_codes) else 0, -1)
    return pd.Series(pd.Categorical.from_codes(new_codes, categories=pd.Index(keys, dtype=object)), index=col.index)


def _distinct(col: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Codes and distinct values (a categorical's own categories, else a factorisation)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy(), list(col.cat.categories)
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    return codes, list(uniques)


def _one_key(value: str) -> str:
    folded = unicodedata.normalize("NFKC", value)
    return _INVISIBLE.sub("", folded).strip("'‘’`\"")


def _refuse_id(name: str, header: str, row_numbers: np.ndarray, mask: np.ndarray, shown: str) -> None:
    first = int(row_numbers[np.flatnonzero(mask)[0]])
    raise InputError(Problem(
        "error", f"account id {shown} was turned into a number by Excel and lost its last digits ({int(mask.sum())} rows); "
        "accounts would merge — format the id column as Text (or export CSV from the platform) and export again",
        first, header, shown, name, "id_as_number", (("n", str(int(mask.sum()))),)))


def foreign_enum_columns(cells: pd.DataFrame, mapping: HeaderMapping, aliases: dict[str, dict[str, str]],
                         name: str) -> tuple[set[str], list[Problem]]:
    """Columns mapped by their header to a coded field whose values all mean something else —
    a v3 report's `platform` holds ANDROID/IOS (the device OS), not the ad platform. Reading
    them would refuse every row; they are set aside, named, and the mapping step can map them.
    A value that is merely unknown (a typo) stays an error naming its row."""
    dropped: set[str] = set()
    problems: list[Problem] = []
    for field_name, col in mapping.fields.items():
        spec = SPEND_FIELDS.get(field_name)
        if spec is None or spec.kind != "enum":
            continue
        distinct = pd.Series(as_text(pd.Series(_distinct(cells[col])[1][:1000], dtype=object)).unique())
        distinct = distinct[~is_missing(distinct)]
        if distinct.empty:
            continue
        _, ok = parse_enum(distinct, spec.values, aliases.get(field_name))
        if not ok.any() and distinct.str.lower().isin(OTHER_MEANINGS).all():
            shown = ", ".join(distinct.astype(str).head(5))
            dropped.add(field_name)
            problems.append(Problem("warning", f"column '{col}' holds {shown} — none is a {field_name} value; the column is ignored "
                                    "(choose what it holds in the mapping step)", None, col, shown, name, "foreign_values",
                                    (("column", col), ("values", shown), ("field", field_name))))
    return dropped, problems


XINGTU_BILL = (frozenset({"任务金额", "服务费"}), frozenset({"任务金额", "订单号"}), frozenset({"任务金额", "订单id"}))


def xingtu_bill_platform(headers: list[str], mapping: HeaderMapping, name: str) -> tuple[dict[str, str], list[Problem]]:
    """A 星图 order bill (任务金额 / 服务费 / 总金额) with no platform column: its rows are 星图
    service tasks (xingtu_service), outside the target and the rebate base — never the
    ocean_ads default, which would put service fees into the base."""
    names = {normalise_header(h) for h in headers}
    if "platform" in mapping.fields or not any(need <= names for need in XINGTU_BILL):
        return {}, []
    return {"platform": "xingtu_service"}, [Problem(
        "warning", "a 星图 order bill: its rows are read as 星图 service tasks (xingtu_service), outside the target and the "
        "rebate base; map a platform column if some orders are 星广联投 (xingtu_xgl)", None, "platform", None, name, "xingtu_bill")]
