"""Write the spend-file fixtures corpus (tests/fixtures/good, tests/fixtures/bad).

Run: python -m tools.make_fixtures            (writes the files)
     python -m tools.make_fixtures --table    (prints the README's table of what each gets)
Each file imitates a real export or a real mistake. BAD states what each bad file must
give; tests/test_ingest.py checks every entry against the readers.
"""
from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
GOOD, BAD_DIR = ROOT / "good", ROOT / "bad"
HEAD = "日期,账户ID,平台,消耗\n"


def good() -> None:
    GOOD.mkdir(parents=True, exist_ok=True)
    report = (
        "巨量引擎 账户消耗报表（导出时间 2024-04-02）\n\n"
        "日期,账户ID,账户名称,客户名称,平台,流量,消耗(元)\n"
        '2024-01-05,1790000001,富达-信息流,济南富达食品有限公司,巨量广告,抖音,"1,234.56"\n'
        '2024-01-05,1790000002,富达-本地,济南富达食品有限公司,本地推,抖音,"2,000.00"\n'
        '2024-01-06,1790000001,富达-信息流,济南富达食品有限公司,巨量广告,抖音,"1,000.44"\n'
    )
    (GOOD / "ocean_report_gbk.csv").write_bytes(report.encode("gbk"))
    fund = "时间,广告主ID,现金消耗,赠款消耗,返货消耗\n2024/1/5,1790000001,1000.00,50.00,0\n2024/1/6,1790000001,800.00,0,200.00\n"
    (GOOD / "fund_split_bom.csv").write_bytes(fund.encode("utf-8-sig"))
    semi = "stat_datetime;advertiser_id;stat_cost\n2024-01-05 00:00:00;1790000003;¥1,234.56\n2024-01-06 00:00:00;1790000003;1234.56元\n"
    (GOOD / "semicolon_timestamps.csv").write_text(semi, encoding="utf-8")
    tab = "日期\t账户ID\t花费\n2024年1月5日\t1790000004\t12.3万\n2024年1月6日\t1790000004\t0.5万\n"
    (GOOD / "tab_wan.tsv").write_text(tab, encoding="utf-8")
    with pd.ExcelWriter(GOOD / "export.xlsx", engine="xlsxwriter") as xl:
        pd.DataFrame({"说明": ["本表为 2024 年 1 月消耗明细", "金额单位：元"]}).to_excel(xl, sheet_name="说明", index=False)
        sheet = pd.DataFrame(
            [["富达 2024 年 1 月消耗明细", None, None], ["日期", "账户ID", "消耗"],
             [45296, "1790000005", 1500.5], [45297, "1790000005", 2500.25]]
        )
        sheet.to_excel(xl, sheet_name="消耗明细", index=False, header=False)


def _zip_not_xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    return buf.getvalue()


def _xlsx(rows: list[list[object]], sheet: str = "消耗", merge: str | None = None) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as xl:
        pd.DataFrame(rows).to_excel(xl, sheet_name=sheet, index=False, header=False)
        if merge:
            xl.sheets[sheet].merge_range(merge, rows[0][0])
    return buf.getvalue()


def _csv(body: str, encoding: str = "utf-8") -> bytes:
    return (HEAD + body).encode(encoding)


# name -> (content, expected). expected: ("file", message start) — the whole file is refused;
# ("row", file row, column, message start) — the first error; ("warning", column, message start)
# — no error, first warning; ("ok", rows) — loads. Nothing is stored from a file with errors
# unless the user ticks "import the valid rows only".
BAD: dict[str, tuple[bytes, tuple]] = {
    "empty.csv": (b"", ("file", "empty.csv: the file is empty")),
    "whitespace_only.csv": (b"  \n\n \t\n", ("file", "whitespace_only.csv: the file is empty")),
    "header_only.csv": ("日期,账户ID,消耗\n".encode(), ("file", "header_only.csv: the header is there but no data rows follow")),
    "no_amount.csv": ("日期,账户ID,备注\n2024-01-05,1,x\n".encode(), ("file", "no_amount.csv: no column for amount")),
    "no_date.csv": ("账户ID,消耗\n1,100\n".encode(), ("file", "no_date.csv: no column for date")),
    "no_account.csv": ("日期,消耗\n2024-01-05,100\n".encode(), ("file", "no_account.csv: no column for account_id")),
    "wrong_headers.csv": ("name,phone,email\nzhang,123,a@b.c\n".encode(), ("file", "wrong_headers.csv: no column for date, account_id, amount")),
    "only_title_lines.csv": ("这是一份说明\n没有表格\n".encode(), ("file", "only_title_lines.csv: no column for date, account_id, amount")),
    "binary.csv": (bytes(range(128, 256)) * 4, ("file", "binary.csv: the file is neither UTF-8 nor GBK/GB18030 text")),
    "null_bytes.csv": (b"\x00\x01\x02date,account\x00\n", ("file", "null_bytes.csv: the file contains binary zero bytes")),
    "zip_renamed.xlsx": (_zip_not_xlsx(), ("file", "zip_renamed.xlsx: not a readable Excel workbook")),
    "text_renamed.xlsx": (_csv("2024-01-05,1,巨量广告,100\n"), ("file", "text_renamed.xlsx: not an Excel workbook")),
    "wrong_sheet.xlsx": (_xlsx([["姓名", "电话"], ["张三", "123"]], sheet="通讯录"),
                         ("file", "wrong_sheet.xlsx: no column for date, account_id, amount; headers are 姓名, 电话")),
    "ragged_rows.csv": (_csv("2024-01-05,1,巨量广告,100,extra,more\n"), ("file", "ragged_rows.csv: line 2 has 6 fields where the header has 4")),
    "bad_values.csv": ("日期,账户ID,平台,消耗\n2024-13-01,1,巨量广告,100\n2024-01-02,1,巨量广告,一百元\n"
                       "2024-01-03,1,巨量广告,-5\n2024-01-04,1,火星广告,10\n2024-01-05,1,巨量广告,10\n".encode(),
                       ("row", 2, "date", "not a date")),
    "bad_date.csv": (_csv("2024-13-01,1,巨量广告,100\n"), ("row", 2, "date", "not a date")),
    "month_only_date.csv": (_csv("2024-01,1,巨量广告,100\n"), ("row", 2, "date", "not a date")),
    "serial_out_of_range.csv": (_csv("99999,1,巨量广告,100\n"), ("row", 2, "date", "not a date")),
    "text_amount.csv": (_csv("2024-01-05,1,巨量广告,一百元\n"), ("row", 2, "amount", "not an amount")),
    "nan_amount.csv": (_csv("2024-01-05,1,巨量广告,NaN\n"), ("row", 2, "amount", "'amount' is empty")),
    "inf_amount.csv": (_csv("2024-01-05,1,巨量广告,inf\n"), ("row", 2, "amount", "not an amount")),
    "negative_amount.csv": (_csv("2024-01-05,1,巨量广告,-5\n"), ("row", 2, "amount", "negative amount")),
    "absurd_amount.csv": (_csv("2024-01-05,1,巨量广告,1e15\n"), ("row", 2, "amount", "amount is not a plausible spend")),
    "european_decimal.csv": ("日期;账户ID;平台;消耗\n2024-01-05;1;巨量广告;1.234,56\n".encode(),
                             ("row", 2, "amount", "looks like a European decimal comma")),
    "formula_amount.csv": (_csv("2024-01-05,1,巨量广告,=1+1\n"), ("row", 2, "amount", "not an amount")),
    "unknown_platform.csv": (_csv("2024-01-05,1,火星广告,100\n"), ("row", 2, "platform", "unknown value for 'platform'")),
    "bad_bool.csv": ("日期,账户ID,是否竞价,消耗\n2024-01-05,1,也许,100\n".encode(), ("row", 2, "bidding", "not a yes/no value")),
    "empty_account.csv": (_csv("2024-01-05,,巨量广告,100\n"), ("row", 2, "account_id", "'account_id' is empty")),
    "very_long_cell.csv": (_csv(f"2024-01-05,{'9' * 5000},巨量广告,100\n"), ("row", 2, "account_id", "text longer than 200 characters")),
    "excel_error_cells.xlsx": (_xlsx([["日期", "账户ID", "消耗"], ["2024-01-05", "1", "#DIV/0!"]]), ("row", 2, "amount", "not an amount")),
    "dates_outside_year.csv": (_csv("2023-12-31,1,巨量广告,100\n2030-01-01,1,巨量广告,100\n"),
                               ("warning", "date", "date outside the policy year 2024")),
    "duplicate_rows.csv": (_csv("2024-01-05,1,巨量广告,100\n2024-01-05,1,巨量广告,100\n"),
                           ("warning", "date", "duplicate account-day row")),
    "formula_text_cells.csv": ("日期,账户ID,客户名称,消耗\n2024-01-05,1,\"=HYPERLINK(\"\"http://x\"\",\"\"x\"\")\",100\n".encode(), ("ok", 1)),
    "nested_quotes.csv": ("日期,账户ID,客户名称,消耗\n2024-01-05,1,\"a \"\"quoted \"\"\"\"deeply\"\"\"\" nested\"\" name\",100\n".encode(), ("ok", 1)),
    "merged_header.xlsx": (_xlsx([["2024 年消耗明细", None, None], ["日期", "账户ID", "消耗"], ["2024-01-05", "1", 100]], merge="A1:C1"), ("ok", 1)),
    "utf16_unicode_text.csv": (("日期\t账户ID\t消耗\n2024-01-05\t1\t100\n").encode("utf-16"), ("ok", 1)),
    "mixed_encoding.csv": ("日期,账户ID,消耗\n".encode("utf-8") + "2024-01-05,账户一,100\n".encode("gbk"), ("file", "mixed_encoding.csv: the file is neither UTF-8 nor GBK/GB18030 text")),
}


def bad() -> None:
    BAD_DIR.mkdir(parents=True, exist_ok=True)
    for old in BAD_DIR.iterdir():
        old.unlink()
    for name, (content, _) in BAD.items():
        (BAD_DIR / name).write_bytes(content)


def outcome(path: Path) -> tuple:
    """What the readers give for a file, in the shape of BAD's expectations."""
    from core.columns import map_headers
    from core.ingest import prepare_spend, read_table
    from core.policy import load_policy
    from core.problems import InputError

    try:
        table = read_table(path.read_bytes(), path.name)
        parsed, _ = prepare_spend(table, map_headers(table.headers), load_policy())
    except InputError as exc:
        return ("file", str(exc))
    if parsed.errors:
        p = parsed.errors[0]
        return ("row", p.row, p.column, p.message)
    content = [w for w in parsed.warnings if w.code != "platform_defaulted"]  # that note is about every platform-less file
    if content:
        return ("warning", content[0].column, content[0].message)
    return ("ok", len(parsed.rows))


def table() -> str:
    lines = ["| file | what the user gets |", "|---|---|"]
    for name in BAD:
        got = outcome(BAD_DIR / name)
        if got[0] == "file":
            text = f"refused: {got[1]}"
        elif got[0] == "row":
            text = f"error at row {got[1]}, column {got[2]}: {got[3]} — nothing stored unless “valid rows only”"
        elif got[0] == "warning":
            text = f"warning (column {got[1]}): {got[2]}"
        else:
            text = f"loads ({got[1]} row); text stays text (exports neutralise formulas)"
        lines.append(f"| `{name}` | {text.replace('|', '/')} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if "--table" in sys.argv:
        print(table())
    else:
        good()
        bad()
