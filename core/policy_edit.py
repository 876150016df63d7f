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
from typing import Any

import tomlkit

from .policy import Policy, PolicyError, parse_policy

NAME = re.compile(r"^[A-Za-z0-9_-]{1,60}$")


def shift_day(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later (Feb 29 becomes Feb 28: the same quarter)."""
    return day.replace(year=day.year + years, day=28 if (day.month, day.day) == (2, 29) else day.day)


def _walk_dates(node: Any, years: int) -> None:
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


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def steps(dotted: str) -> list[str | int]:
    """``deposit.deduction.new[0].min_completion`` -> ["deposit", "deduction", "new", 0, "min_completion"]."""
    return [int(index) if index else name for name, index in _STEP.findall(dotted)]


def set_value(text: str, dotted: str, value: object) -> str:
    """One value changed (``deposit.rate``, ``thresholds.regular.other``, ``rates.local.A[1]``)."""
    return set_values(text, {dotted: value})


def set_values(text: str, values: dict[str, object]) -> str:
    """Several values changed in one parse; money and rates given as Decimal are written as
    decimal strings so they are read exactly. An unknown key raises PolicyError naming it.
    Values the contract already holds leave the text as it is, and when all do it is not
    parsed for editing at all. Why: the Contract terms page writes every widget's value on
    every rerun, and a tomlkit parse and dump of a contract is ~14 ms against ~1.4 ms to read
    it with tomllib — most of that page's rerun."""
    values = _differing(text, values)
    if not values:
        return text
    doc = tomlkit.parse(text)
    for dotted, value in values.items():
        try:
            node, leaf = _holder(doc, dotted)
        except (KeyError, IndexError, TypeError):
            raise PolicyError(f"{dotted}: not a key of this contract") from None
        node[leaf] = _as_written(value)
    return tomlkit.dumps(doc)


def _holder(root: Any, dotted: str) -> tuple[Any, str | int]:
    """The table or array that holds ``dotted``'s value (in a tomlkit or a tomllib document),
    and its key there. KeyError, IndexError or TypeError when the contract has no such key:
    editing never adds keys or list items."""
    *path, leaf = steps(dotted)
    node = root
    for part in path:
        node = node[part]
    node[leaf]  # noqa: B018 — the key must exist
    return node, leaf


def _as_written(value: object) -> object:
    """A value as set_values writes it: Decimal money and rates as exact decimal strings."""
    return str(value) if isinstance(value, Decimal) else value


def _differing(text: str, values: dict[str, object]) -> dict[str, object]:
    """The values the contract does not already hold, as set_values would write them (an
    unknown key or unreadable text counts as differing: the editing path then says why)."""
    try:
        data: Any = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return values
    out: dict[str, object] = {}
    for dotted, value in values.items():
        try:
            node, leaf = _holder(data, dotted)
        except (KeyError, IndexError, TypeError):
            out[dotted] = value
            continue
        held, written = node[leaf], _as_written(value)
        if type(held) is not type(written) or held != written:
            out[dotted] = value
    return out


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


# Every other number: the generic editor of the Contract terms page ------------------------
_NOT_NUMBERS = ("name", "title", "title_zh", "readings")


@dataclass(frozen=True)
class Number:
    """One editable leaf of a contract: a number, a date, or a short code (a class, a model)."""

    key: str  # dotted, [i] for list items: deposit.deduction.new[0].min_completion
    value: str  # as shown and typed: 0.027, 90, 2024-06-30, E1
    kind: str  # int | decimal | date | code


def _kind(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "decimal"
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return "date"
    if isinstance(value, str):
        try:
            Decimal(value)
            return "decimal"
        except InvalidOperation:
            return "code" if len(value) <= 40 else None
    return None


def _leaves(data: object, prefix: str) -> list[Number]:
    if isinstance(data, dict):
        return [n for k, v in data.items() for n in _leaves(v, f"{prefix}.{k}" if prefix else str(k))]
    if isinstance(data, list):
        if data and all(isinstance(x, dict) for x in data):
            return [n for i, x in enumerate(data) for n in _leaves(x, f"{prefix}[{i}]")]
        if data and all(_kind(x) in ("int", "decimal") for x in data):  # LOCAL's "x% + 2.00%", reduced quarters
            return [n for i, x in enumerate(data) for n in _leaves(x, f"{prefix}[{i}]")]
        return []  # lists of names (networks, platforms) are not numbers
    kind = _kind(data)
    if kind is None:
        return []
    return [Number(prefix, data.isoformat() if isinstance(data, dt.date) else str(data), kind)]


def numbers(text: str) -> list[Number]:
    """Every number, date and code of a contract in file order (not its name, titles or readings)."""
    data = tomllib.loads(text)
    return [n for k, v in data.items() if k not in _NOT_NUMBERS for n in _leaves(v, k)]


def typed(number: Number, typed_text: str) -> object:
    """A user's text as the value the contract file holds at that key (PolicyError naming it)."""
    raw = str(typed_text).strip()
    if number.kind == "date":
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise PolicyError(f"{number.key}: '{raw}' is not a date (use 2026-06-30)") from None
    if number.kind == "int":
        value = Decimal(decimal_text(raw, number.key))
        if value != value.to_integral_value():
            raise PolicyError(f"{number.key}: '{raw}' must be a whole number")
        return int(value)
    if number.kind == "decimal":
        try:
            return decimal_text(raw, number.key)
        except PolicyError:
            if raw.isidentifier():  # a word where the model allows one ("shortfall")
                return raw
            raise
    if not raw or len(raw) > 40:
        raise PolicyError(f"{number.key}: '{raw}' is not a code")
    return raw


def with_numbers(text: str, typed_texts: dict[str, str]) -> str:
    """The contract with the numbers the user changed (compared as values: 0.30 and 0.3 are
    the same number and leave the text, with its clause comments, alone)."""
    known = {n.key: n for n in numbers(text)}
    updates: dict[str, object] = {}
    for key, raw in typed_texts.items():
        if key not in known:
            raise PolicyError(f"{key}: not a number of this contract")
        number = known[key]
        value = typed(number, raw)
        if _same(number, value):
            continue
        updates[key] = value
    return set_values(text, updates) if updates else text


def _same(number: Number, value: object) -> bool:
    if number.kind == "decimal" and isinstance(value, str):
        try:
            return Decimal(number.value) == Decimal(value)
        except InvalidOperation:
            return number.value == value
    if isinstance(value, dt.date):
        return number.value == value.isoformat()
    return number.value == str(value)
