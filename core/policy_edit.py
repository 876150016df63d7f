"""Editing a contract's terms as data: start from a policy's TOML, change numbers and dates,
validate with the policy model, see what changed.

Why on the TOML text (tomlkit): the shipped file carries the clause reference of every
number in its comments; an edited copy keeps them, so a saved 2026 contract still says
which clause each value comes from. Nothing here writes anywhere — saving is the store's job.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import tomlkit

from .policy import Policy, PolicyError, parse_policy

NAME = re.compile(r"^[A-Za-z0-9_-]{1,60}$")


def shift_day(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later (Feb 29 becomes Feb 28: the same quarter)."""
    return day.replace(year=day.year + years, day=28 if (day.month, day.day) == (2, 29) else day.day)


def _walk_dates(node, years: int) -> None:
    """Move every date value of a tomlkit container, in place."""
    items = node.items() if hasattr(node, "items") else enumerate(node)
    for key, value in list(items):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            node[key] = shift_day(value, years)
        elif isinstance(value, (dict, list)) or hasattr(value, "items"):
            _walk_dates(value, years)


def with_year(text: str, year: int) -> str:
    """The contract moved to policy year ``year``: every date (630, 930, deposit due, year
    start and end, final return deadline) by the same number of years, and the year in its
    name and titles."""
    doc = tomlkit.parse(text)
    old = tomllib.loads(text)["year_start"].year
    _walk_dates(doc, year - old)
    for key in ("name", "title", "title_zh"):
        if key in doc:
            doc[key] = str(doc[key]).replace(str(old), str(year))
    return tomlkit.dumps(doc)


def set_value(text: str, dotted: str, value: object) -> str:
    """One value changed (``deposit.rate``, ``thresholds.regular.other``); money and rates
    are written as decimal strings so they are read exactly."""
    doc = tomlkit.parse(text)
    *path, leaf = dotted.split(".")
    node = doc
    for part in path:
        node = node[part]
    node[leaf] = str(value) if isinstance(value, Decimal) else value
    return tomlkit.dumps(doc)


def decimal_text(value: object, field: str) -> str:
    """A user's number as exact decimal text; PolicyError naming the field otherwise."""
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise PolicyError(f"{field}: '{value}' is not a number") from None
    if not number.is_finite() or number < 0:
        raise PolicyError(f"{field}: '{value}' must be a number of zero or more")
    return format(number.normalize(), "f")


def _flat(data: object, prefix: str = "") -> dict[str, object]:
    if isinstance(data, dict):
        out: dict[str, object] = {}
        for k, v in data.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        out = {}
        for i, item in enumerate(data):
            out.update(_flat(item, f"{prefix}[{i}]"))
        return out
    return {prefix: data}


@dataclass(frozen=True)
class Change:
    key: str
    base: object
    edited: object


def changes(base_text: str, edited_text: str) -> list[Change]:
    """Every value that differs between two contracts, by dotted key (readings' texts included)."""
    a, b = _flat(tomllib.loads(base_text)), _flat(tomllib.loads(edited_text))
    return [Change(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def validated(text: str, name: str) -> Policy:
    """The edited contract through the policy model (every rule and cross-check of a shipped
    one); PolicyError naming the key otherwise. The name must be a plain identifier."""
    if not NAME.match(name):
        raise PolicyError(f"name: '{name}' may use letters, digits, '_' and '-' only (up to 60)")
    return parse_policy(set_value(text, "name", name), source=name)
