"""Labels in 中文 and English from one catalogue file, and number formats per language.

Why a catalogue: every label lives in data/i18n.toml with both languages side by side;
a test fails when a key used in the code is missing in either language.
"""
from __future__ import annotations

import tomllib
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[1] / "data" / "i18n.toml"
LANGUAGES = ("zh", "en")


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    return tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))


def t(key: str, lang: str, **values: object) -> str:
    """The label for key in lang; a missing key raises so tests catch it."""
    text = catalogue()[key][lang]
    return text.format(**values) if values else text


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


def localise(problem, lang: str) -> str:
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
