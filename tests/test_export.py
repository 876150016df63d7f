"""Exports: the workbook opens with openpyxl, holds every table, and no cell is a formula."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from core.evaluation import evaluate
from core.export import csv_bytes, export_sheets, neutralise, workbook_bytes
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
    assert book.sheetnames == ["Inputs", "Assumptions", "Quarterly", "Result", "Projection", "Required spend",
                               "Balances", "Track record", "Validation report"]
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    assert book["Inputs"]["B2"].value == "'=evil()"
    assert book["Validation report"]["A2"].value.startswith("'=")
    assert book["Quarterly"]["B2"].value == result.pre_return_fen[0] / 100
    assert csv_bytes(report).decode("utf-8-sig").splitlines()[1].startswith("\"'=HYPERLINK")
