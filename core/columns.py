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
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ALIASES = Path(__file__).resolve().parents[1] / "data" / "aliases.toml"
IGNORE = ""  # mapping target meaning "not used"
_UNIT = re.compile(r"[\(（\[【][^\)）\]】]*[\)）\]】]")


def normalise_header(header: object) -> str:
    """'消耗(元)', ' Stat_Cost ', '账户 ID' -> '消耗', 'stat_cost', '账户id'."""
    text = _UNIT.sub("", str(header)).strip().lower()
    return re.sub(r"\s+", "", text)


@lru_cache(maxsize=1)
def aliases() -> dict:
    return tomllib.loads(ALIASES.read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def _column_lookup(section: str = "columns") -> dict[str, tuple[str, str]]:
    """normalised alias -> ("field", name) or ("funding", source), for one alias section."""
    table: dict[str, tuple[str, str]] = {}
    for name, names in aliases()[section].items():
        for a in names:
            table[normalise_header(a)] = ("field", name)
    if section == "columns":
        for funding, names in aliases()["funding_columns"].items():
            for a in names:
                table[normalise_header(a)] = ("funding", funding)
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

    def known_count(self) -> int:
        return len(self.fields) + len(self.funding_columns)


def map_headers(headers: list[str], remembered: dict[str, str] | None = None, section: str = "columns") -> HeaderMapping:
    """Map headers by the alias table; ``remembered`` (source -> field or '') wins."""
    lookup = _column_lookup(section)
    chosen = remembered or {}
    fields: dict[str, str] = {}
    funding: dict[str, str] = {}
    unmapped: list[str] = []
    dupes: list[str] = []
    for col in headers:
        if col in chosen:
            target = chosen[col]
            hit = ("funding", target.removeprefix("funding:")) if target.startswith("funding:") else ("field", target)
            if not target:
                continue
        else:
            hit = lookup.get(normalise_header(col))
        if hit is None:
            unmapped.append(col)
            continue
        kind, name = hit
        bucket = fields if kind == "field" else funding
        if name in bucket:
            dupes.append(col)
        else:
            bucket[name] = col
    return HeaderMapping(fields, funding, tuple(unmapped), tuple(dupes))


def layout_key(headers: list[str]) -> str:
    """Fingerprint of a header layout, so a mapping is remembered for the same export."""
    joined = "\x1f".join(normalise_header(h) for h in headers)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


def header_score(cells: list[object], section: str = "columns") -> int:
    """How many cells of a row look like known headers (to find the header row)."""
    lookup = _column_lookup(section)
    return sum(1 for c in cells if normalise_header(c) in lookup)
