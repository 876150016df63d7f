"""Summaries of an immutable result, computed once per object.

Why: a page reads a projection's probabilities, distributions and expected amounts (and
the headline) several times a run, and every rerun reads them again from the same cached
outlook — 10,000 paths reduced again each time were a quarter of a no-op rerun's CPU. The
value is kept on the object itself (so it lives and dies with the cached outlook) and a
copy is returned, so a caller that edits its dict cannot change what the next one reads.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

T = TypeVar("T")


def remembered(owner: object, key: str, compute: Callable[[], T], copied: bool = True) -> T:
    """``compute()`` the first time ``owner`` is asked for ``key``; a copy of that value after
    (``copied=False`` for a value no reader changes, e.g. a figure the UI only serialises)."""
    store = owner.__dict__  # frozen dataclasses without slots still have one
    name = f"_memo_{key}"
    if name not in store:
        store[name] = compute()
    return copy.deepcopy(store[name]) if copied else store[name]


def once(method: Callable[[Any], T]) -> Callable[[Any], T]:
    """A method without arguments of an immutable object, computed on its first call."""
    @wraps(method)
    def wrapper(self: Any) -> T:
        return remembered(self, method.__name__, lambda: method(self))
    return wrapper
