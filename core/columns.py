"""Header mapping: a spend export's own column names (中文 or English) -> canonical fields.

Why a table in data/aliases.toml: Ocean Engine reports, fund statements and agencies'
own sheets name the same thing a dozen ways; adding a header is a data change. Headers
the table does not know go to a mapping step, and the user's choice is remembered by
the header layout's fingerprint.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

ALIASES = Path(__file__).resolve().parents[1] / "data" / "aliases.toml"
IGNORE = ""  # mapping target meaning "not used"
_UNIT = re.compile(r"[\(（\[【][^\)）\]】]*[\)）\]】]")
# Money units a header may state in brackets, as a factor to RMB: 消耗(万元), stat_cost (k RMB),
# 消耗(分), cost(千分之一分). A unit the table does not know leaves the header unit-less.
_MONEY_UNITS: dict[str, Fraction] = {
    "元": Fraction(1), "rmb": Fraction(1), "cny": Fraction(1), "¥": Fraction(1), "￥": Fraction(1), "yuan": Fraction(1),
    "人民币": Fraction(1), "人民币元": Fraction(1),
    "万元": Fraction(10_000), "万": Fraction(10_000), "w": Fraction(10_000), "万rmb": Fraction(10_000),
    "千元": Fraction(1_000), "千": Fraction(1_000), "k": Fraction(1_000), "krmb": Fraction(1_000), "kcny": Fraction(1_000),
    "thousandrmb": Fraction(1_000), "千rmb": Fraction(1_000),
    "百万": Fraction(1_000_000), "百万元": Fraction(1_000_000), "m": Fraction(1_000_000), "mrmb": Fraction(1_000_000),
    "亿": Fraction(100_000_000), "亿元": Fraction(100_000_000),
    "分": Fraction(1, 100), "fen": Fraction(1, 100), "厘": Fraction(1, 1_000), "li": Fraction(1, 1_000),
    "千分之一分": Fraction(1, 100_000), "1/1000分": Fraction(1, 100_000), "0.001分": Fraction(1, 100_000),
    "毫分": Fraction(1, 100_000), "millifen": Fraction(1, 100_000),
}


def header_unit(header: object) -> Fraction | None:
    """The RMB factor a header's bracket states ('消耗(万元)' -> 10000), None if it states none."""
    for found in _UNIT.finditer(str(header)):
        key = re.sub(r"[\s\(（\[【\)）\]】]", "", found.group(0)).lower()
        if key in _MONEY_UNITS:
            return _MONEY_UNITS[key]
    return None


def normalise_header(header: object) -> str:
    """'消耗(元)', ' Stat_Cost ', '账户 ID' -> '消耗', 'stat_cost', '账户id'."""
    text = _UNIT.sub("", str(header)).strip().lower()
    text = re.sub(r"^(dimensions|metrics)\.", "", text)  # report/custom/get (v3) names its fields so
    return re.sub(r"\s+", "", text)


@lru_cache(maxsize=1)
def aliases() -> dict[str, Any]:
    return tomllib.loads(ALIASES.read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def _column_lookup(section: str = "columns") -> dict[str, tuple[str, str]]:
    """normalised alias -> ("field", name), ("funding", source) or ("cash_part", name)."""
    return {alias: hit for alias, (hit, _) in _ranked_lookup(section).items()}


@lru_cache(maxsize=4)
def _ranked_lookup(section: str = "columns") -> dict[str, tuple[tuple[str, str], int]]:
    """As _column_lookup, with each alias's rank in its list: when two columns feed one field
    ('账户' the name and '账户id' the id), the earlier alias in data/aliases.toml wins."""
    table: dict[str, tuple[tuple[str, str], int]] = {}
    groups = [("field", aliases()[section])]
    if section == "columns":
        groups += [("funding", aliases()["funding_columns"]), ("cash_part", aliases().get("cash_part_columns", {}))]
    for kind, entries in groups:
        for name, names in entries.items():
            for rank, a in enumerate(names):
                table.setdefault(normalise_header(a), ((kind, name), rank))
    return table


def value_aliases() -> dict[str, dict[str, str]]:
    return aliases().get("values", {})


@dataclass(frozen=True)
class HeaderMapping:
    """Which source column feeds which canonical field (or funding split)."""

    fields: dict[str, str] = field(default_factory=dict)  # canonical field -> source column
    funding_columns: dict[str, str] = field(default_factory=dict)  # funding -> source column
    unmapped: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()  # source columns ignored because a field was already fed
    cash_parts: tuple[str, ...] = ()  # 预付消耗, 授信消耗: cash = their sum when no cash column exists
    units: dict[str, Fraction] = field(default_factory=dict)  # source column -> RMB factor its header states


def map_headers(headers: list[str], remembered: dict[str, str] | None = None, section: str = "columns") -> HeaderMapping:
    """Map headers by the alias table; ``remembered`` (source -> field or '') wins."""
    lookup = _ranked_lookup(section)
    chosen = remembered or {}
    fields: dict[str, str] = {}
    funding: dict[str, str] = {}
    rank: dict[tuple[str, str], int] = {}
    unmapped: list[str] = []
    dupes: list[str] = []
    parts: list[str] = []
    for col in headers:
        if col in chosen:
            target = chosen[col]
            if not target:
                continue
            kind = "funding" if target.startswith("funding:") else "cash_part" if target == "cash_part" else "field"
            hit, col_rank = (kind, target.removeprefix("funding:")), -1
        elif normalise_header(col) in lookup:
            hit, col_rank = lookup[normalise_header(col)]
        else:
            unmapped.append(col)
            continue
        kind, name = hit
        if kind == "cash_part":
            parts.append(col)
            continue
        bucket = fields if kind == "field" else funding
        if name not in bucket:
            bucket[name], rank[hit] = col, col_rank
        elif col_rank < rank[hit]:  # a more specific header for the same field: it wins
            dupes.append(bucket[name])
            bucket[name], rank[hit] = col, col_rank
        else:
            dupes.append(col)
    used = [*fields.values(), *funding.values(), *parts]
    units = {c: u for c in used if (u := header_unit(c)) is not None}
    return HeaderMapping(fields, funding, tuple(unmapped), tuple(dupes), tuple(parts), units)


def layout_key(headers: list[str]) -> str:
    """Fingerprint of a header layout, so a mapping is remembered for the same export."""
    joined = "\x1f".join(normalise_header(h) for h in headers)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


def header_score(cells: Sequence[object], section: str = "columns") -> int:
    """How many cells of a row look like known headers (to find the header row)."""
    lookup = _column_lookup(section)
    return sum(1 for c in cells if normalise_header(c) in lookup)
