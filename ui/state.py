"""Session inputs, the store, and cached engine calls.

Why here: pages stay thin views; every number comes from core through these cached,
side-effect-free wrappers, keyed on what changes it (client id + its version counter,
evaluation date). Writes go through store.repo and bump the version, which is what
invalidates the cache — never a side effect inside a cached function.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from core.accounts import classified_spend
from core.actuals import RowStage, row_terms
from core.engine import row_rules
from core.evaluation import Evaluation, evaluation_of
from core.negotiation import compare_targets
from core.outlook import ForecastStage, Outlook, forecast_stage, outlook, stage_rows
from core.policy import Policy, PolicyError, load_policy, parse_policy
from core.pre_return import QuarterTotals
from core.progress import daily_counted
from core.required_spend import required_spend
from core.scenario import ClientIn, terms_from_client
from core.terms import ContractTerms
from core.working_days import accept_weekends_only
from store import repo
from store.db import database_url, get_engine
from store.demo import ensure_demo

from .text import plain


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


@st.cache_resource(show_spinner=False)
def engine() -> Engine:
    """The store (created, with the demo client, on first start)."""
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
    inputs = json.loads(client.inputs_json)
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


@st.cache_data(show_spinner=False, max_entries=64)
def cached_row_totals(key: tuple[int, int], _spend: pd.DataFrame, rules_of: ContractTerms, policy_name: str,
                      as_of: dt.date) -> tuple[QuarterTotals, frozenset[str]]:
    """The rows' quarterly totals to a date, once per spend version and the inputs the row
    rules read (`core.actuals.row_terms`)."""
    return row_rules(_spend, rules_of, resolve_policy(policy_name), as_of)


def cached_evaluation(key: tuple[int, int], _spend: pd.DataFrame, terms: ContractTerms, policy_name: str,
                      as_of: dt.date) -> Evaluation:
    """`core.evaluation.evaluate` on the cached row totals: a what-if on the target only settles."""
    totals, readings = cached_row_totals(key, _spend, row_terms(terms), policy_name, as_of)
    return evaluation_of(totals, readings, terms, resolve_policy(policy_name), as_of)


@st.cache_resource(show_spinner=False, max_entries=16)  # shared read-only, never copied: no pickling of the draws
def cached_forecast_stage(key: tuple[int, int], _spend: pd.DataFrame, policy_name: str, as_of: dt.date,
                          method: str | None, paths: int = 10_000, seed: int = 0) -> ForecastStage:
    """Forecast, track record and Monte-Carlo draws: keyed without the contract terms, so a
    what-if on the target or customer type reuses them and only re-settles the paths."""
    return forecast_stage(_spend, resolve_policy(policy_name), as_of, method, paths, seed)


@st.cache_resource(show_spinner=False, max_entries=16)  # shared read-only, never copied: no pickling of the draws
def cached_row_stage(key: tuple[int, int], _spend: pd.DataFrame, rules_of: ContractTerms, policy_name: str,
                     as_of: dt.date, method: str | None, paths: int, seed: int, _stage: ForecastStage) -> RowStage:
    """The rows classified and rated, and every path's quarterly totals, once per spend
    version, date, forecast and the inputs the row rules read (`core.actuals.row_terms`):
    a what-if on the target reuses it and only settles. ``_stage``: the forecast stage of
    the same key, date, method, paths and seed."""
    actual = cached_row_totals(key, _spend, rules_of, policy_name, _stage.as_of)  # shared with the evaluation
    return stage_rows(_spend, rules_of, resolve_policy(policy_name), _stage, actual)


@st.cache_resource(show_spinner=False, max_entries=32)  # shared read-only (pages never write into it): not pickled per hit
def cached_outlook(key: tuple[int, int], _spend: pd.DataFrame, terms: ContractTerms, policy_name: str, as_of: dt.date,
                   method: str | None, paths: int = 10_000, seed: int = 0) -> Outlook:
    """Forecast, Monte Carlo, required spend and ledger; recomputed only when an input
    changes, and then only the part that input touches (see the two stages)."""
    stage = cached_forecast_stage(key, _spend, policy_name, as_of, method, paths, seed)
    rows = cached_row_stage(key, _spend, row_terms(terms), policy_name, as_of, method, paths, seed, stage)
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


def method_choice() -> str | None:
    """The sidebar's projection method; None is the default (the combined forecast)."""
    value = st.session_state.get("method", "combined")
    return None if value in ("combined", "auto") else value


@st.cache_data(show_spinner=False, max_entries=64)
def cached_daily_counted(key: tuple[int, int], _spend: pd.DataFrame, terms: ContractTerms, policy_name: str,
                         as_of: dt.date) -> pd.DataFrame:
    return daily_counted(_spend, terms, resolve_policy(policy_name), as_of)


def counted_by_day(client: ClientInputs, as_of: dt.date) -> pd.DataFrame:
    """Counted spend per day (the Overview's chart), keyed on the row rules' inputs only."""
    return cached_daily_counted(spend_key(client), client.spend, row_terms(client.terms), client.policy_name, as_of)


def lang() -> str:
    return st.session_state.get("lang", "zh")


def write_failure(exc: Exception, lang: str) -> str:
    """A save that did not land, in the UI's language (the store's messages are English)."""
    from core.i18n import t

    return t("store.busy" if isinstance(exc, repo.BusyError) else "store.conflict", lang)


def user_email() -> str:
    """Who the audit log names: the signed-in e-mail, 'local' in single-user mode."""
    return st.session_state.get("_who") or "local"


def user_team() -> str | None:
    """The signed-in user's team (None: single-user mode, every client visible)."""
    return st.session_state.get("_team")


def client_choices() -> dict[int, str]:
    """The clients this user may see: all in single-user mode, else their team's only."""
    return {c.id: c.name for c in repo.list_clients(engine(), team=user_team())}


def open_remembered_client(choices: dict[int, str]) -> None:
    """A fresh session opens the client this user opened last (not whichever sorts first)."""
    if "client" not in st.session_state:
        remembered = repo.last_client(engine(), user_email(), user_team())
        if remembered in choices:
            st.session_state["client"] = remembered


def remember_opened(client_id: int) -> None:
    """Store the client this user has open, once per change."""
    if st.session_state.get("_remembered_client") != client_id:
        repo.remember_client(engine(), user_email(), user_team(), client_id)
        st.session_state["_remembered_client"] = client_id


def current_client_id() -> int:
    """The chosen client if this user may see it; any other id (from a deep link or the
    session) falls back to the first allowed client."""
    choices = client_choices()
    chosen = st.session_state.get("client")
    return chosen if chosen in choices else next(iter(choices))


def current_client() -> ClientInputs:
    client_id = current_client_id()
    version = repo.get_client(engine(), client_id).version
    return load_client(client_id, version)


def default_day(client: ClientInputs, policy: Policy) -> dt.date:
    """Where a client opens: its saved date, else the data's last day — never today or Dec 31
    for a file that ends in September (that showed a partial year as a settled one)."""
    return policy.clip(client.default_as_of or client.data_end or dt.date.today())


def follow_data_end(client: ClientInputs, policy: Policy) -> None:
    """The sidebar's evaluation date follows the client's data (a new import, another
    client) until the user picks a date; a picked date is kept, clipped to the policy year.
    Without this, a client created at Dec 31 still showed Dec 31 after importing a file
    that ends on 09-15."""
    chosen, auto = st.session_state.get("as_of"), st.session_state.get("_as_of_auto")
    if chosen is None or chosen == auto:  # never picked by the user (or cleared): the data's last day
        st.session_state["as_of"] = st.session_state["_as_of_auto"] = default_day(client, policy)
    else:
        st.session_state["as_of"] = policy.clip(chosen)


def as_of(client: ClientInputs) -> dt.date:
    """The evaluation date the user asked for (the sidebar), clipped to the policy year."""
    policy = policy_of(client)
    chosen = st.session_state.get("as_of")
    return policy.clip(chosen) if chosen else default_day(client, policy)


def evaluated_at(client: ClientInputs, requested: dt.date) -> dt.date:
    """The date the numbers are computed at: the requested one, but never after the data's
    last day — later days are projected from the data's end, not counted as zero spend."""
    end = client.data_end
    return min(requested, end) if end is not None else requested


def with_terms(client: ClientInputs, terms: ContractTerms) -> ClientInputs:
    return replace(client, terms=terms)


SHARED_WIDGETS = ("lang", "client", "as_of")


def restore_shared_widgets() -> None:
    """Put back the shared sidebar values a programmatic page switch dropped.

    Why: `st.switch_page` starts the next page without the browser's widget states, so
    Streamlit forgets keyed widget values (the language fell back to 中文 after opening a
    portfolio client). A plain key outlives that; `remember_shared_widgets` keeps it."""
    kept = st.session_state.get("_kept_widgets", {})
    for key, value in kept.items():
        if key not in st.session_state:
            st.session_state[key] = value


def remember_shared_widgets() -> None:
    """Copy the shared widgets' values into a non-widget key, after they are drawn."""
    st.session_state["_kept_widgets"] = {k: st.session_state[k] for k in SHARED_WIDGETS if k in st.session_state}


def apply_query_params() -> None:
    """Deep links: ?lang=en&client=3&as_of=2024-09-15 seed a new session's controls
    (bad values are ignored: a link never breaks the page)."""
    if st.session_state.get("_query_applied"):
        return
    st.session_state["_query_applied"] = True
    q = st.query_params
    if q.get("lang") in ("zh", "en"):
        st.session_state["lang"] = q["lang"]
    if str(q.get("client", "")).isdigit():
        st.session_state["client"] = int(q["client"])
    try:
        if q.get("as_of"):
            st.session_state["as_of"] = dt.date.fromisoformat(q["as_of"])
    except ValueError:
        pass


@dataclass(frozen=True)
class PageContext:
    lang: str
    client: ClientInputs
    policy: Policy
    as_of: dt.date  # the date the numbers are computed at (see evaluated_at)
    requested: dt.date | None = None  # the sidebar's date, when it is after the data's last day

    def evaluation(self) -> Evaluation:
        return cached_evaluation(spend_key(self.client), self.client.spend, self.client.terms, self.client.policy_name, self.as_of)

    def requirements(self) -> list:
        """Required spend per checkpoint: the projection's before year end, and at year end
        (nothing left to project) the final table of what was reached and missed."""
        if self.as_of < self.policy.year_end:
            return self.outlook().requirements
        return cached_requirements(spend_key(self.client), self.client.spend, self.client.terms, self.client.policy_name, self.as_of)

    def outlook(self) -> Outlook:
        """The projection for the page's inputs, with a progress indicator on a cache miss."""
        from core.i18n import t

        with st.spinner(t("overview.projecting", self.lang)):
            return cached_outlook(spend_key(self.client), self.client.spend, self.client.terms, self.client.policy_name, self.as_of, method_choice())


def coverage_banner(ctx: PageContext) -> None:
    """Say how far the data goes, on every page: a partial year is never shown as settled."""
    from core.i18n import t

    end = ctx.client.data_end
    if end is None or end >= ctx.policy.year_end:
        return
    if ctx.requested is not None:
        st.warning(t("coverage.projected", ctx.lang, end=end.isoformat(), requested=ctx.requested.isoformat(),
                     next=(end + dt.timedelta(days=1)).isoformat()))
    else:
        st.info(t("coverage.through", ctx.lang, end=end.isoformat(), year_end=ctx.policy.year_end.isoformat()))


def calendar_check(policy: Policy, lang: str) -> None:
    """A contract whose credit or expiry dates fall in a year the official calendar does not
    cover yet (a 2026 contract's Q4 credit in January 2027): one message and the explicit
    weekends-only assumption to accept — never a crash, never a silent guess."""
    from core.credit_timing import credit_timing
    from core.i18n import localise, t
    from core.working_days import (
        CalendarRangeError,
        accept_weekends_only,
        weekends_only_assumption,
    )

    try:
        credit_timing(policy)
        return
    except CalendarRangeError as exc:
        year = int(dict(exc.problems[0].params)["year"])
        st.error(plain(localise(exc.problems[0], lang)))
    if not st.checkbox(t("payouts.weekends_only", lang), key="weekends_only_beyond_calendar"):
        st.stop()
    accept_weekends_only(True)
    st.warning(weekends_only_assumption(year, lang))


def page_start(heading_key: str, needs_spend: bool = True) -> PageContext:
    """Every page's first lines: router check, inputs, heading, and the empty state."""
    from core.i18n import t

    from .router import require_router

    require_router()
    ctx = PageContext(lang(), current_client(), None, None)  # type: ignore[arg-type]
    policy = policy_of(ctx.client)
    requested = as_of(ctx.client)
    day = evaluated_at(ctx.client, requested)
    ctx = PageContext(ctx.lang, ctx.client, policy, day, requested if requested != day else None)
    st.header(t(heading_key, ctx.lang, client=plain(ctx.client.name)), anchor=False)
    accept_weekends_only(False)  # every run starts from the official calendar; only the checkbox below relaxes it
    if needs_spend:  # the evaluation pages; Data, Contract terms and Assumptions work without credit dates
        calendar_check(policy, ctx.lang)
    coverage_banner(ctx)
    if ctx.client.data_warnings:
        st.badge(t("data.warnings_badge", ctx.lang, n=f"{ctx.client.data_warnings:,}"), icon=":material/warning:", color="orange")
    if ctx.client.refused_rows:
        st.warning(t("data.refused_rows", ctx.lang, n=f"{ctx.client.refused_rows:,}"))
    if needs_spend and ctx.client.spend.empty:
        st.info(t("overview.empty", ctx.lang))
        st.stop()
    return ctx


# ---------------------------------------------------------------- portfolio (one upload, every client)

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
