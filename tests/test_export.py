"""Exports: the workbook opens with openpyxl, holds every table, and no cell is a formula."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from core.evaluation import evaluate
from core.export import (
    csv_bytes,
    export_sheets,
    neutralise,
    sheet_names,
    workbook_bytes,
)
from core.i18n import t
from core.outlook import outlook
from tests.conftest import demo_scenario


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_no_text_can_start_a_formula(text):
    out = neutralise(text)
    assert not str(out).startswith(("=", "+", "-", "@", "\t", "\r"))
    assert out == text or out == "'" + text


def test_workbook_has_every_sheet_and_hostile_names_stay_text():
    s = demo_scenario()
    day = dt.date(2024, 9, 15)
    result = evaluate(s.spend, s.terms, s.policy, day)
    view = outlook(s.spend[s.spend["date"] <= pd.Timestamp(day)], s.terms, s.policy, day, paths=300)
    report = pd.DataFrame({"message": ["=HYPERLINK(\"http://x\",\"click\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]})
    sheets = export_sheets("=evil()", {"target_amount": 50000000}, result, s.policy, "zh", view, report)
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(sheets)))
    assert book.sheetnames == ["输入", "假设", "季度", "结果", "预测", "仍需消耗", "返货余额", "预测记录", "校验报告"]
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    assert book["输入"]["B2"].value == "'=evil()"
    assert book["校验报告"]["A2"].value.startswith("'=")
    assert book["季度"]["B2"].value == result.pre_return_fen[0] / 100
    assert [c.value for c in book["季度"][1]] == ["季度", "预返", "已充值"]
    assert csv_bytes(report).decode("utf-8-sig").splitlines()[1].startswith("\"'=HYPERLINK")


def test_every_sheet_name_and_header_of_a_chinese_export_is_chinese():
    from tests.ui_text import english_words

    s = demo_scenario()
    day = dt.date(2024, 9, 15)
    rows = s.spend[s.spend["date"] <= pd.Timestamp(day)]
    result = evaluate(rows, s.terms, s.policy, day)
    view = outlook(rows, s.terms, s.policy, day, paths=300)
    report = pd.DataFrame({"severity": ["warning"], "source": ["f.csv"], "row": [2], "column": ["金额"], "value": ["x"], "message": ["…"]})
    sheets = export_sheets("客户", {"target_amount": 50000000, "customer_type": "regular"}, result, s.policy, "zh", view, report)
    assert list(sheets) == sheet_names("zh", projected=True, report=True)  # the page's CSV picker, without building
    assert list(export_sheets("c", {}, result, s.policy, "en")) == sheet_names("en", projected=False, report=False)
    for name, frame in sheets.items():
        assert not english_words(name), name
        for header in frame.columns:
            assert not english_words(str(header)), (name, header)
    labels = sheets["结果"].iloc[:, 0].tolist() + sheets["预测"].iloc[:, 1].tolist()
    assert not [w for label in labels for w in english_words(str(label))]
    assert sheets["校验报告"].iloc[0, 0] == "警告"
    inputs = dict(zip(sheets["输入"].iloc[:, 0], sheets["输入"].iloc[:, 1]))
    assert inputs[t("col.customer_type", "zh")] == "老客户"  # category inputs as on the page, not codes
