"""Scenario files (scenario-format.md): JSON -> policy, terms, typed spend rows.

Why strict: unknown keys, bad enum values and malformed dates are errors naming the
field (and row), so a typo can never silently change a result.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Callable, Literal

import pandas as pd
from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from .json_input import loads_strict
from .money import to_fen
from .policy import DEFAULT_POLICY, Policy, load_policy
from .problems import InputError, Problem
from .spend import SPEND_FIELDS
from .terms import ContractTerms, CustomerChange, ListedChange
from .validate import normalise_spend

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(v: Any) -> Any:
    """Dates must be ISO strings (2024-03-10): a number is never silently a timestamp."""
    if isinstance(v, dt.date):
        return v
    if not isinstance(v, str) or not _ISO.match(v):
        raise ValueError("must be an ISO date like 2024-03-10")
    return v


def _money(v: Any) -> Any:
    if isinstance(v, bool) or not isinstance(v, (int, float, Decimal)):
        raise ValueError("must be a number (RMB)")
    return v


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
Money = Annotated[Decimal, BeforeValidator(_money)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ListedChangeIn(_Strict):
    customer: str
    notified_on: IsoDate
    listed: bool
    listed_class: Literal["D", "E1", "E2"] | None = None

    @model_validator(mode="after")
    def _class_when_listed(self) -> "ListedChangeIn":
        if self.listed and self.listed_class is None:
            raise ValueError("listed_class (D, E1 or E2) is required when listed is true")
        return self


class CustomerChangeIn(_Strict):
    customer: str
    kind: Literal["added", "association_lost"]
    confirmed_on: IsoDate | None = None
    changed_on: IsoDate | None = None

    @model_validator(mode="after")
    def _date_for_kind(self) -> "CustomerChangeIn":
        if self.kind == "added" and self.confirmed_on is None:
            raise ValueError("confirmed_on is required for kind 'added'")
        if self.kind == "association_lost" and self.changed_on is None:
            raise ValueError("changed_on is required for kind 'association_lost'")
        return self


class ClientIn(_Strict):
    target_amount: Money = Field(ge=Decimal("0.01"))  # one fen: smaller rounds to 0 and divides by it
    party_b_target_amount: Money | None = Field(default=None, ge=Decimal("0.01"))
    customer_type: Literal["regular", "new"]
    main_industry: str = "other"
    # the previous year's actual amount (III.2(2)); `actual_2023` is the 2024 scenario format's name for it
    previous_year: Money = Field(default=Decimal(0), ge=0, validation_alias=AliasChoices("previous_year", "actual_2023"))
    signed_on: IsoDate | None = None
    deposit_amount: Money | None = Field(default=None, ge=0)
    deposit_paid_on: IsoDate | None = None
    non_bidding_framework: bool = False
    frame_splicing: bool = False
    shortfall_factor: Money | None = Field(default=None, ge=0, le=10)
    listed_changes: list[ListedChangeIn] = []
    customer_changes: list[CustomerChangeIn] = []


class ScenarioIn(_Strict):
    policy: str = DEFAULT_POLICY
    as_of: IsoDate | None = None
    client: ClientIn
    spend: list[dict[str, Any]] = []


@dataclass(frozen=True)
class Scenario:
    policy: Policy
    as_of: dt.date
    terms: ContractTerms
    spend: pd.DataFrame
    notes: tuple[str, ...] = ()


_FRIENDLY = {"extra_forbidden": "unknown key (check the spelling or remove it)", "missing": "required key is missing"}


def _pydantic_problem(err: ValidationError, source: str) -> Problem:
    first = err.errors()[0]
    first["msg"] = _FRIENDLY.get(first["type"], first["msg"].removeprefix("Value error, "))
    loc = [str(p) for p in first["loc"]]
    if len(loc) >= 2 and loc[0] == "spend" and loc[1].isdigit():
        return Problem("error", first["msg"], int(loc[1]) + 1, ".".join(loc[2:]) or None, None, f"{source} spend")
    return Problem("error", f"{'.'.join(loc) or 'scenario'}: {first['msg']}", source=source)


def canonical_client(data: dict[str, Any]) -> dict[str, Any]:
    """Client inputs under today's names: `actual_2023` (the 2024 scenario format, and inputs
    stored before the rename) becomes `previous_year`, so a saved change never leaves both."""
    if "actual_2023" in data and "previous_year" not in data:
        data = {("previous_year" if k == "actual_2023" else k): v for k, v in data.items()}
    return data


def terms_from_client(client: ClientIn, policy: Policy) -> ContractTerms:
    """Validated client inputs -> exact contract terms (and a policy-aware industry check)."""
    if client.main_industry not in policy.main_industries:
        raise InputError(
            f"client.main_industry: unknown value '{client.main_industry}' (expected one of: {', '.join(policy.main_industries)})"
        )
    return ContractTerms(
        target_fen=to_fen(client.target_amount),
        party_b_target_fen=None if client.party_b_target_amount is None else to_fen(client.party_b_target_amount),
        customer_type=client.customer_type,
        main_industry=client.main_industry,
        previous_year_fen=to_fen(client.previous_year),
        signed_on=client.signed_on or policy.year_start,
        deposit_fen=None if client.deposit_amount is None else to_fen(client.deposit_amount),
        deposit_paid_on=client.deposit_paid_on,
        non_bidding_framework=client.non_bidding_framework,
        frame_splicing=client.frame_splicing,
        shortfall_factor=client.shortfall_factor,
        listed_changes=tuple(ListedChange(c.customer, c.notified_on, c.listed, c.listed_class) for c in client.listed_changes),
        customer_changes=tuple(
            CustomerChange(c.customer, c.kind, c.confirmed_on or c.changed_on)  # type: ignore[arg-type]
            for c in client.customer_changes
        ),
    )


def spend_rows_from_json(items: list[dict[str, Any]], policy: Policy, source: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """JSON spend objects -> typed rows; any error aborts with its row and field."""
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(Problem("error", "each spend row must be an object", i + 1, None, None, f"{source} spend"))
    raw = pd.DataFrame(items, dtype=object)
    if not items:  # not raw.empty: [{}, {}] is two rows with no columns, each missing every field
        raw = pd.DataFrame(columns=[n for n, f in SPEND_FIELDS.items() if f.required], dtype=object)
    parsed = normalise_spend(raw, source=f"{source} spend", policy=policy)
    if parsed.errors:
        raise InputError(list(parsed.errors))
    notes = ("amount_rounded_to_fen",) if any("fractions of a fen" in w.message for w in parsed.warnings) else ()
    return parsed.rows, notes


SpendLoader = Callable[[Policy], pd.DataFrame]


def parse_scenario(data: Any, source: str = "scenario", spend: SpendLoader | None = None) -> Scenario:
    """Validate a scenario object; ``spend`` (rows from a file, read once the policy is
    known) replaces the scenario's own rows."""
    if not isinstance(data, dict):
        raise InputError(f"{source}: a scenario must be a JSON object")
    try:
        model = ScenarioIn.model_validate(data)
    except ValidationError as exc:
        raise InputError(_pydantic_problem(exc, source)) from None
    try:
        policy = load_policy(model.policy)
    except ValueError as exc:
        raise InputError(f"{source}: policy: {exc}") from None
    terms = terms_from_client(model.client, policy)
    if spend is None:
        rows, notes = spend_rows_from_json(model.spend, policy, source)
    else:
        rows, notes = spend(policy), ()
    return Scenario(policy, model.as_of or policy.year_end, terms, rows, notes)


def load_scenario(path: str | Path, spend: SpendLoader | None = None, policy: str | None = None) -> Scenario:
    """Read and validate a scenario file; numbers are read as exact decimals (``policy``: a
    contract name or TOML file that replaces the scenario's own)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p.name}: cannot read the file ({exc.strerror})") from None
    return scenario_from_bytes(data, p.name, spend, policy)


def scenario_from_bytes(data: bytes, name: str, spend: SpendLoader | None = None, policy: str | None = None) -> Scenario:
    """The bytes of a scenario file -> Scenario, or InputError naming the file (the CLI and the fuzzers)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 text") from None
    raw = loads_strict(text, name)
    if policy is not None and isinstance(raw, dict):
        raw = {**raw, "policy": policy}
    return parse_scenario(raw, name, spend)


__all__ = ["Scenario", "ScenarioIn", "load_scenario", "parse_scenario"]
