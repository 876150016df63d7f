"""The cached engine calls and the client they read: every number comes from core through
these side-effect-free wrappers, keyed on what changes it.

Why keys, not hashes: the spend is passed as `_spend` (not hashed: hashing a year of rows
costs more than some calls) and keyed by `spend_key` — the client id and spend version,
which every write to rows or classification moves (store.repo._bump(spend=True)); the
terms are hashed arguments. Writes go through services/ and store.repo — never a side
effect inside a cached function.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from core.accounts import classified_spend
from core.actuals import ClassifiedRows, RowStage, classified, row_terms
from core.evaluation import Evaluation, evaluation_of
from core.forecast import SpendSegments, spend_segments
from core.negotiation import compare_targets
from core.outlook import ForecastStage, Outlook, forecast_stage, outlook, stage_rows
from core.policy import Policy, PolicyError, load_policy, parse_policy
from core.pre_return import QuarterTotals
from core.required_spend import required_spend
from core.scenario import ClientIn, canonical_client, terms_from_client
from core.terms import ContractTerms
from store import repo
from store.db import database_url, get_engine
from store.demo import ensure_demo


@dataclass(frozen=True)
class ClientInputs:
    id: int
    name: str
    version: int
    policy_name: str
    inputs: dict
    terms: ContractTerms
    spend: pd.DataFrame
    default_as_of: dt.date | None
    refused_rows: int = 0  # stored rows the evaluation cannot read (shown on every page, never silently dropped)
    data_warnings: int = 0  # what the reader warned about the imported files (a badge on every page)
    data_end: dt.date | None = None  # the last day the stored spend covers (read once per version)
    spend_version: int = 1  # moves only when the rows or the classification change


@dataclass(frozen=True)
class StoredSpend:
    """A client's typed spend at a spend version: what every spend cache keys on."""

    rows: pd.DataFrame
    refused_rows: int
    data_warnings: int
    data_end: dt.date | None


@st.cache_resource(show_spinner="正在打开数据库（首次启动时导入示例客户）… · Opening the database (the first start imports the demo client) …")
def engine() -> Engine:
    """The store (created, with the demo client, on first start: once per process, with a
    progress message in both languages — the session's language is not known yet)."""
    e = get_engine(database_url())
    ensure_demo(e)
    return e


def terms_of(inputs: dict, policy: Policy) -> ContractTerms:
    data = json.loads(json.dumps(inputs), parse_float=Decimal)
    return terms_from_client(ClientIn.model_validate(data), policy)


@st.cache_data(show_spinner=False, max_entries=16)
def load_spend(client_id: int, spend_version: int) -> StoredSpend:
    """Stored rows + classification, typed once per spend version: a what-if on the terms
    (which moves only the client's version) never reloads or re-validates them."""
    e = engine()
    stored = classified_spend(repo.load_rows(e, client_id), repo.get_classification(e, client_id))
    refused = len({p.row for p in stored.errors}) if stored.errors else 0
    end = None if stored.rows.empty else stored.rows["date"].max().date()
    return StoredSpend(stored.rows, refused, repo.data_warnings(e, client_id), end)


@st.cache_data(show_spinner=False, max_entries=32)
def load_client(client_id: int, version: int) -> ClientInputs:
    """A client's inputs at a version, with its typed spend at the spend version it has."""
    client = repo.get_client(engine(), client_id)
    if client is None:
        raise KeyError(client_id)
    policy = resolve_policy(client.policy)
    inputs = canonical_client(json.loads(client.inputs_json))
    spend = load_spend(client_id, client.spend_version)
    return ClientInputs(client.id, client.name, client.version, client.policy, inputs, terms_of(inputs, policy),
                        spend.rows, client.as_of, spend.refused_rows, spend.data_warnings, spend.data_end,
                        client.spend_version)


def policy_of(client: ClientInputs) -> Policy:
    return resolve_policy(client.policy_name)


def resolve_policy(ref: str) -> Policy:
    """A shipped policy by name, or contract terms saved on the Contract terms page ("db:<id>",
    immutable, so a cache per reference is safe)."""
    if ref.startswith(repo.POLICY_REF):
        return _saved_policy(database_url(), ref)
    return load_policy(ref)


@lru_cache(maxsize=64)
def _saved_policy(url: str, ref: str) -> Policy:
    version = repo.get_policy_version(engine(), int(ref.removeprefix(repo.POLICY_REF)))
    if version is None:
        raise PolicyError(f"{ref}: these contract terms are not in this database")
    return parse_policy(version.toml_text, source=version.name)


# The cached engine calls take the client's spend as `_spend` (not hashed: hashing a
# year of rows costs more than some of the calls) and key it by `spend_key`, the client
# id and the spend version load_spend read it at — every write to the rows or the
# classification bumps it (store.repo._bump(spend=True)); the terms are hashed arguments.

def spend_key(client: ClientInputs) -> tuple[int, int]:
    return client.id, client.spend_version


@st.cache_resource(show_spinner=False, max_entries=16)  # shared read-only: its per-date results are kept on it
def cached_classified(key: tuple[int, int], _spend: pd.DataFrame, rules_of: ContractTerms, policy_name: str) -> ClassifiedRows:
    """The year's rows classified and rated once per spend version and the inputs the row
    rules read (`core.actuals.row_terms`): every evaluation date reads them by masking."""
    return classified(_spend, rules_of, resolve_policy(policy_name))


def cached_row_totals(key: tuple[int, int], _spend: pd.DataFrame, rules_of: ContractTerms, policy_name: str,
                      as_of: dt.date) -> tuple[QuarterTotals, frozenset[str]]:
    """The rows' quarterly totals to a date (`core.engine.row_rules`), from the classified rows."""
    return cached_classified(key, _spend, rules_of, policy_name).totals_to(as_of)


def cached_evaluation(key: tuple[int, int], _spend: pd.DataFrame, terms: ContractTerms, policy_name: str,
                      as_of: dt.date) -> Evaluation:
    """`core.evaluation.evaluate` on the cached row totals: a what-if on the target only settles."""
    totals, readings = cached_row_totals(key, _spend, row_terms(terms, resolve_policy(policy_name)), policy_name, as_of)
    return evaluation_of(totals, readings, terms, resolve_policy(policy_name), as_of)


@st.cache_resource(show_spinner=False, max_entries=16)  # shared read-only
def cached_spend_segments(key: tuple[int, int], _spend: pd.DataFrame, policy_name: str) -> SpendSegments:
    """The year's spend rows named by segment once per spend version: every date's history reads them."""
    return spend_segments(_spend, resolve_policy(policy_name))


@st.cache_resource(show_spinner=False, max_entries=16)  # shared read-only, never copied: no pickling of the draws
def cached_forecast_stage(key: tuple[int, int], _spend: pd.DataFrame, policy_name: str, as_of: dt.date,
                          method: str | None, paths: int = 10_000, seed: int = 0) -> ForecastStage:
    """Forecast, track record and Monte-Carlo draws: keyed without the contract terms, so a
    what-if on the target or customer type reuses them and only re-settles the paths."""
    return forecast_stage(_spend, resolve_policy(policy_name), as_of, method, paths, seed,
                          segmented=cached_spend_segments(key, _spend, policy_name))


@st.cache_resource(show_spinner=False, max_entries=16)  # shared read-only, never copied: no pickling of the draws
def cached_row_stage(key: tuple[int, int], _spend: pd.DataFrame, rules_of: ContractTerms, policy_name: str,
                     as_of: dt.date, method: str | None, paths: int, seed: int, _stage: ForecastStage) -> RowStage:
    """The rows classified and rated, and every path's quarterly totals, once per spend
    version, date, forecast and the inputs the row rules read (`core.actuals.row_terms`):
    a what-if on the target reuses it and only settles. ``_stage``: the forecast stage of
    the same key, date, method, paths and seed."""
    rated = cached_classified(key, _spend, rules_of, policy_name)  # shared with the evaluation and the Overview's chart
    return stage_rows(_spend, rules_of, resolve_policy(policy_name), _stage, rated)


@st.cache_resource(show_spinner=False, max_entries=32)  # shared read-only (pages never write into it): not pickled per hit
def cached_outlook(key: tuple[int, int], _spend: pd.DataFrame, terms: ContractTerms, policy_name: str, as_of: dt.date,
                   method: str | None, paths: int = 10_000, seed: int = 0) -> Outlook:
    """Forecast, Monte Carlo, required spend and ledger; recomputed only when an input
    changes, and then only the part that input touches (see the two stages)."""
    stage = cached_forecast_stage(key, _spend, policy_name, as_of, method, paths, seed)
    rows = cached_row_stage(key, _spend, row_terms(terms, resolve_policy(policy_name)), policy_name, as_of, method, paths, seed, stage)
    return outlook(_spend, terms, resolve_policy(policy_name), as_of, method, paths, seed, stage=stage, rows_stage=rows)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_compare(key: tuple[int, int], _spend: pd.DataFrame, terms: ContractTerms, policy_name: str,
                   as_of: dt.date, targets: tuple[int, ...], method: str | None) -> pd.DataFrame:
    """Candidate targets on the same seeded paths (the Negotiation page)."""
    return compare_targets(_spend, terms, resolve_policy(policy_name), as_of, list(targets), method, paths=5_000)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_requirements(key: tuple[int, int], _spend: pd.DataFrame, terms: ContractTerms, policy_name: str, as_of: dt.date):
    """The year-end checkpoint table (no projection: every level is reached or missed)."""
    return required_spend(_spend, terms, resolve_policy(policy_name), as_of, 0.0)


def counted_by_day(client: ClientInputs, as_of: dt.date) -> pd.DataFrame:
    """Counted spend per day (the Overview's chart), from the rows classified for the row rules' inputs."""
    return cached_classified(spend_key(client), client.spend, row_terms(client.terms, policy_of(client)), client.policy_name).daily_counted(as_of)


@st.cache_resource(show_spinner=False, max_entries=4)
def cached_portfolio_files(key: str, _clients_data: bytes, clients_name: str, _spend_data: bytes, spend_name: str,
                           policy_name: str):
    """Parsed clients + spend of a portfolio upload, keyed on the files' SHA-256.
    cache_resource, not cache_data: a million parsed rows are shared read-only between
    reruns and sessions instead of being copied (pickled) on every hit."""
    from core.portfolio import read_clients, read_portfolio_spend

    policy = resolve_policy(policy_name)
    return read_clients(_clients_data, clients_name, policy), read_portfolio_spend(_spend_data, spend_name, policy)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_portfolio_run(key: str, _clients: list, _spend, policy_name: str, as_of: dt.date):
    """Every client's position at a date (no Monte Carlo: that runs on request, with progress)."""
    from core.portfolio import run_portfolio

    return run_portfolio(_clients, _spend, resolve_policy(policy_name), as_of)
