"""Clause references as data: each rule function names the contract clauses it implements.

Why: the README's module ↔ clause table is generated from these marks (tests/test_repo.py
compares them), so the table cannot drift from the code, and a reader of a function sees
which clause to check it against.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from types import ModuleType
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])
ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}


def clause(*ids: str) -> Callable[[F], F]:
    """Mark a rule function with its clauses ("III.3", "IV.1(3)")."""
    def mark(fn: F) -> F:
        fn.clauses = ids  # type: ignore[attr-defined]
        return fn
    return mark


def _order(ref: str) -> tuple[int, list[object]]:
    article, _, rest = ref.partition(".")
    return ROMAN.get(article, 99), [int(x) if x.isdigit() else x for x in re.findall(r"\d+|\D+", rest)]


def module_clauses(module: ModuleType) -> tuple[str, ...]:
    """Every clause the module's functions implement, in contract order."""
    refs = {ref for value in vars(module).values() if callable(value) and getattr(value, "__module__", None) == module.__name__
            for ref in getattr(value, "clauses", ())}
    return tuple(sorted(refs, key=_order))
