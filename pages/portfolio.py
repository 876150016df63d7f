"""Portfolio: every client of the agency at the evaluation date, from one clients file and
one spend file — finance's quarter-end preview. Risk red/amber/green, sortable, and any
client opens in the dashboard with its rows and terms."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.export import csv_bytes, workbook_bytes
from core.i18n import fmt_money, fmt_pct, localise, report_frame, t
from core.policy import Policy
from core.portfolio import PortfolioClient, PortfolioRun, client_rows, project_portfolio
from core.problems import InputError
from core.spend import SPEND_FIELDS, SpendParse
from services.clients import demo_portfolio_files, open_portfolio_client
from ui.caches import cached_portfolio_files, cached_portfolio_run, engine, policy_of
from ui.context import bare_page_start
from ui.figures import risk_figure
from ui.session import as_of, current_client, user_email, user_team
from ui.text import plain

RISK_COLOR = {"red": "#f8d0d0", "amber": "#fde3b8", "green": "#d4edd4"}  # cell backgrounds (emoji fonts are not everywhere)
MONEY_COLUMNS = ("target", "actual", "credited", "expiring", "deposit", "deducted")


@dataclass(frozen=True)
class Upload:
    """The clients and spend files (uploaded, or the demo), keyed by their SHA-256."""

    clients_data: bytes
    clients_name: str
    spend_data: bytes
    spend_name: str

    @property
    def spend_sha(self) -> str:
        return hashlib.sha256(self.spend_data).hexdigest()  # also the import batch's hash when a client is opened

    @property
    def key(self) -> str:
        return hashlib.sha256(self.clients_data).hexdigest() + self.spend_sha


def uploads(L: str) -> Upload:
    c1, c2 = st.columns(2)
    clients_up = c1.file_uploader(t("portfolio.clients_file", L), type=["csv", "xlsx"], key="pf_clients",
                                  help=t("portfolio.clients_help", L))
    spend_up = c2.file_uploader(t("portfolio.spend_file", L), type=["csv", "xlsx", "parquet"], key="pf_spend",
                                help=t("portfolio.spend_help", L))
    if clients_up is not None and spend_up is not None:
        return Upload(clients_up.getvalue(), clients_up.name, spend_up.getvalue(), spend_up.name)
    st.info(t("portfolio.demo_note", L))
    return Upload(*demo_portfolio_files())


def read(files: Upload, policy: Policy, L: str) -> tuple[list[PortfolioClient], SpendParse]:
    """Both files parsed; a bad cell or any spend row error stops the page with the report."""
    try:
        with st.spinner(t("portfolio.reading", L)):
            clients, spend = cached_portfolio_files(files.key, files.clients_data, files.clients_name, files.spend_data,
                                                    files.spend_name, policy.name)
    except InputError as err:
        st.error(plain(localise(err.problems[0], L)))
        st.stop()
    if spend.errors:
        st.error(t("portfolio.spend_errors", L, n=len(spend.errors), file=plain(files.spend_name)))
        st.dataframe(report_frame(spend.errors[:500], L), hide_index=True)
        st.stop()
    return clients, spend


def with_projections(run: PortfolioRun, files: Upload, clients: list[PortfolioClient], spend: SpendParse, policy: Policy,
                     day: dt.date, L: str) -> PortfolioRun:
    """Monte Carlo on request (~0.1 s a client, with progress), kept for this upload and date."""
    proj_key = (files.key, day)
    projections = st.session_state.get("pf_projections", {}).get(proj_key)
    if day < policy.year_end and projections is None and st.button(t("portfolio.project", L, n=len(clients)), key="pf_project"):
        bar = st.progress(0.0, text=t("portfolio.projecting", L))
        projections = project_portfolio(
            spend.rows, clients, policy, day,
            progress=lambda done, total, name: bar.progress(done / total, text=f"{t('portfolio.projecting', L)} {done}/{total} · {plain(name)}"),
            actual=run.totals,
        )
        bar.empty()
        st.session_state.setdefault("pf_projections", {})[proj_key] = projections
    return run if projections is None else run.with_projections(projections, policy)


def metrics(table: pd.DataFrame, L: str) -> None:
    risk_counts = table["risk"].value_counts()
    m = st.columns(5)
    m[0].metric(t("portfolio.clients", L), f"{len(table)}")
    m[1].metric(t("portfolio.red", L), int(risk_counts.get("red", 0)))
    m[2].metric(t("portfolio.amber", L), int(risk_counts.get("amber", 0)))
    m[3].metric(t("portfolio.expiring", L), fmt_money(int(table["expiring_30d_fen"].sum()), L))
    if "deposit_at_risk_fen" in table:
        m[4].metric(t("portfolio.deposit_at_risk", L), fmt_money(int(table["deposit_at_risk_fen"].sum()), L))
        return
    deducted = table["deposit_deducted_fen"].dropna()
    m[4].metric(t("portfolio.deposit_deducted", L), fmt_money(int(deducted.sum()), L) if len(deducted) else "—",
                help=t("portfolio.deposit_help", L))


def shown_table(table: pd.DataFrame, L: str) -> pd.DataFrame:
    """The portfolio in the UI's language, RMB (not fen) in the money columns."""
    view = pd.DataFrame({
        t("portfolio.col.risk", L): table["risk"].map(lambda r: t(f"portfolio.risk.{r}", L)),
        t("portfolio.col.why", L): table["reasons"].map(lambda codes: "; ".join(t(f"portfolio.why.{c}", L) for c in codes)),
        t("portfolio.col.client", L): table["client"],
        t("portfolio.col.name", L): table["name"],
        t("portfolio.col.data_end", L): table["data_end"],
        t("portfolio.col.completion", L): table["completion_rate"] * 100,
        t("portfolio.col.a630", L): table["assessment_630"].map(lambda v: t(f"outcome.{v}", L)),
        t("portfolio.col.a930", L): table["assessment_930"].map(lambda v: t(f"outcome.{v}", L)),
        **{t(f"portfolio.col.{c}", L): table[f"{f}_fen"] / 100 for c, f in (
            ("target", "target"), ("actual", "actual"), ("credited", "credited"), ("expiring", "expiring_30d"),
            ("deposit", "deposit"), ("deducted", "deposit_deducted"))},
    })
    if "p_target_met" in table:
        view[t("portfolio.col.p_target", L)] = table["p_target_met"] * 100
        view[t("portfolio.col.at_risk", L)] = table["deposit_at_risk_fen"] / 100
    return view


def column_config(L: str) -> dict[str, object]:
    config: dict[str, object] = {t(f"portfolio.col.{c}", L): st.column_config.NumberColumn(format="%,.2f")
                                 for c in (*MONEY_COLUMNS, "at_risk")}
    config[t("portfolio.col.why", L)] = st.column_config.TextColumn(width="medium")  # the whole text on hover
    config[t("portfolio.col.completion", L)] = st.column_config.ProgressColumn(format="%.1f%%", min_value=0, max_value=120)
    config[t("portfolio.col.p_target", L)] = st.column_config.NumberColumn(format="%.0f%%")
    return config


def table_section(table: pd.DataFrame, day: dt.date, L: str) -> tuple[pd.Index, list[int], DeltaGenerator]:
    """The sortable risk table (red first), its exports above it, and the row the user picked."""
    view = shown_table(table, L)
    order = table.assign(_r=table["risk"].map({"red": 0, "amber": 1, "green": 2})).sort_values(["_r", "completion_rate"]).index
    risk_of = {t(f"portfolio.risk.{r}", L): c for r, c in RISK_COLOR.items()}
    shown = view.loc[order]
    styled = shown.style.map(lambda v: f"background-color: {risk_of.get(v, '')}", subset=[t("portfolio.col.risk", L)])
    bar = st.columns([3, 1, 1], vertical_alignment="bottom")  # open and export sit above the table, never below the fold
    bar[1].download_button(t("export.excel", L), lambda: workbook_bytes({t("sheet.Portfolio", L): shown}),
                           file_name=f"portfolio_{day:%Y%m%d}.xlsx", key="pf_xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    bar[2].download_button(t("export.csv", L), lambda: csv_bytes(shown), file_name=f"portfolio_{day:%Y%m%d}.csv",
                           mime="text/csv", key="pf_csv")
    picked = st.dataframe(styled, hide_index=True, width="stretch", column_config=column_config(L), height=420,
                          on_select="rerun", selection_mode="single-row", key="pf_table")
    st.caption(t("portfolio.table_hint", L))
    return order, (picked.selection.rows if picked is not None else []), bar[0]


def open_button(place: DeltaGenerator, chosen: PortfolioClient, spend: SpendParse, files: Upload, policy: Policy,
                day: dt.date, L: str) -> None:
    """Open the picked client in the dashboard with its rows and terms."""
    if place.button(t("portfolio.open", L, name=plain(chosen.name)), type="primary", key="pf_open"):
        st.session_state["_select_client"] = open_portfolio_client(
            engine(), f"{chosen.name} ({chosen.client})", chosen.inputs, client_rows(spend.rows, chosen.client), files.spend_name,
            files.spend_sha, [f for f in SPEND_FIELDS if f != "amount"], day, policy.name, user_team(), user_email())
        st.switch_page("pages/overview.py")


def main() -> None:
    L = bare_page_start("portfolio.heading")
    policy = policy_of(current_client())
    day = as_of(current_client())
    st.caption(t("portfolio.intro", L, date=day.isoformat()))
    files = uploads(L)
    clients, spend = read(files, policy, L)
    with st.spinner(t("portfolio.evaluating", L, n=len(clients))):
        run = cached_portfolio_run(files.key, clients, spend, policy.name, day)
    if run.unknown_clients:
        st.warning(t("portfolio.unknown_clients", L, ids=plain(", ".join(run.unknown_clients[:10])), n=len(run.unknown_clients)))
    run = with_projections(run, files, clients, spend, policy, day, L)
    table = run.table
    metrics(table, L)
    order, rows_picked, place = table_section(table, day, L)
    if rows_picked:
        open_button(place, run.clients[int(order[rows_picked[0]])], spend, files, policy, day, L)
    st.plotly_chart(risk_figure(table, L), width="stretch")
    with st.expander(t("page.assumptions", L)):
        for key in ("risk", "expiring", "project"):
            st.markdown(f"- {t(f'portfolio.assume.{key}', L)}")
        st.caption(t("portfolio.rows_read", L, rows=f"{len(spend.rows):,}", clients=len(clients),
                     pct=fmt_pct(float((table['risk'] == 'green').mean()), L, 0)))


main()
