"""Every page's first lines (`page_start`): the router check, the page context (language,
client, policy, the date the numbers are computed at) and the banners every page shows
(data coverage, calendar range, reader warnings, refused rows)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from core.evaluation import Evaluation
from core.outlook import Outlook
from core.policy import Policy
from core.working_days import accept_weekends_only

from .caches import (
    ClientInputs,
    cached_evaluation,
    cached_outlook,
    cached_requirements,
    policy_of,
    spend_key,
)
from .session import as_of, current_client, evaluated_at, lang, method_choice
from .text import plain


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


def bare_page_start(heading_key: str) -> str:
    """The first lines of a page without one client's context (Portfolio, Payouts): the
    router check and the heading; returns the UI's language."""
    from core.i18n import t

    from .router import require_router

    require_router()
    language = lang()
    st.header(t(heading_key, language))
    return language


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
