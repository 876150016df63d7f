"""Use cases of the Contract terms page: which contracts a team can pick, their text, saving
an edited one, and evaluating a client under one. The page only draws."""
from __future__ import annotations

import tomllib
from decimal import Decimal

import pandas as pd
import streamlit as st

from core.i18n import has, t, value_label
from core.next_year import NextYear, next_year_targets
from core.policy import (
    CUSTOMER_TYPES,
    POLICY_DIR,
    Policy,
    PolicyError,
    available_policies,
    parse_policy,
)
from core.policy_edit import (
    decimal_text,
    numbers,
    set_value,
    steps,
    validated,
    with_numbers,
    with_year,
)
from core.terms import ContractTerms
from store import repo

from .caches import engine, resolve_policy
from .session import user_email, user_team, write_failure


def policy_choices(lang: str) -> dict[str, str]:
    """Shipped contracts by name, then the team's saved versions (newest first)."""
    out = {}
    for name in available_policies():
        try:
            p = resolve_policy(name)
        except PolicyError:  # another kind of agreement (the SDK settlement)
            continue
        out[name] = p.title_zh if lang == "zh" else p.title
    for v in repo.list_policy_versions(engine(), user_team()):
        out[f"{repo.POLICY_REF}{v.id}"] = f"{v.name} · v{v.id} · {v.created_at:%Y-%m-%d}"
    return out


def policy_text(ref: str) -> str:
    if ref.startswith(repo.POLICY_REF):
        version = repo.get_policy_version(engine(), int(ref.removeprefix(repo.POLICY_REF)))
        if version is None:
            raise PolicyError(f"{ref}: these contract terms are not in this database")
        return version.toml_text
    return (POLICY_DIR / f"{ref}.toml").read_text(encoding="utf-8")


MAX_TOML_BYTES = 256 * 1024  # a contract is ~8 KB; anything far larger is not one


def imported_text(data: bytes, name: str) -> str:
    """An uploaded contract's TOML, checked by the policy model before it is used as a base."""
    if len(data) > MAX_TOML_BYTES:
        raise PolicyError(f"{name}: {len(data):,} bytes is not a contract file (at most {MAX_TOML_BYTES:,})")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PolicyError(f"{name}: not UTF-8 text") from None
    parse_policy(text, source=name)
    return text


def _number_text(value: object, key: str, percent: bool) -> str:
    """A user's number as the contract writes it: a percent divided by 100 exactly."""
    number = Decimal(decimal_text(value, key))
    return format((number / 100 if percent else number).normalize(), "f")


def with_number(text: str, key: str, value: object, percent: bool = False) -> str:
    """A user's number written to the contract when it differs from what is there ("0.30"
    and 30 % are the same value and leave the text, with its clause comments, alone)."""
    return with_numbers(text, {key: _number_text(value, key, percent)})


def with_table(text: str, prefix: str, table: pd.DataFrame, percent: bool = False) -> str:
    """Every changed cell of an edited grid written back (rows and columns are TOML keys under prefix)."""
    return with_numbers(text, {f"{prefix}.{row}.{col}": _number_text(table.at[row, col], f"{prefix}.{row}.{col}", percent)
                               for row in table.index for col in table.columns})


# The keys the page edits with their own widgets (year, dates, percentages, the two grids).
OWN_WIDGETS = ("year_start", "year_end", "assessment_630.date", "assessment_930.date", "deposit.due_before",
               "credit_timing.final_deadline", "deposit.rate", "assessment_630.pass_at", "assessment_630.reduced_at",
               "assessment_930.pass_at")


def other_numbers(text: str, lang: str) -> pd.DataFrame:
    """Every number, date and code the page has no widget for, labelled (index: the TOML key)."""
    others = [n for n in numbers(text) if n.key not in OWN_WIDGETS and not n.key.startswith(("thresholds.", "rates.ads."))]
    return pd.DataFrame({t("terms.col.field", lang): [change_label(n.key, lang) for n in others],
                         t("terms.col.value", lang): [n.value for n in others]},
                        index=pd.Index([n.key for n in others], name=t("terms.col.key", lang)))


def with_other_numbers(text: str, edited: pd.DataFrame) -> str:
    """The generic grid's values written back (unchanged ones leave the text alone)."""
    return with_numbers(text, {str(k): str(v) for k, v in edited.iloc[:, 1].items()})


def save_terms(name: str, text: str, based_on: str) -> str:
    """Validate and store a new immutable version; its reference ("db:<id>")."""
    validated(text, name)
    version = repo.save_policy(engine(), name, set_value(text, "name", name), based_on, team=user_team(), who=user_email())
    return f"{repo.POLICY_REF}{version.id}"


def use_terms(client, ref: str) -> None:
    """Evaluate this client under these terms from now on (a versioned, audited change)."""
    repo.set_client_policy(engine(), client.id, client.version, ref, who=user_email())


NEXT = "__next_year__"


def negotiation_policy(ref: str, current: str) -> Policy:
    """The contract next year is negotiated under: a chosen one, or (NEXT) the client's
    current contract moved one year on."""
    if ref == NEXT:
        text = policy_text(current)
        return parse_policy(with_year(text, tomllib.loads(text)["year_start"].year + 1), source=current)
    return resolve_policy(ref)


@st.cache_data(show_spinner=False, max_entries=32)
def cached_next_year(key: tuple[int, int], _spend: pd.DataFrame, terms: ContractTerms, policy_name: str, next_ref: str,
                     targets: tuple[int, ...], growth: tuple[float, float], confidence: float) -> NextYear:
    """Next year's candidate targets (core.next_year), keyed on the spend version and every input."""
    return next_year_targets(_spend, terms, resolve_policy(policy_name), negotiation_policy(next_ref, policy_name),
                             list(targets), growth, confidence)


def save_negotiation(client, name: str, ref: str, label: str, ny: NextYear, lang: str) -> str | None:
    """Keep a negotiation as shown, pinned to its contract (the moved current one is named by
    the contract it was moved from: both are immutable). The failure message, if the
    database stayed busy; None when saved."""
    contract = f"next:{client.policy_name}" if ref == NEXT else ref
    try:
        repo.save_negotiation(engine(), client.id, name, contract, {"contract": label, **ny.settings()}, ny.table,
                             who=user_email())
    except repo.BusyError as exc:
        return write_failure(exc, lang)
    return None


def saved_negotiations(client) -> list:
    return repo.list_negotiations(engine(), client.id)


def change_label(key: str, lang: str) -> str:
    """A changed contract key as people read it (the TOML key only where no label exists)."""
    parts = key.split(".")
    if has(f"terms.f.{key}"):
        return t(f"terms.f.{key}", lang)
    if parts[0] == "thresholds" and len(parts) == 3:
        return " · ".join((t("terms.f.thresholds", lang), value_label("customer_type", parts[1], lang),
                           t(f"industry.{parts[2]}", lang) if has(f"industry.{parts[2]}") else parts[2]))
    if parts[:2] == ["rates", "ads"] and len(parts) == 4:
        return " · ".join((t("terms.f.rates.ads", lang), t(f"terms.ads.{parts[2]}", lang), parts[3]))
    path = steps(key)
    return " · ".join(_segment_label(step, path[i - 1] if i else None, lang) for i, step in enumerate(path))


def _segment_label(step: str | int, previous: str | int | None, lang: str) -> str:
    """One step of a contract key as people read it: a deduction band or a part of a list by
    number, a known section, industry, business model or special industry by name, else as
    written (class codes, quarters)."""
    if isinstance(step, int):
        return t("terms.seg.band" if previous in CUSTOMER_TYPES else "terms.seg.item", lang, n=step + 1)
    for key in (f"terms.seg.{step}", f"industry.{step}", f"enum.business_model.{step}", f"enum.special.{step}"):
        if has(key):
            return t(key, lang)
    return step
