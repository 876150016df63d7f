"""Data: upload a spend export, map its columns, read the validation report, import
(replace or append), undo a batch, and classify the accounts."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from core.accounts import accounts_of_upload
from core.columns import IGNORE, HeaderMapping, layout_key, map_headers
from core.export import csv_bytes
from core.i18n import catalogue, localise, localise_frame, report_frame, t, value_label
from core.ingest import RawTable, canonical_cells, missing_columns, prepare_spend, read_table
from core.policy import BUSINESS_MODELS, INDUSTRY_CLASSES
from core.problems import InputError
from core.spend import (
    AD_MODELS,
    NETWORKS,
    PLACEMENTS,
    PLATFORMS,
    SPECIALS,
    SPEND_FIELDS,
    SpendParse,
)
from services import Database, WriteRefused
from services import spend as use
from ui.caches import engine
from ui.context import PageContext, page_start
from ui.session import try_write, user_email, user_team, write_failure
from ui.text import plain

MAX_MAPPED_SHOWN = 30  # a header of 20,000 columns must not draw 20,000 widgets; the rest stay ignored
TARGETS = [IGNORE, "date", "account_id", "account_name", *[f for f in SPEND_FIELDS if f not in ("date", "account_id")],
           "funding:cash", "funding:grant", "funding:return", "cash_part"]
CHOICES = {"platform": PLATFORMS, "network": NETWORKS, "placement": PLACEMENTS, "industry_class": INDUSTRY_CLASSES,
           "business_model": BUSINESS_MODELS, "ad_model": AD_MODELS, "special": ("", *SPECIALS)}


@st.cache_data(show_spinner=False, max_entries=8)
def read_upload(data: bytes, name: str, sheet: str | None = None) -> RawTable:
    return read_table(data, name, sheet=sheet)


def _current_target(mapping: HeaderMapping, col: str) -> str:
    """What a column feeds now: a field, 'funding:<source>', 'cash_part', or IGNORE."""
    for f, c in mapping.fields.items():
        if c == col:
            return f
    for f, c in mapping.funding_columns.items():
        if c == col:
            return f"funding:{f}"
    return "cash_part" if col in mapping.cash_parts else IGNORE


def column_choices(table: RawTable, auto: HeaderMapping, remembered: dict[str, str] | None, L: str) -> dict[str, str]:
    """One select box per shown column, preset to what it maps to now, with a sample of its cells."""
    shown = table.headers[:MAX_MAPPED_SHOWN]
    if len(table.headers) > len(shown):
        st.caption(t("data.mapping_more", L, n=f"{len(table.headers) - len(shown):,}"))
    chosen = dict(remembered or {})
    cols = st.columns(3)
    for i, col in enumerate(shown):
        sample = ", ".join(str(v) for v in table.cells[col].head(3).tolist())
        current = _current_target(auto, col)
        chosen[col] = cols[i % 3].selectbox(
            plain(col), TARGETS, index=TARGETS.index(current) if current in TARGETS else 0,
            key=f"map_{layout_key(table.headers)}_{col}", help=f"{t('data.sample', L)}: {plain(sample)}",
            format_func=lambda target: target_label(target, L),
        )
    return chosen


def mapping_step(db: Database, table: RawTable, remembered: dict[str, str] | None, L: str) -> HeaderMapping:
    """Every column can be re-mapped or ignored, auto-mapped or not (a header the table maps
    wrongly — 广告类型, 投放平台, a v3 report's platform = ANDROID/IOS — is un-mapped here),
    with a preview of the first rows as they will be read. Open when something is missing."""
    auto = map_headers(table.headers, remembered)
    with st.expander(t("data.mapping", L), expanded=bool(auto.unmapped or missing_columns(auto))):
        st.caption(t("data.mapping_help", L))
        chosen = column_choices(table, auto, remembered, L)
        mapping = map_headers(table.headers, chosen)
        if "platform" not in mapping.fields:
            st.selectbox(t("data.file_platform", L), ["", *PLATFORMS], key="file_platform",
                         format_func=lambda v: t("data.file_platform.by_account", L) if v == "" else v)
        if st.button(t("data.remember_mapping", L)):
            use.remember_mapping(db, table.headers, chosen, user_team())
            st.toast(t("data.mapping_saved", L))
    return mapping


def target_label(target: str, L: str) -> str:
    """A mapping target in the UI's language: 'amount' -> 消耗金额, 'funding:grant' -> 赠款消耗."""
    for key in (f"data.target.{target.replace(':', '_')}", f"data.col.{target}"):
        if key in catalogue():
            return t(key, L)
    return target


def choice_label(column: str, code: str, L: str) -> str:
    """'B1 · 食品饮料…': the code the contract uses, and what it means in the UI's language."""
    label = value_label(column, code, L)
    return code if label == code else (f"{code} · {label}" if column == "industry_class" else label)


def preview(rows: pd.DataFrame, L: str) -> None:
    """The first rows as they will be stored: canonical values, amounts in RMB."""
    cols = [c for c in ("date", "account_id", "platform", "network", "placement", "funding", "amount_fen") if c in rows]
    shown = localise_frame(rows.head(8)[cols].assign(date=lambda r: r["date"].dt.date), L)
    st.caption(t("data.preview", L))
    st.dataframe(shown, hide_index=True, width="stretch")


def read_with_sheet(data: bytes, name: str, L: str) -> RawTable:
    """The uploaded table; a workbook may be read from another sheet than the one chosen for the user."""
    chosen_for, chosen_sheet = st.session_state.get("upload_sheet", (None, None))
    table = read_upload(data, name, chosen_sheet if chosen_for == name else None)
    if len(table.sheets) > 1:
        first = table.sheet.split(", ")[0]
        picked = st.selectbox(t("data.sheet", L), table.sheets, index=table.sheets.index(first),
                              key="upload_sheet_pick")  # options are plain text, never markdown
        if picked != first:
            st.session_state["upload_sheet"] = (name, picked)
            table = read_upload(data, name, picked)
    return table


def validation_report(parsed: SpendParse, client_id: int, L: str) -> None:
    """Rows read, errors and warnings, a preview and the downloadable report."""
    c1, c2, c3 = st.columns(3)
    c1.metric(t("data.rows_read", L), f"{parsed.rows_read:,}")
    c2.metric(t("data.errors", L), f"{len(parsed.errors):,}")
    c3.metric(t("data.warnings", L), f"{len(parsed.warnings):,}")
    if not parsed.rows.empty:
        preview(parsed.rows, L)
    if parsed.problems:
        report = report_frame(parsed.problems, L)
        st.dataframe(report.head(500), hide_index=True, width="stretch")
        st.download_button(t("data.download_report", L), csv_bytes(report), file_name="validation_report.csv", mime="text/csv")
        st.session_state["last_validation_report"] = (client_id, report)  # only this client's export may show it


def import_step(db: Database, ctx: PageContext, upload: UploadedFile, data: bytes, table: RawTable, mapping: HeaderMapping,
                prepared: tuple[SpendParse, pd.DataFrame, pd.DataFrame]) -> None:
    """Replace or append, then import the valid rows with their new accounts in one write."""
    L, client = ctx.lang, ctx.client
    parsed, given, saved = prepared
    overlap = use.overlapping_rows(db, client.id, parsed.rows)
    mode = "replace"
    if overlap:
        mode = st.radio(t("data.overlap", L, n=f"{overlap:,}"), ["replace", "append"], horizontal=True,
                        format_func=lambda m: t(f"data.mode.{m}", L))
    valid_only = st.checkbox(t("data.valid_only", L, n=f"{len(parsed.rows):,}")) if parsed.errors else True
    if not st.button(t("data.import", L), type="primary", disabled=not valid_only or parsed.rows.empty):
        return
    cells = canonical_cells(table, mapping)[0]
    new_accounts = accounts_of_upload(parsed.rows, given, cells, saved if len(saved) else None)
    new_accounts = new_accounts[~new_accounts["account_id"].isin(saved["account_id"])]
    bar = st.progress(0.0, text=t("data.importing", L))
    result = use.import_spend(db, client.id, client.version, upload.name, data, parsed.rows, given, mode, user_email(),
                              progress=lambda done, total: bar.progress(done / total, text=t("data.importing", L)),
                              new_accounts=new_accounts, warnings=len(parsed.warnings), headers=table.headers)
    # Every control is rebuilt from the stored client (new version); the uploader is emptied.
    st.session_state["_flash"] = ("success" if result.status == "imported" else "info", result.message)
    st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
    st.session_state.pop("data_editor", None)
    st.rerun()


def upload_step(db: Database, ctx: PageContext, upload: UploadedFile) -> None:
    """Read, map, validate and import one upload; a bad file or a refused write is one message."""
    L = ctx.lang
    data = upload.getvalue()
    try:
        table = read_with_sheet(data, upload.name, L)
        mapping = mapping_step(db, table, use.recalled_mapping(db, table.headers, user_team()), L)
        with st.spinner(t("data.validating", L)):
            saved = use.classification(db, ctx.client.id)
            platform = st.session_state.get("file_platform")
            file_values = {"platform": platform} if "platform" not in mapping.fields and platform else None
            parsed, given = prepare_spend(table, mapping, ctx.policy, saved if len(saved) else None, file_values=file_values)
        validation_report(parsed, ctx.client.id, L)
        import_step(db, ctx, upload, data, table, mapping, (parsed, given, saved))
    except InputError as exc:
        st.error(plain(localise(exc.problems[0], L)))
    except WriteRefused as exc:
        st.warning(write_failure(exc, L))


def batches_section(db: Database, ctx: PageContext) -> None:
    """The import batches, newest first, and undo of an active one."""
    L, client = ctx.lang, ctx.client
    st.subheader(t("data.batches", L))
    batches = use.batches(db, client.id)
    if batches.empty:
        st.info(t("data.no_batches", L))
        return
    cols = ["id", "file_name", "row_count", "replaced_rows", "mode", "status", "created_at"]
    shown = batches[cols].assign(mode=batches["mode"].map(lambda m: t(f"data.value.{m}", L)),
                                 status=batches["status"].map(lambda v: t(f"data.value.{v}", L)))
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config={c: st.column_config.Column(t(f"data.col.{c}", L)) for c in cols})
    active = batches[batches["status"] == "active"].set_index("id")  # newest first: the latest import is preselected
    if not len(active):
        return
    col1, col2 = st.columns([3, 1])
    undo_id = col1.selectbox(t("data.undo_which", L), active.index.tolist(), key="undo_batch", format_func=lambda i: t(
        "data.batch_label", L, id=i, file=active.at[i, "file_name"], rows=f"{int(active.at[i, 'row_count']):,}",
        at=f"{pd.Timestamp(active.at[i, 'created_at']):%Y-%m-%d %H:%M}"))
    if col2.button(t("data.undo", L)):
        save(lambda: use.undo_batch(db, client.id, client.version, int(undo_id), user_email()), L)


def save(write: Callable[[], object], L: str, toast: Callable[[object], str] | None = None) -> None:
    """One write, then the page again from the stored client; a refused one is a warning."""
    ok, done = try_write(write, L)
    if not ok:
        return
    if toast is not None:
        st.toast(toast(done))
    st.rerun()


def bulk_edit(db: Database, ctx: PageContext, classes: pd.DataFrame) -> None:
    """One value for many accounts at once."""
    L, client = ctx.lang, ctx.client
    field = st.selectbox(t("data.bulk_field", L), list(CHOICES), format_func=lambda c: t(f"data.col.{c}", L),
                         key="bulk_field")  # outside the form: its choices set the values offered below
    with st.form("bulk_classification", border=False):
        names = dict(zip(classes["account_id"], classes["account_name"] if "account_name" in classes else classes["account_id"]))
        picked = st.multiselect(t("data.bulk_accounts", L), list(names),
                                format_func=lambda a: f"{a} · {names[a]}" if names[a] and names[a] != a else str(a))
        value = st.selectbox(t("data.bulk_value", L), list(CHOICES[field]), format_func=lambda v: choice_label(field, v, L) or "—")
        if st.form_submit_button(t("data.bulk_apply", L), type="primary") and picked:
            bulk = classes.copy()
            bulk.loc[bulk["account_id"].isin(picked), field] = value

            def write() -> int:
                n = use.save_classification(db, client.id, client.version, bulk, user_email())
                st.session_state.pop("data_editor", None)  # the grid shows the stored codes, not its old edits
                return n

            save(write, L, lambda n: t("data.classification_saved", L, n=n))


def classification_editor(classes: pd.DataFrame, L: str) -> pd.DataFrame:
    SC = st.column_config.SelectboxColumn
    return st.data_editor(
        classes,
        key="data_editor",
        hide_index=True,
        width="stretch",
        disabled=["account_id", "data_end"],
        column_config={
            **{c: st.column_config.Column(t(f"data.col.{c}", L)) for c in classes.columns},
            **{name: SC(t(f"data.col.{name}", L), options=list(options), required=name != "special",
                        format_func=lambda v, c=name: choice_label(c, v, L))
               for name, options in CHOICES.items()},
            "bidding": st.column_config.CheckboxColumn(t("data.col.bidding", L)),
            "via_party_b": st.column_config.CheckboxColumn(t("data.col.via_party_b", L)),
        },
    )


def classification_section(db: Database, ctx: PageContext) -> None:
    """Each account's contract codes, editable one by one or in bulk."""
    L, client = ctx.lang, ctx.client
    st.subheader(t("data.classification", L))
    st.caption(t("data.classification_help", L))
    classes = use.classification(db, client.id)
    if classes.empty:
        st.info(t("data.no_accounts", L))
        return
    last_day = client.spend.groupby("account_id")["date"].max() if len(client.spend) else pd.Series(dtype="datetime64[ns]")
    classes.insert(1, "data_end", classes["account_id"].map(last_day).dt.date)  # each account's last day of data (read-only)
    with st.expander(t("data.bulk", L)):
        bulk_edit(db, ctx, classes)
    edited = classification_editor(classes, L)
    if st.button(t("data.save_classification", L), type="primary", disabled=edited.equals(classes)):
        save(lambda: use.save_classification(db, client.id, client.version, edited, user_email()), L,
             lambda n: t("data.classification_saved", L, n=n))


def main() -> None:
    ctx = page_start("data.heading", needs_spend=False)
    db = engine()
    if "_flash" in st.session_state:
        kind, message = st.session_state.pop("_flash")
        (st.success if kind == "success" else st.info)(plain(message))
    upload = st.file_uploader(t("data.upload", ctx.lang), type=["csv", "tsv", "txt", "xlsx", "xls"],
                              help=t("data.upload_help", ctx.lang), key=f"upload_{st.session_state.get('upload_round', 0)}")
    if upload is not None:
        upload_step(db, ctx, upload)
    batches_section(db, ctx)
    classification_section(db, ctx)


main()
