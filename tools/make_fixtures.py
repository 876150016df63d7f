"""Write the spend-file fixtures corpus (tests/fixtures/good, tests/fixtures/bad).

Run: python -m tools.make_fixtures. Each file imitates a real export: Ocean Engine
reports in GBK with a title line, fund statements split by funding, XLSX with a notes
sheet, and the usual broken files. tests/test_ingest.py states what each must give.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
GOOD, BAD = ROOT / "good", ROOT / "bad"


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


def bad() -> None:
    BAD.mkdir(parents=True, exist_ok=True)
    (BAD / "empty.csv").write_bytes(b"")
    (BAD / "header_only.csv").write_text("日期,账户ID,消耗\n", encoding="utf-8")
    (BAD / "no_amount.csv").write_text("日期,账户ID,备注\n2024-01-05,1,x\n", encoding="utf-8")
    (BAD / "bad_values.csv").write_text(
        "日期,账户ID,平台,消耗\n2024-13-01,1,巨量广告,100\n2024-01-02,1,巨量广告,一百元\n"
        "2024-01-03,1,巨量广告,-5\n2024-01-04,1,火星广告,10\n2024-01-05,1,巨量广告,10\n",
        encoding="utf-8",
    )
    (BAD / "binary.csv").write_bytes(bytes(range(128, 256)) * 4)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    (BAD / "zip_renamed.xlsx").write_bytes(buf.getvalue())
    with pd.ExcelWriter(BAD / "wrong_sheet.xlsx", engine="xlsxwriter") as xl:
        pd.DataFrame({"姓名": ["张三"], "电话": ["123"]}).to_excel(xl, sheet_name="通讯录", index=False)


if __name__ == "__main__":
    good()
    bad()
