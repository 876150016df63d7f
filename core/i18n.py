"""Labels in 中文 and English from one catalogue file, and number formats per language.

Why a catalogue: every label lives in data/i18n.toml with both languages side by side;
a test fails when a key used in the code is missing in either language.
"""
from __future__ import annotations

import tomllib
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .problems import Problem

CATALOGUE = Path(__file__).resolve().parents[1] / "data" / "i18n.toml"
LANGUAGES = ("zh", "en")


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    return tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))


def t(key: str, lang: str, **values: object) -> str:
    """The label for key in lang; a missing key raises so tests catch it."""
    text = catalogue()[key][lang]
    return text.format(**values) if values else text


# Columns whose values are category codes shown through enum.<column>.<value> labels.
ENUM_COLUMNS = ("platform", "network", "placement", "funding", "business_model", "ad_model", "special", "severity",
                "kind", "action", "entity", "customer_type", "bucket")


def has(key: str) -> bool:
    return key in catalogue()


def column_label(name: str, lang: str, money: bool = False) -> str:
    """A table header in the UI's language (col.<name>, else the Data page's data.col.<name>);
    the raw name when the catalogue has none (a user's own column)."""
    keys = ([f"col.{name}_amount"] if money else []) + [f"col.{name}", f"data.col.{name}"]
    return next((t(key, lang) for key in keys if has(key)), name)


def value_label(column: str, value: object, lang: str) -> str:
    """A category code in the UI's language (enum.<column>.<value>), else the value itself."""
    if column == "bucket" and isinstance(value, str) and value.count("/") == 2:
        platform, placement, network = value.split("/")
        return " · ".join((value_label("platform", platform, lang), value_label("placement", placement, lang),
                           t(f"enum.bucket_network.{network}", lang)))
    key = f"enum.{column}.{'' if value is None else value}"
    return t(key, lang) if has(key) else ("" if value is None else str(value))


def localise_frame(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A table as people read it: *_fen columns in RMB (exact, 2 decimals), category codes
    and headers in the UI's language. One function for every page table and export sheet."""
    from .money import fen_to_yuan

    out = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        values = frame[name]
        money = isinstance(name, str) and name.endswith("_fen")
        base = name[:-4] if money else name
        if money:
            values = values.map(lambda v: None if v is None or pd.isna(v) else fen_to_yuan(int(v)))
        elif base in ENUM_COLUMNS:
            values = values.map(lambda v, c=base: value_label(c, v, lang))
        out[column_label(str(base), lang, money)] = values
    return out


def _q(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fmt_money(fen: int | None, lang: str, compact: bool = True) -> str:
    """RMB for display: 万/亿 in Chinese, thousands separators in English."""
    if fen is None:
        return "—"
    yuan = Decimal(int(fen)) / 100
    if lang == "zh":
        if compact and abs(yuan) >= 100_000_000:
            return f"{_q(yuan / 100_000_000, 2):,}亿"
        if compact and abs(yuan) >= 10_000:
            return f"{_q(yuan / 10_000, 2):,}万"
        return f"{_q(yuan, 2):,}元"
    if compact and abs(yuan) >= 1_000_000:
        return f"¥{_q(yuan / 1_000_000, 2):,}M"
    return f"¥{_q(yuan, 2):,}"


def fmt_pct(rate: float | None, lang: str, places: int = 1) -> str:
    if rate is None:
        return "—"
    return f"{_q(Decimal(str(rate)) * 100, places)}%"


def localise(problem: Problem, lang: str) -> str:
    """A validation problem in the UI's language: the English one-liner, or the catalogue's
    text for its code with the same file, row, column and value."""
    key = f"problem.{problem.code}"
    if lang == "en" or not problem.code or key not in catalogue():
        return problem.one_line()
    where = [problem.source] if problem.source else []
    if problem.row is not None:
        where.append(t("problem.row", lang, row=problem.row))
    if problem.column:
        where.append(t("problem.column", lang, column=problem.column))
    text = t(key, lang, **dict(problem.params))
    value = t("problem.value", lang, value=problem.value) if problem.value not in (None, "") else ""
    return f"{'，'.join(where)}：{text}{value}" if where else f"{text}{value}"


def report_frame(problems: Iterable[Problem], lang: str) -> pd.DataFrame:
    """A validation report (file, row, column, value, message) as the user reads it — the
    table on the page, its CSV download and the workbook sheet are this one frame."""
    from .problems import problems_frame

    frame = problems_frame(list(problems))
    frame["message"] = [localise(p, lang) for p in problems]
    return localise_frame(frame, lang)
