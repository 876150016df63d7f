"""Reading spend files (CSV, XLSX) into raw cells for core.spend to validate.

Why separate from validation: reading is about bytes (encodings, delimiters, title
lines, sheets); validation is about values. Both report problems the same way.
"""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from .policy import Policy
from .spend import SpendParse, normalise_spend
from .validation import InputError

MAX_BYTES = 200 * 1024 * 1024


def _decode(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{name}: the file is neither UTF-8 nor GBK/GB18030 text; save it as UTF-8 CSV or XLSX")


def read_raw(data: bytes, name: str) -> tuple[pd.DataFrame, list[int]]:
    """Bytes -> raw string cells and the file row number of each data row."""
    if not data.strip():
        raise InputError(f"{name}: the file is empty; export the report again with its header row")
    if len(data) > MAX_BYTES:
        raise InputError(f"{name}: the file is larger than {MAX_BYTES // 1024 // 1024} MB; split it by quarter")
    if name.lower().endswith((".xlsx", ".xlsm", ".xls")):
        try:
            raw = pd.read_excel(io.BytesIO(data), dtype=object, engine="calamine")
        except Exception as exc:  # the Excel reader raises many types for a broken file
            raise InputError(f"{name}: not a readable Excel workbook ({type(exc).__name__}); save it again as .xlsx") from None
        return raw, list(range(2, len(raw) + 2))
    text = _decode(data, name)
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=None, engine="python")
    except Exception as exc:  # csv.Error, ParserError: malformed quoting or structure
        raise InputError(f"{name}: not a readable CSV file ({exc}); check quotes and separators") from None
    return raw, list(range(2, len(raw) + 2))


def read_spend_file(path: str | Path, policy: Policy) -> SpendParse:
    """A spend file on disk -> validated rows and problems (the CLI's --spend)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p.name}: cannot read the file ({exc.strerror})") from None
    raw, rows = read_raw(data, p.name)
    raw.columns = [str(c).strip() for c in raw.columns]
    return normalise_spend(raw, row_numbers=rows, source=p.name, policy=policy)
