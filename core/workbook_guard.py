"""Look inside an XLSX before parsing it: refuse zip bombs and absurd sheet ranges.

Why before: the zip's central directory says how big every part inflates to, and each
sheet's <dimension> says how many cells it spans — both readable in milliseconds without
inflating anything. A refusal here names the sheet and the number, which a worker that
merely ran out of memory cannot (core.isolation is the backstop for files that lie).
"""
from __future__ import annotations

import io
import re
import zipfile

from .limits import ReaderLimits
from .problems import InputError, file_problem

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]{1,3})\$?(\d{1,9})(?::\$?([A-Z]{1,3})\$?(\d{1,9}))?"')
_SHEET_TAG = re.compile(rb'<(?:\w+:)?sheet\b[^>]*>')
_REL_TAG = re.compile(rb'<Relationship\b[^>]*>')
MAX_PARTS = 10_000
MB = 1024 * 1024


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def declared_cells(ref: re.Match[bytes]) -> int:
    """Rows × columns of a <dimension ref="A1:XFD1048576"> (a single cell is 1)."""
    c1, r1, c2, r2 = ref.groups()
    if c2 is None:
        return 1
    rows = abs(int(r2) - int(r1)) + 1
    cols = abs(_column_number(c2) - _column_number(c1)) + 1
    return rows * cols


def _attr(tag: bytes, attr: bytes) -> str:
    found = re.search(rb'[\s:]' + re.escape(attr) + rb'="([^"]*)"', b" " + tag)
    return found.group(1).decode("utf-8", "replace") if found else ""


def _sheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part path -> the sheet's name as Excel shows it (best effort)."""
    try:
        book = zf.open("xl/workbook.xml").read(4 * MB)
        rels = zf.open("xl/_rels/workbook.xml.rels").read(4 * MB)
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, RuntimeError):
        return {}
    targets = {_attr(tag, b"Id"): _attr(tag, b"Target").lstrip("/") for tag in _REL_TAG.findall(rels)}
    out = {}
    for tag in _SHEET_TAG.findall(book):
        name, target = _attr(tag, b"name"), targets.get(_attr(tag, b"r:id"))
        if target:
            path = target if target.startswith("xl/") else f"xl/{target}"
            out[path] = name
    return out


def inspect_workbook(data: bytes, name: str, limits: ReaderLimits) -> None:
    """Raise InputError when the workbook would inflate or span beyond the limits.
    Anything that is not a readable zip is left to the reader's own message."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    if len(infos) > MAX_PARTS:
        raise file_problem(name, "xlsx_parts", f"the workbook has {len(infos):,} parts; save it again as a plain .xlsx with only the data",
                           n=f"{len(infos):,}")
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.xlsx_ratio_floor_mb * MB and ratio > limits.xlsx_member_ratio:
            raise _bomb(name, info.filename, info.file_size, limits)
    if total > limits.xlsx_uncompressed_mb * MB:
        raise _bomb(name, "", total, limits)
    _check_dimensions(zf, infos, name, limits)


def _bomb(name: str, part: str, size: int, limits: ReaderLimits) -> InputError:
    return file_problem(
        name, "xlsx_inflates",
        f"the workbook inflates to {size // MB:,} MB{f' ({part})' if part else ''}, more than the {limits.xlsx_uncompressed_mb:,} MB allowed; "
        "save it again with only the data range, or export CSV",
        mb=f"{size // MB:,}", limit=f"{limits.xlsx_uncompressed_mb:,}",
    )


def _check_dimensions(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], name: str, limits: ReaderLimits) -> None:
    sheets = None
    for info in infos:
        if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
            continue
        try:
            with zf.open(info) as f:
                head = f.read(65536)  # the <dimension> element comes first; nothing more is inflated
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError):
            continue  # the reader reports a broken part in its own words
        found = _DIMENSION.search(head)
        if found is None:
            continue
        cells = declared_cells(found)
        if cells > limits.xlsx_cells:
            sheets = sheets if sheets is not None else _sheet_names(zf)
            sheet = sheets.get(info.filename, info.filename.rsplit("/", 1)[-1])
            ref = found.group(0).split(b'"')[1].decode()
            raise file_problem(
                name, "xlsx_dimension",
                f"sheet '{sheet}' spans {ref} ({cells:,} cells), more than the {limits.xlsx_cells:,} allowed — "
                "usually a stray cell far below or right of the data; delete the empty rows and columns "
                "(or copy the data into a new workbook) and save again",
                sheet=sheet, ref=ref, cells=f"{cells:,}", limit=f"{limits.xlsx_cells:,}",
            )


_FORMULA_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3}\d+)"[^>]*?>\s*<f\b[^>]*?(?:/>|>.*?</f>)\s*(?:<v\s*/>|<v>([^<]*)</v>)?\s*(?:<is>.*?</is>\s*)?</c>',
                           re.DOTALL)
FORMULA_SCAN_MB = 64


def stale_formulas(data: bytes, sheets: list[str]) -> dict[str, tuple[int, str]]:
    """Formula cells whose cached value is missing or 0, per named sheet: (count, first cell).
    A workbook saved by a script (or with calculation off) keeps formulas without results,
    and a reader sees 0 — a silent zero spend. Sheets over 64 MB are not scanned."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        parts = {name: part for part, name in _sheet_names(zf).items()}
        out: dict[str, tuple[int, str]] = {}
        for sheet in sheets:
            part = parts.get(sheet)
            if part is None or zf.getinfo(part).file_size > FORMULA_SCAN_MB * MB:
                continue
            xml = zf.read(part)
            if b"<f" not in xml:
                continue
            stale = [m.group(1).decode() for m in _FORMULA_CELL.finditer(xml) if m.group(2) in (None, b"", b"0")]
            if stale:
                out[sheet] = (len(stale), stale[0])
        return out
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, RuntimeError, ValueError):
        return {}
