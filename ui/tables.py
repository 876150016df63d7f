"""Store tables as people read them: the audit log in the UI's language."""
from __future__ import annotations

import re

import pandas as pd

from core.i18n import column_label, has, localise_frame, t

IMPORTED = re.compile(r"^(?P<file>.*) \((?P<rows>\d+) rows, (?P<mode>\w+), replaced (?P<replaced>\d+)\)$")


def _field(entity: str, field: str, lang: str) -> str:
    if has(f"audit.{field}"):
        return t(f"audit.{field}", lang)
    account, _, column = field.rpartition(".")
    if entity == "classification" and account:
        return f"{account} · {column_label(column, lang)}"
    return column_label(field, lang)


def _value(value: object, lang: str) -> object:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if not isinstance(value, str):
        return value
    if has(f"audit.{value}"):
        return t(f"audit.{value}", lang)
    match = IMPORTED.match(value)
    if match:
        return t("audit.imported_detail", lang, **{**match.groupdict(), "mode": t(f"data.value.{match['mode']}", lang)})
    return value


def audit_table(log: pd.DataFrame, lang: str) -> pd.DataFrame:
    """When, who, what, which field, before and after — codes and headers translated,
    the stored values themselves (names, amounts, file names) left as they were."""
    shown = log[["at", "who", "entity", "field", "old", "new"]].copy()
    shown["at"] = pd.to_datetime(shown["at"], errors="coerce").dt.strftime("%Y-%m-%d %H:%M")  # minutes are enough; narrower on a phone
    shown["field"] = [_field(e, f, lang) for e, f in zip(shown["entity"], shown["field"])]
    for name in ("old", "new"):
        shown[name] = shown[name].map(lambda v: _value(v, lang))
    return localise_frame(shown, lang)  # entity codes become labels there
