"""The hostile corpus: files built to break a reader, each with the refusal it must get.

Built at test time (a 1.1 GB zip bomb is 1 MB on disk, but nobody wants it in git);
`python -m tests.hostile DIR` writes them all to a folder for manual tries in the app.
Each case: file name, which upload takes it (spend, clients, earnings, scenario), the
bytes, and a fragment the English message must contain ('' = any clear refusal, or a
clean read for the cases that are merely odd and must simply not crash).
"""
from __future__ import annotations

import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HEADER = "日期,账户ID,消耗\n"
ROW = "2024-01-0{d},1790000001,100.00\n"


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # spend | clients | earnings | scenario
    build: Callable[[], bytes]
    expect: str  # fragment of the English refusal; "" = refused with any message; None-like "ok" = may load
    slow: bool = False


def _xlsx(sheet_xml: bytes, extra: dict[str, bytes] | None = None, shared: bytes | None = None,
          compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A minimal valid workbook around one sheet's XML."""
    ct = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          b'<Default Extension="xml" ContentType="application/xml"/>'
          b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
          + (b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>' if shared else b"")
          + b"</Types>")
    rels = (b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    book = (b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            b'<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>')
    book_rels = (b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                 + (b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>' if shared else b"")
                 + b"</Relationships>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.xml", book)
        z.writestr("xl/_rels/workbook.xml.rels", book_rels)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared:
            z.writestr("xl/sharedStrings.xml", shared)
        for k, v in (extra or {}).items():
            z.writestr(k, v)
    return buf.getvalue()


def _cell(ref: str, value: str | float) -> bytes:
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'.encode()
    return f'<c r="{ref}"><v>{value}</v></c>'.encode()


def _rows(dimension: str | None, stray: str | None) -> bytes:
    head = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    dim = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
    body = b"<row r=\"1\">" + _cell("A1", "日期") + _cell("B1", "账户ID") + _cell("C1", "消耗") + b"</row>"
    for i in range(2, 5):
        body += f'<row r="{i}">'.encode() + _cell(f"A{i}", f"2024-01-0{i}") + _cell(f"B{i}", "1790000001") + _cell(f"C{i}", 100) + b"</row>"
    if stray:
        col, row = stray.rstrip("0123456789"), stray[len(stray.rstrip("0123456789")):]
        body += f'<row r="{row}">'.encode() + _cell(f"{col}{row}", "x") + b"</row>"
    return head + dim + b"<sheetData>" + body + b"</sheetData></worksheet>"


def _streamed_zip(member: str, chunk: bytes, repeat: int, prefix: bytes = b"", suffix: bytes = b"", extra_sheet: bool = True) -> bytes:
    """A workbook whose one member inflates to len(chunk) × repeat bytes, compressed in a
    stream (the bomb is never held inflated in memory)."""
    base = _xlsx(_rows("A1:C4", None)) if extra_sheet else b""
    buf = io.BytesIO(base)
    with zipfile.ZipFile(buf, "a" if base else "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(member)
        info.compress_type = zipfile.ZIP_DEFLATED  # a bare ZipInfo would store it uncompressed
        with z.open(info, "w", force_zip64=True) as f:
            f.write(prefix)
            block = chunk * 4096
            for _ in range(repeat // 4096):
                f.write(block)
            f.write(suffix)
    return buf.getvalue()


def _deep_json(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def _scenario(client: str) -> bytes:
    return ('{"policy": "ocean_engine_2024", "as_of": "2024-06-30", "client": ' + client + "}").encode()


OK_CLIENT = '{"target_amount": 50000000, "customer_type": "regular"}'
MD = "![x](http://evil.test/p.png) [a](javascript:alert(1)) <img src=http://evil.test/i.png>"


def cases() -> list[Case]:
    rows3 = "".join(ROW.format(d=d) for d in range(1, 4))
    return [
        # --- workbooks that declare or inflate to far more than they hold
        Case("stray_cell_xfd1048576.xlsx", "spend", lambda: _xlsx(_rows("A1:XFD1048576", "XFD1048576")), "XFD1048576"),
        Case("stray_cell_no_dimension.xlsx", "spend", lambda: _xlsx(_rows(None, "XFD1048576")), "memory"),
        Case("stray_cell_lying_dimension.xlsx", "spend", lambda: _xlsx(_rows("A1:C4", "XFD1048576")), "memory"),
        Case("dimension_one_million_rows.xlsx", "spend", lambda: _xlsx(_rows("A1:AZ1048576", None)), "cells"),
        Case("sheet_bomb_1100mb.xlsx", "spend", lambda: _streamed_zip("xl/worksheets/sheet2.xml", b"<row/>" * 8, 1100 * 1024 * 1024 // 48), "inflates", slow=True),
        Case("shared_string_bomb.xlsx", "spend", lambda: _streamed_zip("xl/sharedStrings.xml", b"A" * 64, 300 * 1024 * 1024 // 64,
                                                                      b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>', b"</t></si></sst>"), "inflates", slow=True),
        Case("many_parts.xlsx", "spend", lambda: _xlsx(_rows("A1:C4", None), {f"xl/media/p{i}.bin": b"" for i in range(10_050)}), "parts"),
        Case("truncated.xlsx", "spend", lambda: _xlsx(_rows("A1:C4", None))[:600], ""),
        Case("not_a_zip.xlsx", "spend", lambda: b"PK\x03\x04" + b"\x00" * 200, ""),
        Case("garbage.xls", "spend", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 4000, ""),
        Case("empty_zip.xlsx", "spend", lambda: _empty_zip(), ""),
        Case("clients_stray_cell.xlsx", "clients", lambda: _xlsx(_rows("A1:XFD1048576", "XFD1048576")), "XFD1048576"),
        Case("earnings_stray_cell.xlsx", "earnings", lambda: _xlsx(_rows("A1:XFD1048576", "XFD1048576")), "XFD1048576"),
        # --- CSV lines and cells beyond the csv module's limits
        Case("line_200k_chars.csv", "spend", lambda: (HEADER + "2024-01-01,1790000001," + "9" * 200_000 + "\n").encode(), ""),
        Case("line_2m_chars.csv", "spend", lambda: (HEADER + "2024-01-01,1790000001,\"" + "x" * 2_000_000 + "\"\n").encode(), ""),
        Case("one_line_6mb.csv", "spend", lambda: ("日期,账户ID,消耗," + "a," * 3_000_000).encode(), ""),
        Case("header_20000_columns.csv", "spend", lambda: (HEADER.strip() + "," + ",".join(f"c{i}" for i in range(20_000)) + "\n" + rows3).encode(), "ok"),
        Case("unclosed_quote.csv", "spend", lambda: (HEADER + '2024-01-01,"1790000001,100\n' + rows3 * 50).encode(), ""),
        Case("nul_after_4k.csv", "spend", lambda: (HEADER + rows3 * 100).encode() + b"\x00" * 10 + rows3.encode(), ""),
        Case("million_blank_lines.csv", "spend", lambda: (HEADER + rows3 + "\n" * 1_000_000).encode(), "ok"),
        Case("cr_only_line_ends.csv", "spend", lambda: (HEADER + rows3).replace("\n", "\r").encode(), "ok"),
        Case("invalid_utf8_and_gbk.csv", "spend", lambda: HEADER.encode() + b"\xff\xfe\xfd\x80\x81" * 100, ""),
        Case("cesu_surrogate.csv", "spend", lambda: HEADER.encode() + b"2024-01-01,\xed\xa0\x80,100\n", ""),
        Case("utf16_no_bom.csv", "spend", lambda: (HEADER + rows3).encode("utf-16-le"), ""),
        Case("amount_1e400000000.csv", "spend", lambda: (HEADER + "2024-01-01,1790000001,1e400000000\n").encode(), ""),
        Case("amount_5000_digits.csv", "spend", lambda: (HEADER + "2024-01-01,1790000001," + "9" * 5000 + "\n").encode(), ""),
        Case("date_year_99999.csv", "spend", lambda: (HEADER + "99999-01-01,1790000001,100\n" + rows3).encode(), ""),
        Case("header_repeated_30x.csv", "spend", lambda: (HEADER * 30).encode(), ""),
        Case("rtl_zero_width_ids.csv", "spend", lambda: (HEADER + "2024-01-01,\u202e1790000001\u200b,100\n").encode(), "ok"),
        Case("markdown_in_cells.csv", "spend", lambda: (HEADER + f"2024-01-01,{MD.replace(',', ' ')},100\n").encode(), "ok"),
        Case("formula_cells.csv", "spend", lambda: (HEADER + '2024-01-01,=HYPERLINK("http://evil.test"),100\n').encode(), "ok"),  # exports neutralise it
        Case("clients_markdown_ids.csv", "clients", lambda: ("客户编号,客户名称,目标金额,客户类型\n" + f"{MD.replace(',', ' ')},{MD.replace(',', ' ')},50000000,regular\n").encode(), "ok"),
        Case("clients_long_line.csv", "clients", lambda: ("客户编号,客户名称,目标金额,客户类型\n" + "k" * 3_000_000 + ",x,1,regular\n").encode(), ""),
        Case("earnings_long_line.csv", "earnings", lambda: ("月份,开发者,应用,收益\n2024-01," + "d" * 3_000_000 + ",a,100\n").encode(), "ok"),
        Case("parquet_truncated.parquet", "spend", lambda: b"PAR1" + b"\x00" * 100, ""),
        Case("parquet_magic_only.parquet", "spend", lambda: b"PAR1PAR1", ""),
        # --- scenario JSON
        Case("deep_nesting.json", "scenario", lambda: _deep_json(200_000), "nested"),
        Case("deep_nesting_in_client.json", "scenario", lambda: _scenario('{"target_amount": 1, "customer_type": "regular", "x": ' + "[" * 50 + "]" * 50 + "}"), "nested"),
        Case("float_1e309.json", "scenario", lambda: _scenario('{"target_amount": 1e309, "customer_type": "regular"}'), "out of range"),
        Case("float_1e400000000.json", "scenario", lambda: _scenario('{"target_amount": 1e400000000, "customer_type": "regular"}'), "out of range"),
        Case("int_5000_digits.json", "scenario", lambda: _scenario('{"target_amount": ' + "9" * 5000 + ', "customer_type": "regular"}'), "digits"),
        Case("target_0_001.json", "scenario", lambda: _scenario('{"target_amount": 0.001, "customer_type": "regular"}'), "0.01"),
        Case("target_negative_zero.json", "scenario", lambda: _scenario('{"target_amount": -0.0, "customer_type": "regular"}'), "0.01"),
        Case("lone_surrogate.json", "scenario", lambda: _scenario('{"target_amount": 1000, "customer_type": "regular", "main_industry": "\\ud800"}'), "surrogate"),
        Case("duplicate_keys.json", "scenario", lambda: _scenario('{"target_amount": 1000, "target_amount": 9000, "customer_type": "regular"}'), "duplicate key 'target_amount'"),
        Case("nan.json", "scenario", lambda: _scenario('{"target_amount": NaN, "customer_type": "regular"}'), "NaN"),
        Case("infinity.json", "scenario", lambda: _scenario('{"target_amount": -Infinity, "customer_type": "regular"}'), "Infinity"),
        Case("tiny_1e-400.json", "scenario", lambda: _scenario('{"target_amount": 1e-400, "customer_type": "regular"}'), "out of range"),
        Case("top_level_array.json", "scenario", lambda: b"[1, 2, 3]", "JSON object"),
        Case("invalid_utf8.json", "scenario", lambda: b'{"client": "\xff\xfe"}', "UTF-8"),
        Case("nul_bytes.json", "scenario", lambda: b'{"client": \x00}', "not valid JSON"),
        Case("huge_spend_array.json", "scenario", lambda: _scenario(OK_CLIENT)[:-1] + b', "spend": [' + b",".join([b"{}"] * 200_000) + b"]}", ""),
        Case("string_date_overflow.json", "scenario", lambda: _scenario('{"target_amount": 1000, "customer_type": "regular", "deposit_paid_on": "9999-99-99"}'), ""),
    ]


def _empty_zip() -> bytes:
    buf = io.BytesIO()
    zipfile.ZipFile(buf, "w").close()
    return buf.getvalue()


def main(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for case in cases():
        (out / case.name).write_bytes(case.build())
    print(f"{len(cases())} files in {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "hostile")

