"""Exports: the workbook (inputs, assumptions, quarterly ledger, projections, balances,
validation report) and CSVs, with spreadsheet formula injection neutralised.

Why neutralise: a customer or account name like "=HYPERLINK(...)" or "+cmd|..." from an
upload must never become a live formula in a finance user's Excel.
"""
from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd

from .evaluation import Evaluation
from .i18n import column_label, has, localise_frame, t, value_label
from .money import fen_to_yuan
from .outlook import Outlook
from .policy import QUARTERS, Policy

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out


def sheet_names(lang: str, projected: bool, report: bool) -> list[str]:
    """The workbook's sheet names in order, without building it (the page's CSV picker)."""
    names = ["Inputs", "Assumptions", "Quarterly", "Result"]
    names += ["Projection", "Required spend", "Balances", "Track record"] if projected else []
    names += ["Validation report"] if report else []
    return [t(f"sheet.{name}", lang) for name in names]


def export_sheets(client_name: str, inputs: dict[str, Any], evaluation: Evaluation, policy: Policy, lang: str,
                  outlook: Outlook | None = None, problems: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The tables of the workbook, in money units of RMB (2 decimals)."""
    e = evaluation.to_dict(policy)
    sheets: dict[str, pd.DataFrame] = {
        "Inputs": pd.DataFrame([("client", client_name), ("policy", policy.name), ("as_of", e["as_of"])]
                               + [(k, json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v) for k, v in inputs.items()],
                               columns=["input", "value"]),
        "Assumptions": pd.DataFrame({"assumption": evaluation.assumptions(policy, lang)}),
        "Quarterly": pd.DataFrame({
            "quarter": list(QUARTERS),
            "pre_return": [fen_to_yuan(v) for v in evaluation.pre_return_fen],
            "credited": [fen_to_yuan(v) for v in evaluation.credited_fen] + [None],
        }),
        "Result": pd.DataFrame([(k, v) for k, v in e.items() if not isinstance(v, (dict, list))], columns=["field", "value"]),
    }
    if outlook is not None:
        d = outlook.to_dict()
        sheets["Projection"] = pd.DataFrame(
            [("probability", group, k, v) for group, table in d["probabilities"].items() for k, v in table.items()]
            + [("distribution", name, k, v) for name, table in d["distributions"].items() for k, v in table.items()],
            columns=["kind", "measure", "statistic", "value"])
        sheets["Required spend"] = pd.DataFrame(d["required_spend"])
        sheets["Balances"] = pd.DataFrame(d["ledger"])
        sheets["Track record"] = outlook.track_record
    if problems is not None and len(problems):
        sheets["Validation report"] = problems
    return {t(f"sheet.{name}", lang): _localised(frame, lang) for name, frame in sheets.items()}


def negotiation_sheets(client_name: str, contract: str, settings: dict[str, Any], table: pd.DataFrame, lang: str) -> dict[str, pd.DataFrame]:
    """Next year's negotiation as a workbook: its settings (money in RMB) and one row per
    candidate target (probabilities as fractions, money in RMB rounded once to the fen)."""
    rows: list[tuple[str, object]] = [("client", client_name), ("policy", contract)]
    for key, value in settings.items():
        money = key.endswith("_fen")
        rows.append((key[:-4] if money else key, fen_to_yuan(int(round(value))) if money else value))
    candidates = table.copy()
    for name in [c for c in candidates.columns if c.endswith("_fen")]:
        candidates[name] = candidates[name].round().astype("int64")
    return {t("sheet.Inputs", lang): _localised(pd.DataFrame(rows, columns=["input", "value"]), lang),
            t("sheet.Candidates", lang): localise_frame(candidates, lang)}


def _input_value(name: str, value: object, lang: str) -> object:
    if name == "main_industry" and has(f"industry.{value}"):
        return t(f"industry.{value}", lang)
    return value_label(name, value, lang) if name == "customer_type" else value


def _localised(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Headers, names in the field/measure/statistic columns and outcome values in the
    user's language (the workbook is read by the same people as the pages)."""
    out = frame.copy()
    if {"input", "value"} <= set(out.columns):  # the Inputs sheet: category inputs read as on the page
        out["value"] = [_input_value(str(k), v, lang) for k, v in zip(out["input"], out["value"])]
    for name in ("input", "field", "measure", "statistic"):
        if name in out:
            out[name] = out[name].map(lambda v: column_label(str(v), lang))
    if "value" in out:
        out["value"] = out["value"].map(lambda v: t(f"outcome.{v}", lang) if isinstance(v, str) and has(f"outcome.{v}") else v)
    return localise_frame(out, lang)


def workbook_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx with one neutralised sheet per table."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}}) as xl:
        for name, frame in sheets.items():
            safe_frame(frame).to_excel(xl, sheet_name=name[:31], index=False)
    return buf.getvalue()


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM so Excel opens Chinese text correctly; formulas neutralised."""
    return safe_frame(frame).to_csv(index=False).encode("utf-8-sig")
