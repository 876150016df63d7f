"""Reading spend files (CSV, XLSX) into canonical cells, then validated typed rows.

Why separate from validation: reading is about bytes — encodings (UTF-8, BOM, GBK/GB18030),
separators, title lines above the header, sheets; validation (core.validate) is about values.
Every failure is an InputError naming the file (and row or column) and saying how to fix it.
"""
from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import pyarrow.parquet as pq

from . import layouts
from .accounts import apply_classification
from .classification import combination_keys
from .columns import (
    HeaderMapping,
    header_score,
    map_headers,
    normalise_header,
    value_aliases,
)
from .isolation import run_isolated
from .limits import reader_limits
from .policy import Policy
from .problems import InputError, Problem, file_problem
from .spend import Field, SpendParse
from .validate import normalise_spend
from .workbook_guard import inspect_workbook, stale_formulas

MAX_BYTES = reader_limits().upload_mb * 1024 * 1024
HEADER_SEARCH_ROWS = 30
REQUIRED_COLUMNS = ("date", "account_id")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
COLUMNAR_BYTES = 4 * 1024 * 1024  # from here on the Arrow reader pays for itself


@dataclass(frozen=True)
class RawTable:
    """Cells below the header row, as text, with the file row number of each."""

    name: str
    headers: list[str]
    cells: pd.DataFrame
    row_numbers: np.ndarray
    sheet: str | None = None
    problems: tuple[Problem, ...] = ()  # what reading decided: hidden sheets skipped, sheets combined
    sheets: tuple[str, ...] = ()  # a workbook's visible sheets with data (the user may choose another)


def _decode(data: bytes, name: str) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text" export
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise file_problem(name, "utf16_broken", "the file says UTF-16 but is not; save it as UTF-8 CSV or as XLSX") from None
    if b"\x00" in data[:4096]:
        raise file_problem(name, "nul_bytes", "the file contains binary zero bytes; it is not a text table — export CSV or XLSX")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise file_problem(name, "encoding", "the file is neither UTF-8 nor GBK/GB18030 text; save it as UTF-8 CSV or as XLSX")


csv.field_size_limit(reader_limits().csv_field_chars)


def _split_line(line: str, sep: str) -> list[str]:
    """One CSV line's cells; a line the csv module refuses (a cell over the field limit,
    a NUL) has none — it cannot be the header, and the full parse reports it."""
    try:
        return next(csv.reader([line], delimiter=sep), [])
    except csv.Error:
        return []


def _sniff_separator(lines: list[str], section: str = "columns") -> str:
    """The separator that splits the most header-looking line into the most known fields."""
    best, best_score = ",", -1
    for sep in (",", "\t", ";", "|"):
        for line in lines:
            cells = _split_line(line, sep)
            score = header_score(cells, section) * 100 + len(cells)
            if score > best_score:
                best, best_score = sep, score
    return best


def _header_index(rows: Sequence[Sequence[object]], section: str = "columns") -> int:
    """First row (of the first 30) with the most known headers: title lines are skipped."""
    scores = [header_score(r, section) for r in rows[:HEADER_SEARCH_ROWS]]
    if not scores or max(scores) == 0:
        return 0
    return scores.index(max(scores))


def _unique_headers(cells: Sequence[object]) -> list[str]:
    """Header texts, blanks named and repeats numbered (merged or duplicated headers)."""
    seen: dict[str, int] = {}
    out = []
    for i, c in enumerate(cells):
        text = "" if c is None or (isinstance(c, float) and np.isnan(c)) else str(c).strip()
        text = text or f"column {i + 1}"
        if text in seen:
            seen[text] += 1
            text = f"{text} ({seen[text]})"
        else:
            seen[text] = 1
        out.append(text)
    return out


RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
OPEN_QUOTE = re.compile(r"EOF inside string starting (?:at|on) (?:row|line) (\d+)")


def csv_problem(name: str, detail: str) -> InputError:
    """The CSV parser's complaint as a problem with its own code and the file's line number
    (the parser counts every line of the file), so the message reads in the UI's language
    (pandas speaks English)."""
    ragged = RAGGED.search(detail)
    if ragged:
        expected, line, saw = ragged.groups()
        return file_problem(name, "csv_ragged", f"line {line} has {saw} fields where the header has {expected}: a stray "
                            "separator or an unclosed quote — fix that line", expected=expected, line=line, saw=saw)
    quote = OPEN_QUOTE.search(detail)
    if quote:
        line = quote.group(1)
        return file_problem(name, "csv_quote", f"a quote opened on line {line} is never closed — fix that line", line=line)
    if "unexpected end of data" in detail:
        return file_problem(name, "csv_unclosed", "the file ends inside a quoted cell: a quote is never closed — look for "
                            "a lone \" in the last rows")
    return file_problem(name, "csv_broken", f"not a readable CSV table ({detail}); check quotes and separators", detail=detail)


def _read_csv(data: bytes, name: str, section: str) -> RawTable:
    text = _decode(data, name)
    head = text.splitlines()[:HEADER_SEARCH_ROWS]
    sep = _sniff_separator(head, section)
    header_at = _header_index([_split_line(line, sep) for line in head], section)
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=sep, header=None, skiprows=header_at, dtype=str, keep_default_na=False,
            engine="python" if len(text) < 2_000_000 else "c", skip_blank_lines=True,
        )
    except Exception as exc:  # csv.Error / ParserError: ragged rows, broken quoting
        raise csv_problem(name, str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    if frame.empty:
        raise file_problem(name, "no_header", "no header row found; the first line should name the columns")
    headers = _unique_headers(list(frame.iloc[0]))
    cells = frame.iloc[1:].reset_index(drop=True)
    cells.columns = headers
    rows = np.arange(len(cells)) + header_at + 2  # file line numbers (1-based, after the header)
    return RawTable(name, headers, cells, rows)


def _hidden_sheets(data: bytes) -> set[str]:
    """Names of hidden and very hidden sheets (an outdated copy is often kept hidden)."""
    try:
        from python_calamine import CalamineWorkbook, SheetVisibleEnum

        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return {m.name for m in book.sheets_metadata if m.visible != SheetVisibleEnum.Visible}
    except Exception:  # noqa: BLE001 — visibility is a refinement; the reader reports a broken file itself
        return set()


def _read_excel(data: bytes, name: str, section: str, sheet: str | None = None) -> RawTable:
    """The visible sheet with the most known headers (or the one the user chose); visible
    sheets with the very same header (monthly sheets 1月…12月) are read with it. Hidden
    sheets are skipped and named. A workbook with no known header gives its first sheet
    with data to the mapping step, as a CSV does."""
    if not zipfile.is_zipfile(io.BytesIO(data)) and name.lower().endswith((".xlsx", ".xlsm")):
        raise file_problem(name, "not_xlsx", "not an Excel workbook (the file is not a valid .xlsx); export it again as .xlsx or CSV")
    try:
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, dtype=object, engine="calamine")
    except Exception as exc:  # the Excel reader raises many types for a broken file
        raise file_problem(name, "xlsx_broken", f"not a readable Excel workbook ({type(exc).__name__}); save it again as .xlsx") from None
    hidden = _hidden_sheets(data)
    notes = [Problem("warning", f"sheet '{s}' is hidden and was not read; unhide it if it holds current data", None, None, None, name,
                     "hidden_sheet", (("sheet", str(s)),)) for s in sheets if str(s) in hidden]
    found = []  # (score, sheet, header row index, normalised header)
    for sheet_name, frame in sheets.items():
        if str(sheet_name) in hidden or frame.dropna(how="all").empty:
            continue
        rows = frame.head(HEADER_SEARCH_ROWS).values.tolist()
        at = _header_index(rows, section)
        score = header_score(rows[at], section) if rows else 0
        found.append((score, str(sheet_name), at, tuple(normalise_header(h) for h in _unique_headers(rows[at] if rows else []))))
    chosen = [f for f in found if f[1] == sheet]
    best = chosen[0] if chosen else max(found, key=lambda f: f[0], default=None)
    if best is None:
        names = ", ".join(map(str, sheets)) or "none"
        example = "日期, 账户ID, 消耗" if section == "columns" else "月份, 开发者, 应用, 收益"
        raise file_problem(name, "no_sheet", f"no sheet has the expected columns (sheets: {names}); the header needs e.g. {example}", sheets=names, example=example)
    same = [best] if chosen or best[0] == 0 else [f for f in found if f[3] == best[3] and f[0] == best[0]]
    parts = [_sheet_cells(sheets, sheet, at) for _, sheet, at, _ in same]
    headers = parts[0][0]
    if len(same) > 1:
        listed = ", ".join(f[1] for f in same)
        notes.append(Problem("warning", f"{len(same)} sheets with the same columns were read together: {listed}", None, None, None,
                             name, "sheets_combined", (("n", str(len(same))), ("sheets", listed))))
    cells = pd.concat([p[1].set_axis(headers, axis=1) for p in parts], ignore_index=True)
    rows = np.concatenate([p[2] for p in parts])
    for sheet, (n, first) in stale_formulas(data, [f[1] for f in same]).items():
        notes.append(Problem("warning", f"sheet '{sheet}': {n} formula cells have no saved result or 0 (first {first}); "
                             "open the workbook in Excel, let it calculate and save it again", None, first, None, name,
                             "stale_formulas", (("sheet", sheet), ("n", str(n)), ("cell", first))))
    return RawTable(name, headers, cells, rows, ", ".join(f[1] for f in same), tuple(notes), tuple(f[1] for f in found))


def _sheet_cells(sheets: dict[str, Any], sheet: str, at: int) -> tuple[list[str], pd.DataFrame, np.ndarray]:
    frame = sheets[sheet] if sheet in sheets else next(v for k, v in sheets.items() if str(k) == sheet)
    headers = _unique_headers(list(frame.iloc[at]))
    cells = frame.iloc[at + 1 :].reset_index(drop=True)
    cells.columns = headers
    cells = cells.dropna(how="all")
    return headers, cells.reset_index(drop=True), cells.index.to_numpy() + at + 2


def _arrow_table_to_cells(table: pa.Table) -> pd.DataFrame:
    """Dictionary columns become pandas categoricals (codes, no per-cell strings); the
    free-text amount columns stay Arrow strings for the decimal fast path."""
    def mapper(t: pa.DataType) -> pd.ArrowDtype | None:
        return pd.ArrowDtype(t) if pa.types.is_string(t) or pa.types.is_large_string(t) else None
    return table.to_pandas(types_mapper=mapper)


def _read_csv_columnar(data: bytes | Path, name: str, section: str) -> RawTable | None:
    """Big UTF-8 CSVs through Arrow's multithreaded reader, every column dictionary-encoded
    except amounts. None (the row-by-row reader takes over, with its messages) for anything
    unusual: another encoding, blank or ragged lines, newlines inside quotes. A path is
    streamed from disk (the file is never held whole in memory)."""
    if isinstance(data, Path):
        with data.open("rb") as f:
            head_bytes = f.read(65536)
    else:
        head_bytes = data[:65536]
    head_text = head_bytes.decode("utf-8-sig", errors="replace")
    if "\ufffd" in head_text:
        return None
    head = head_text.splitlines()[:HEADER_SEARCH_ROWS]
    if not head:
        return None  # nothing to sniff: the row reader says what is wrong
    sep = _sniff_separator(head, section)
    header_at = _header_index([_split_line(line, sep) for line in head], section)
    headers = _unique_headers(_split_line(head[header_at], sep))
    text = _free_text_columns(headers, section)
    types = {h: (pa.string() if h in text else pa.dictionary(pa.int32(), pa.string())) for h in headers}
    try:
        table = pv.read_csv(
            str(data) if isinstance(data, Path) else io.BytesIO(data),
            read_options=pv.ReadOptions(skip_rows=header_at + 1, column_names=headers, encoding="utf8"),
            parse_options=pv.ParseOptions(delimiter=sep, ignore_empty_lines=False),
            convert_options=pv.ConvertOptions(column_types=types, strings_can_be_null=False,
                                              quoted_strings_can_be_null=False, null_values=[]),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    cells = _arrow_table_to_cells(table)
    del table
    return_freed_memory()  # the parse buffers, back to the system before validation
    return RawTable(name, headers, cells, np.arange(len(cells)) + header_at + 2)


BULK_ROWS = 100_000  # from this many rows a stage frees enough memory to be worth returning to the system


def use_system_allocator() -> None:
    """Arrow allocates through the C library, not its bundled mimalloc. Why: mimalloc kept a
    parse's freed segments resident (release_unused did not return them) — measured at 5M
    rows: 476 → 308 MB resident after the read and a portfolio run's peak 1,448 → 1,264 MB,
    at the same speed — and glibc's freed memory is what return_freed_memory trims. An
    operator's ARROW_DEFAULT_MEMORY_POOL still wins."""
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        pa.set_memory_pool(pa.system_memory_pool())


use_system_allocator()


def return_freed_memory() -> None:
    """Give freed memory back to the system. Why: Arrow's pool keeps a parse's buffers and
    glibc keeps a million-row validation's freed temporaries in its arenas, where numpy's
    next allocations cannot reuse the one and only partly the other — without this a
    portfolio run's resident memory kept every stage's peak (measured: 382 → 340 MB for
    1.1M rows), and a server process stayed at its largest upload's."""
    pa.default_memory_pool().release_unused()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def _free_text_columns(headers: list[str], section: str) -> set[str]:
    """The amount and funding columns the headers name: nearly every cell distinct, so they
    stay text — a dictionary of them costs a hash per row and a category check per value for
    nothing (the demo portfolio's Parquet: 0.57 s to read with its amounts encoded)."""
    mapping = map_headers(headers, section=section)
    return {mapping.fields.get("amount", "")} | set(mapping.funding_columns.values())


def _read_parquet(data: bytes, name: str, section: str = "columns") -> RawTable:
    """Parquet: typed columns as stored; strings dictionary-encoded like the CSV fast path,
    except the free-text amount columns."""
    try:
        table = pq.read_table(io.BytesIO(data), read_dictionary=None)
    except (pa.ArrowInvalid, OSError) as exc:
        raise file_problem(name, "parquet_broken", f"not a readable Parquet file ({str(exc).splitlines()[0]}); write it again") from None
    headers = _unique_headers(table.column_names)
    table = table.rename_columns(headers)
    text = _free_text_columns(headers, section)
    for i, field in enumerate(table.schema):
        if field.name in text:
            continue
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            table = table.set_column(i, field.name, pc.dictionary_encode(table.column(i)))
    cells = _arrow_table_to_cells(table)
    return RawTable(name, headers, cells, np.arange(len(cells)) + 2)


def read_table_file(path: Path, section: str = "columns") -> RawTable:
    """A file on disk (the CLI): big UTF-8 CSVs stream through Arrow, the rest as bytes."""
    if path.suffix.lower() == ".csv" and path.stat().st_size >= COLUMNAR_BYTES:
        fast = _read_csv_columnar(path, path.name, section)
        if fast is not None:
            return fast
    return read_table(path.read_bytes(), path.name, section, max_bytes=None)


def _is_excel(data: bytes, name: str) -> bool:
    return name.lower().endswith(EXCEL_SUFFIXES) or data[:4] == b"PK\x03\x04"


def read_table(data: bytes, name: str, section: str = "columns", max_bytes: int | None = MAX_BYTES,
               sheet: str | None = None) -> RawTable:
    """Bytes of an upload -> RawTable; the file name only picks the reader, never a path.
    ``section`` names the alias table used to find the header row.

    The size checks and the workbook inspection run here; the parse itself runs in a
    worker process with a memory and a time limit (core.isolation), so no file can take
    the server down — it becomes one InputError naming the file."""
    _check_size(data, name, max_bytes)
    if _is_excel(data, name):
        inspect_workbook(data, name, reader_limits())
    return run_isolated(read_table_in_process, (data, name, section, None, sheet), name)


def _check_size(data: bytes, name: str, max_bytes: int | None) -> None:
    if not data or (not data[:4096].strip() and not data.strip()):  # no 80 MB copy for a real file
        raise file_problem(name, "empty_file", "the file is empty; export the report again with its header row")
    if max_bytes is not None and len(data) > max_bytes:  # uploads only; files on disk (the CLI) may be larger
        raise file_problem(name, "too_big", f"the file is larger than {MAX_BYTES // 1024 // 1024} MB; split it by quarter", mb=MAX_BYTES // 1024 // 1024)


def read_table_in_process(data: bytes, name: str, section: str = "columns", max_bytes: int | None = MAX_BYTES,
                          sheet: str | None = None) -> RawTable:
    """The readers themselves, in this process: for the worker, the fuzzers, the benches and
    the demo client's shipped files. Never call it on an upload from the server (read_table
    isolates it)."""
    _check_size(data, name, max_bytes)
    if _is_excel(data, name):
        return _read_excel(data, name, section, sheet)
    if name.lower().endswith(".parquet") or data[:4] == b"PAR1":
        return _read_parquet(data, name, section)
    if len(data) >= COLUMNAR_BYTES:
        fast = _read_csv_columnar(data, name, section)
        if fast is not None:
            return fast
    return _read_csv(data, name, section)


def missing_columns(mapping: HeaderMapping) -> list[str]:
    """Required fields the mapping does not feed (amount may come from funding columns)."""
    missing = [f for f in REQUIRED_COLUMNS if f not in mapping.fields]
    if "amount" not in mapping.fields and not mapping.funding_columns:
        missing.append("amount")
    return missing


@dataclass(frozen=True)
class Canonical:
    """Cells under canonical names, one row per funding, and what reading the layout decided."""

    cells: pd.DataFrame
    row_numbers: np.ndarray
    given: tuple[str, ...]  # the fields the file itself gave
    problems: tuple[Problem, ...]  # warnings: summary rows left out, parts that do not add up, units …


def canonical(table: RawTable, mapping: HeaderMapping) -> Canonical:
    """The layout read right (core.layouts): fund statements refused, summary rows left out,
    header units applied, funding parts reconciled with the total; then cells under
    canonical names with one row per funding."""
    if table.cells.empty:
        raise file_problem(table.name, "header_only", "the header is there but no data rows follow; export the report with its rows")
    layouts.refuse_fund_statement(table.cells, table.headers, table.name)  # before "no amount column": say what it is
    missing = missing_columns(mapping)
    if missing:
        raise file_problem(
            table.name, "no_column",
            f"no column for {', '.join(missing)}; headers are {', '.join(table.headers[:12])} — "
            "choose the column for it in the mapping step",
            fields=", ".join(missing), headers=", ".join(table.headers[:12]),
        )
    money = {c for c in (mapping.fields.get("amount"), *mapping.funding_columns.values(), *mapping.cash_parts) if c is not None}
    summary, found_rows = layouts.summary_rows(table.cells, money, table.name, table.row_numbers, tuple(mapping.fields.values()))
    problems = [*table.problems, *found_rows]
    cells, rows = (table.cells.loc[~summary].reset_index(drop=True), table.row_numbers[~summary]) if summary.any() \
        else (table.cells.reset_index(drop=True), table.row_numbers)
    found = layouts.amounts(cells, mapping, table.name, rows)
    problems += found.problems
    foreign, notes = layouts.foreign_enum_columns(cells, mapping, value_aliases(), table.name)
    problems += notes
    base = pd.DataFrame({f: cells[c] for f, c in mapping.fields.items() if f != "amount" and f not in foreign})
    implied, notes = layouts.xingtu_bill_platform(table.headers, mapping, table.name)
    problems += notes
    for field_name, value in implied.items():
        base[field_name] = value
    if "account_id" in base:
        base["account_id"] = layouts.account_keys(base["account_id"], mapping.fields["account_id"], table.name, rows)
    if list(found.by_funding) == [""]:
        base["amount"] = found.by_funding[""].array  # as read (Arrow text stays Arrow: no million Python strings)
    else:
        parts, part_rows = [], []
        for funding, amount in found.by_funding.items():
            text = amount.astype("string").fillna("").str.strip()
            keep = ~text.isin(["", "0", "0.0", "0.00", "-"]).to_numpy()
            part = base.loc[keep].copy()
            part["amount"], part["funding"] = text[keep].to_numpy(), funding
            parts.append(part)
            part_rows.append(rows[keep])
        base = pd.concat(parts, ignore_index=True)
        rows = np.concatenate(part_rows)
    given = tuple(c for c in base.columns if c not in ("account_name", "client"))
    return Canonical(base.reset_index(drop=True), rows, given, tuple(problems))


def canonical_cells(table: RawTable, mapping: HeaderMapping) -> tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]:
    """Cells under canonical names, funding columns split into one row per funding.
    Returns (cells, row numbers, the fields the file itself gave)."""
    c = canonical(table, mapping)
    return c.cells, c.row_numbers, c.given


def _defaulted(cells: pd.DataFrame, classification: pd.DataFrame | None, source: str) -> list[Problem]:
    """No platform column: say how many rows take it from the classification or the
    default (ocean_ads), instead of a silent default (本地推 would lose its +2 %)."""
    if "platform" in cells.columns or cells.empty:
        return []
    known = set(classification["account_id"].astype(str)) if classification is not None and len(classification) else set()
    defaulted = int((~cells["account_id"].astype(str).isin(known)).sum())
    return [Problem("warning", f"the file has no platform column: {defaulted:,} rows take the default ocean_ads "
                    f"and {len(cells) - defaulted:,} their account's classification — choose the platform for the file "
                    "or set it per account", None, "platform", None, source, "platform_defaulted",
                    (("defaulted", f"{defaulted:,}"), ("classified", f"{len(cells) - defaulted:,}")))]


@dataclass(frozen=True)
class AccountDays:
    """Each row's (account, day) cell as one int64: account code × span + day offset. Why:
    both warnings below ask which rows share an account-day, and a cell number answers
    without hashing strings or dates again."""

    key: np.ndarray
    names: pd.Index  # account ids, sorted: account code i is names[i]
    first_day: int
    span: int  # a typo'd year (5905) makes this millions of days: no fixed bit width

    @property
    def size(self) -> int:
        return len(self.names) * self.span

    @property
    def dense(self) -> bool:
        """Counted on the grid when it is no bigger than twice the rows (an account-day
        export); a sparse grid (a typo'd year) is sorted instead."""
        return self.size <= 2 * len(self.key) + 4096


def account_days(rows: pd.DataFrame) -> AccountDays:
    """The cells of validated rows (every row has an account and a date)."""
    accounts, names = pd.factorize(rows["account_id"], sort=True)
    day = rows["date"].to_numpy(dtype="datetime64[D]").view(np.int64)
    first_day = int(day.min())
    span = int(day.max() - first_day) + 1
    key = accounts.astype(np.int64)
    del accounts
    key *= span
    key += day - first_day
    return AccountDays(key, pd.Index(names), first_day, span)


def _duplicate_warnings(rows: pd.DataFrame, source: str, grid: AccountDays) -> list[Problem]:
    """Rows whose account, date, funding, platform, network and placement appear earlier.
    Only rows sharing an account-day with another row can be one, so only those are keyed
    (5M rows: 0.95 s and +244 MB for a hash of every row before)."""
    if grid.dense:
        shared = np.bincount(grid.key, minlength=grid.size)[grid.key] > 1
    else:
        _, inverse, counts = np.unique(grid.key, return_inverse=True, return_counts=True)
        shared = counts[inverse] > 1
    candidates = np.flatnonzero(shared)
    if not len(candidates):
        return []
    sub = rows.iloc[candidates]
    keys = ["account_id", "date", "funding", "platform", "network", "placement"]
    dup = candidates[pd.Series(combination_keys([sub[k] for k in keys])).duplicated(keep="first").to_numpy()]
    return [
        Problem("warning", "duplicate account-day row (same account, date and funding appears earlier); both are counted",
                int(r), "date", str(d.date()), source, "duplicate")
        for r, d in zip(rows["source_row"].to_numpy()[dup], rows["date"].iloc[dup])
    ]


def _distinct_spent(key: np.ndarray, amount: np.ndarray, size: int, dense: bool) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (account, day) keys in order and whether each has spend (counted on a
    dense grid: 5M rows 0.6 → 0.2 s and no sort temporaries; sorted on a sparse one)."""
    if dense:
        keys = np.flatnonzero(np.bincount(key, minlength=size))
        return keys, np.bincount(key, weights=amount, minlength=size)[keys] > 0
    keys, inverse = np.unique(key, return_inverse=True)
    return keys, np.bincount(inverse, weights=amount) > 0


def _gap_warnings(rows: pd.DataFrame, source: str, grid: AccountDays, per_account: int = 5) -> list[Problem]:
    """Days with zero total spend inside an account's daily run (a missing export day?).
    Counted for all accounts at once on (account, day) cells; only accounts with gaps loop,
    each over its own slice of the sorted cells."""
    if rows.empty:
        return []
    keys, spent = _distinct_spent(grid.key, rows["amount_fen"].to_numpy(dtype=np.float64), grid.size, grid.dense)
    acc, d = np.divmod(keys, grid.span)  # sorted by account, then day
    starts = np.flatnonzero(np.r_[True, acc[1:] != acc[:-1]])
    ends = np.r_[starts[1:], len(acc)]
    lo, hi = d[starts], d[ends - 1]
    n_days = ends - starts
    gaps = (hi - lo + 1) - np.add.reduceat(spent.astype(np.int64), starts)
    out: list[Problem] = []
    for i in np.flatnonzero((n_days >= 14) & (gaps > 0)):
        account = grid.names[acc[starts[i]]]
        days = d[starts[i]:ends[i]][spent[starts[i]:ends[i]]]
        missing = np.setdiff1d(np.arange(lo[i], hi[i] + 1), days)
        for offset in missing[:per_account]:
            when = (np.datetime64(int(grid.first_day + offset), "D")).astype(str)
            out.append(Problem("warning", f"account {account}: no spend on this day inside its daily run", None, "date",
                               when, source, "gap", (("account", str(account)),)))
        if len(missing) > per_account:
            out.append(Problem("warning", f"account {account}: {len(missing) - per_account} more days without spend", None, "date",
                               None, source, "gaps_more", (("account", str(account)), ("n", str(len(missing) - per_account)))))
    return out


def prepare_spend(
    table: RawTable, mapping: HeaderMapping, policy: Policy, classification: pd.DataFrame | None = None,
    extra_fields: tuple[Field, ...] = (), file_values: dict[str, str] | None = None,
) -> tuple[SpendParse, tuple[str, ...]]:
    """A read table -> validated typed rows (+ duplicate and gap warnings) and the fields
    the file gave itself (the rest came from the account classification)."""
    read = canonical(table, mapping)
    cells, rows, given, read_problems = read.cells, read.row_numbers, read.given, read.problems
    del read  # its cells go with `cells` below, before the warnings allocate theirs
    if file_values:  # the user said what the whole file is (e.g. its platform): the file gives it
        cells = cells.assign(**file_values)
        given = (*given, *file_values)
    notes = _defaulted(cells, classification, table.name)
    kept = {f.name for f in extra_fields}
    dropped = [c for c in ("account_name", "client") if c not in kept]  # names only; a client column matters to portfolios
    filled = apply_classification(cells.drop(columns=dropped, errors="ignore"), classification)
    parsed = normalise_spend(filled, row_numbers=rows, source=table.name, value_aliases=value_aliases(), policy=policy,
                             extra_fields=extra_fields)
    del filled, cells
    if len(parsed.rows) >= BULK_ROWS:
        return_freed_memory()  # the validation's temporaries, before the warnings allocate theirs
    grid = account_days(parsed.rows) if len(parsed.rows) else None
    extra = list(read_problems) + notes
    if grid is not None:
        extra += _duplicate_warnings(parsed.rows, table.name, grid) + _gap_warnings(parsed.rows, table.name, grid)
    del grid
    problems = sorted(parsed.problems + tuple(extra), key=lambda p: (p.severity != "error", p.row or 0))
    return SpendParse(parsed.rows, tuple(problems), parsed.rows_read), given


def read_spend_file(path: str | Path, policy: Policy, classification: pd.DataFrame | None = None) -> SpendParse:
    """A spend file on disk -> validated rows and problems (the CLI's --spend)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p.name}: cannot read the file ({exc.strerror})") from None
    table = read_table(data, p.name)
    return prepare_spend(table, map_headers(table.headers), policy, classification)[0]
