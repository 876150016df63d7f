"""Strict JSON for scenario files: every refusal is an InputError naming what and where.

Why not plain json.loads: it keeps the last of two duplicate keys (a typo silently wins),
accepts NaN and Infinity, raises ValueError (not JSONDecodeError) for a 5,000-digit
integer, RecursionError for deep nesting, and lets 1e400000000 or a lone surrogate
through to crash the engine later. Numbers stay exact Decimals.
"""
from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from .limits import JSON_LIMITS, JsonLimits
from .problems import InputError


class _Refused(ValueError):
    """Raised inside the decoder's hooks; turned into one InputError."""


def _number(text: str, limits: JsonLimits) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Refused(f"number {text[:40]!r} is not a number") from None
    if not value.is_finite() or (value and abs(value.adjusted()) > limits.exponent):
        raise _Refused(f"number {text[:40]}{'…' if len(text) > 40 else ''} is out of range (at most 1e{limits.exponent}, at least 1e-{limits.exponent})")
    return value


def _integer(text: str, limits: JsonLimits) -> int:
    digits = len(text.lstrip("-"))
    if digits > limits.integer_digits:
        raise _Refused(f"an integer with {digits:,} digits is out of range (at most {limits.integer_digits})")
    return int(text)


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a number; write the amount as digits")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"duplicate key '{key[:60]}' (a later value would silently win); keep one")
        out[key] = value
    return out


def _check_tree(data: Any, limits: JsonLimits) -> None:
    """Depth and text checks without recursion: strings must be encodable (no lone surrogates)."""
    stack: list[tuple[Any, int, str]] = [(data, 1, "")]
    while stack:
        node, depth, path = stack.pop()
        if depth > limits.depth:
            raise _Refused(f"nested deeper than {limits.depth} levels (at {path or 'the top'})")
        if isinstance(node, dict):
            for key, value in node.items():
                _check_text(key, path)
                stack.append((value, depth + 1, f"{path}.{key}" if path else key))
        elif isinstance(node, list):
            stack.extend((v, depth + 1, f"{path}[{i}]") for i, v in enumerate(node))
        elif isinstance(node, str):
            _check_text(node, path)


def _check_text(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused(f"{path or 'a key'}: text contains a lone surrogate (\\ud800-\\udfff); fix the escape") from None


def loads_strict(text: str, source: str, limits: JsonLimits = JSON_LIMITS) -> Any:
    """Parse JSON text with the limits; InputError '<source>: …' on any refusal."""
    if len(text) > limits.bytes:
        raise InputError(f"{source}: the file is larger than {limits.bytes // 1024 // 1024} MB; put the spend in a CSV and pass it with --spend")
    try:
        data = json.loads(
            text, parse_float=lambda s: _number(s, limits), parse_int=lambda s: _integer(s, limits),
            parse_constant=_constant, object_pairs_hook=_object,
        )
        _check_tree(data, limits)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except _Refused as exc:
        raise InputError(f"{source}: {exc}") from None
    except RecursionError:
        raise InputError(f"{source}: nested deeper than {limits.depth} levels") from None
    except ValueError as exc:  # what the decoder itself raises outside JSONDecodeError
        raise InputError(f"{source}: not valid JSON ({str(exc)[:80]})") from None
    return data
