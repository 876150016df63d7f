"""Every input limit in one place (README "Reliability" lists them with their tests).

Why limits at all: a spend file or a scenario comes from anyone. A 1.9 KB workbook can
declare 17 billion cells, a 5 MB zip can inflate to gigabytes, a JSON file can nest a
million levels. Each limit turns such input into one clear refusal instead of a dead
server. The reader limits can be raised per deployment through environment variables
(``REBATE_READ_MEMORY_MB`` …) without touching code.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class ReaderLimits:
    """Limits of the worker process that parses an upload, and of what it may open."""

    upload_mb: int = 200  # compressed bytes of one upload
    memory_mb: int = 3072  # address space the worker may add to what it starts with
    seconds: int = 120  # wall time of one parse
    xlsx_uncompressed_mb: int = 1024  # all members of a workbook, inflated
    xlsx_member_ratio: int = 200  # inflated / compressed, for members above ratio_floor_mb
    xlsx_ratio_floor_mb: int = 16
    xlsx_cells: int = 30_000_000  # rows × columns a sheet may declare (its <dimension>)
    csv_field_chars: int = 1_000_000  # one CSV cell (the csv module's default is 131,072)


@dataclass(frozen=True)
class JsonLimits:
    """Scenario files: size, nesting and number sizes."""

    bytes: int = 64 * 1024 * 1024
    depth: int = 32
    integer_digits: int = 30
    exponent: int = 15  # |adjusted exponent| of a decimal: 1e15 RMB is beyond any contract


def reader_limits() -> ReaderLimits:
    """The defaults, with environment overrides for a deployment with more memory."""
    d = ReaderLimits()
    return ReaderLimits(
        upload_mb=_env_int("REBATE_UPLOAD_MB", d.upload_mb),
        memory_mb=_env_int("REBATE_READ_MEMORY_MB", d.memory_mb),
        seconds=_env_int("REBATE_READ_SECONDS", d.seconds),
        xlsx_uncompressed_mb=_env_int("REBATE_XLSX_UNCOMPRESSED_MB", d.xlsx_uncompressed_mb),
        xlsx_member_ratio=d.xlsx_member_ratio,
        xlsx_ratio_floor_mb=d.xlsx_ratio_floor_mb,
        xlsx_cells=_env_int("REBATE_XLSX_CELLS", d.xlsx_cells),
        csv_field_chars=d.csv_field_chars,
    )


JSON_LIMITS = JsonLimits()
