"""Session inputs and cached engine calls.

Why here: pages stay thin views; every number comes from core through these cached,
side-effect-free wrappers, keyed on the inputs that change it.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd
import streamlit as st

from core.evaluation import Evaluation, evaluate
from core.ingest import read_spend_file
from core.policy import Policy, load_policy
from core.progress import daily_counted
from core.scenario import parse_scenario
from core.terms import ContractTerms

DEMO_DIR = Path(__file__).resolve().parents[1] / "data" / "demo"
DEMO_CLIENT = "富达食品 (demo)"


@dataclass(frozen=True)
class ClientInputs:
    name: str
    policy_name: str
    terms: ContractTerms
    spend: pd.DataFrame
    default_as_of: dt.date


@st.cache_data(show_spinner=False)
def demo_client() -> ClientInputs:
    """The bundled demo client: its terms and generated 2024 spend."""
    data = json.loads((DEMO_DIR / "client.json").read_text(encoding="utf-8"), parse_float=Decimal)
    scenario = parse_scenario(data, "demo client.json", spend=lambda p: read_spend_file(DEMO_DIR / "spend_2024.csv", p).rows)
    return ClientInputs(DEMO_CLIENT, scenario.policy.name, scenario.terms, scenario.spend, scenario.as_of)


def policy_of(client: ClientInputs) -> Policy:
    return load_policy(client.policy_name)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_evaluation(spend: pd.DataFrame, terms: ContractTerms, policy_name: str, as_of: dt.date) -> Evaluation:
    return evaluate(spend, terms, load_policy(policy_name), as_of)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_daily_counted(spend: pd.DataFrame, terms: ContractTerms, policy_name: str, as_of: dt.date) -> pd.DataFrame:
    return daily_counted(spend, terms, load_policy(policy_name), as_of)


def lang() -> str:
    return st.session_state.get("lang", "zh")


def current_client() -> ClientInputs:
    return demo_client()


def clip_to_year(day: dt.date, policy: Policy) -> dt.date:
    """Evaluation dates outside the policy year are clipped to it (today is often later)."""
    return min(max(day, policy.year_start), policy.year_end)


def as_of(client: ClientInputs) -> dt.date:
    policy = policy_of(client)
    value = st.session_state.get("as_of") or client.default_as_of
    return clip_to_year(value, policy)
