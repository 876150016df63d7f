"""Every piece of text an AppTest run shows a user: labels, values, help, options, table
headers and text cells, alert texts and the Plotly figures' titles, axes, legends and ticks —
so a test can check the 中文 UI is Chinese everywhere."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pandas as pd

# Codes, units and names that are English in a Chinese UI too (the contract and the platforms use them).
ALLOWED = {
    "RMB", "CSV", "Excel", "PNG", "PDF", "ETS", "KOL", "CSJ", "API", "SDK", "ID", "demo", "Language", "English",
    "P5", "P10", "P50", "P90", "P95", "Q1", "Q2", "Q3", "Q4", "H1", "A", "B1", "B2", "C1", "C2", "D", "E1", "E2",
    "LOCAL", "TOML", "xlsx", "XLSX", "csv", "parquet", "Parquet", "DOU", "README", "json", "toml", "UTF", "GBK", "Ocean", "Engine", "Qianchuan", "OESA", "Xingtu",
    "Top", "Max", "vs",
}
# Widgets whose `value` is the chosen code, not text the user reads (their options are read instead).
WIDGETS = {"selectbox", "radio", "multiselect", "select_slider", "number_input", "date_input", "checkbox", "toggle",
           "slider", "time_input", "color_picker", "text_area", "text_input"}
WORD = re.compile(r"(?<![A-Za-z0-9_.%/@-])[A-Za-z][A-Za-z]+(?:[-_][A-Za-z]+)*")


def _figure_texts(spec: str) -> Iterator[str]:
    fig = json.loads(spec)
    layout = fig.get("layout", {})
    title = layout.get("title")
    yield title.get("text", "") if isinstance(title, dict) else str(title or "")
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            t = axis.get("title")
            yield t.get("text", "") if isinstance(t, dict) else str(t or "")
            yield from (str(v) for v in axis.get("ticktext", []) or [])
    for trace in fig.get("data", []):
        yield str(trace.get("name", "") or "")
        for key in ("x", "y", "text"):
            values = trace.get(key)
            if isinstance(values, list):
                yield from (v for v in values if isinstance(v, str) and not re.fullmatch(r"[\d\-: .T]+", v))


def _frame_texts(frame: pd.DataFrame, config: str) -> Iterator[str]:
    """Headers and text cells as shown: a column_config label replaces the header, and a
    selectbox column shows its options' labels instead of the stored codes."""
    columns = json.loads(config) if config else {}
    for col in frame.columns:
        conf = columns.get(str(col), {})
        yield conf.get("label", str(col))
        options = {(o.get("value"), o.get("label", o.get("value"))) if isinstance(o, dict) else (o, o)
                   for o in conf.get("type_config", {}).get("options", [])}
        options = dict(options)
        if frame[col].dtype == object:
            yield from (str(options.get(v, v)) for v in frame[col].dropna().unique()[:200])
        yield from (str(o) for o in options.values())
    if frame.index.dtype == object:
        yield from (str(i) for i in frame.index)


def texts(node) -> Iterator[str]:
    """Depth-first over an AppTest element tree."""
    kind = getattr(node, "type", "")
    if kind == "plotly_chart":
        yield from _figure_texts(node.proto.spec)
    elif kind in ("dataframe", "table"):
        yield from _frame_texts(node.value, getattr(node.proto, "columns", ""))
    elif kind not in ("html", "block", "root", "main", "sidebar", "event", "column", "flex_container", "form"):
        shown = ("label", "help", "placeholder") if kind in WIDGETS else ("label", "value", "help", "placeholder", "body")
        for attr in shown:
            value = getattr(node, attr, None)
            if isinstance(value, str):
                yield value
        proto = getattr(node, "proto", None)
        if proto is not None and getattr(proto, "help", ""):
            yield proto.help
        for option in getattr(node, "options", []) or []:
            yield str(option)
    for child in getattr(node, "children", {}).values():
        yield from texts(child)


FILE_NAME = re.compile(r"[\w\\.\-]+\.(?:csv|tsv|txt|xlsx|xls|parquet|json)\b", re.IGNORECASE)


def english_words(text: str, also_allowed: set[str] = frozenset()) -> list[str]:
    """ASCII words of a text that are neither allowed codes nor part of user data (file names included)."""
    return [w for w in WORD.findall(FILE_NAME.sub(" ", text)) if w not in ALLOWED and w not in also_allowed]
