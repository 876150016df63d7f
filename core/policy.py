"""The contract's numbers, loaded from a policy file under ``data/policies``.

Why a file: a contract's rates, bands, thresholds and dates change every year; code
must not. Loading validates every key so a typo fails loudly with the key's path
instead of silently changing a result.
"""
from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    field_validator,
    model_validator,
)

POLICY_DIR = Path(__file__).resolve().parents[1] / "data" / "policies"

INDUSTRY_CLASSES: tuple[str, ...] = ("A", "B1", "B2", "C1", "C2", "D", "E1", "E2")
BUSINESS_MODELS: tuple[str, ...] = ("brand", "distribution", "assortment", "kol", "agency")
QUARTERS: tuple[str, ...] = ("Q1", "Q2", "Q3", "Q4")
CUSTOMER_TYPES: tuple[str, ...] = ("regular", "new")
DEFAULT_POLICY = "ocean_engine_2024"  # data/policies/<name>.toml used when a client names none
PPM = 1_000_000  # rates are held as integer parts per million so money stays exact


class PolicyError(ValueError):
    """A policy file is missing, unreadable or has a bad key."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _rate(value: object) -> Decimal:
    """Parse a rate exactly and insist it is a whole number of ppm (exact integer money)."""
    d = Decimal(str(value))
    if d < 0 or d > 1:
        raise ValueError(f"rate {d} must be between 0 and 1")
    if (d * PPM) % 1 != 0:
        raise ValueError(f"rate {d} has more than 6 decimals")
    return d


def to_ppm(rate: Decimal) -> int:
    """A rate as integer parts per million."""
    return int(rate * PPM)


class Rates(_Frozen):
    local_platforms: tuple[str, ...]
    ads_platforms: tuple[str, ...]
    ads_column_of_model: dict[str, str]
    traffic_ecommerce_cap_class: str
    kol_reuse_rated_as: str
    local: dict[str, tuple[Decimal, ...]]
    ads: dict[str, dict[str, Decimal]]

    @field_validator("local", mode="before")
    @classmethod
    def _local(cls, v: dict[str, Any]) -> dict[str, Any]:
        return {k: tuple(_rate(x) for x in parts) for k, parts in v.items()}

    @field_validator("ads", mode="before")
    @classmethod
    def _ads(cls, v: dict[str, Any]) -> dict[str, Any]:
        return {col: {k: _rate(x) for k, x in table.items()} for col, table in v.items()}

    @model_validator(mode="after")
    def _complete(self) -> "Rates":
        missing = [c for c in INDUSTRY_CLASSES if c not in self.local]
        if missing:
            raise ValueError(f"rates.local is missing classes {missing}")
        for model in BUSINESS_MODELS:
            if model not in self.ads_column_of_model:
                raise ValueError(f"rates.ads_column_of_model is missing business model '{model}'")
        for col in set(self.ads_column_of_model.values()):
            table = self.ads.get(col)
            if table is None:
                raise ValueError(f"rates.ads.{col} is missing")
            missing = [c for c in INDUSTRY_CLASSES if c not in table]
            if missing:
                raise ValueError(f"rates.ads.{col} is missing classes {missing}")
        if self.traffic_ecommerce_cap_class not in INDUSTRY_CLASSES:
            raise ValueError("rates.traffic_ecommerce_cap_class must be an industry class")
        if self.kol_reuse_rated_as not in BUSINESS_MODELS:
            raise ValueError("rates.kol_reuse_rated_as must be a business model")
        return self

    def local_rate(self, industry_class: str) -> Decimal:
        """LOCAL rate of a class: its components summed (reading `local_rate_sum`)."""
        return sum(self.local[industry_class], Decimal(0))

    def ads_rate(self, business_model: str, industry_class: str) -> Decimal:
        return self.ads[self.ads_column_of_model[business_model]][industry_class]


class ClassEMapping(_Frozen):
    class_i_medical: str
    class_i_other: str
    class_ii_cosmetics: str
    class_ii_other: str
    special_authority: dict[str, str]


class Assessment630(_Frozen):
    date: dt.date
    customer_types: tuple[str, ...]
    signed_before: dt.date
    pass_at: Decimal
    reduced_at: Decimal
    rate_reduction: Decimal
    reduced_quarters: tuple[int, ...]

    @model_validator(mode="after")
    def _bands(self) -> "Assessment630":
        if not (0 <= self.reduced_at <= self.pass_at <= 1):
            raise ValueError("assessment_630 needs 0 <= reduced_at <= pass_at <= 1")
        _rate(self.rate_reduction)
        return self


class Assessment930(_Frozen):
    date: dt.date
    pass_at: Decimal
    withheld_quarter: int


class ShortfallZeroing(_Frozen):
    listed_class_d_below: Decimal
    listed_class_e_below: Decimal
    special_zeroed_with_class_e: tuple[str, ...]
    default_shortfall_factor: Decimal


class DeductionBand(_Frozen):
    min_completion: Decimal
    deduct: Literal["shortfall"] | Decimal

    @field_validator("deduct", mode="before")
    @classmethod
    def _deduct(cls, v: object) -> object:
        if v == "shortfall":
            return v
        d = Decimal(str(v))
        if not 0 <= d <= 1:
            raise ValueError("deduct must be 'shortfall' or a fraction between 0 and 1")
        return d


class Deposit(_Frozen):
    rate: Decimal
    due_before: dt.date
    deduction: dict[str, tuple[DeductionBand, ...]]

    @model_validator(mode="after")
    def _types(self) -> "Deposit":
        for t in CUSTOMER_TYPES:
            if t not in self.deduction:
                raise ValueError(f"deposit.deduction is missing customer type '{t}'")
        return self

    def bands(self, customer_type: str) -> tuple[DeductionBand, ...]:
        """Bands top-down, highest completion first, so the first match wins."""
        return tuple(sorted(self.deduction[customer_type], key=lambda b: -b.min_completion))


class CreditTiming(_Frozen):
    objection_window_days: dict[str, int]
    confirm_working_days: int
    top_up_days: int
    expiry_days: int
    final_deadline: dt.date


class ClientDefaults(_Frozen):
    target_amount: Decimal
    customer_type: str
    main_industry: str


class Reading(_Frozen):
    id: str
    clause: str
    en: str
    zh: str


class Policy(_Frozen):
    """One year's contract, validated; immutable so it can be cached and shared."""

    name: str
    title: str
    title_zh: str
    year_start: dt.date
    year_end: dt.date
    specific_networks: tuple[str, ...]
    excluded_networks: tuple[str, ...]
    counting: dict[str, tuple[str, ...]]
    rebate_base: dict[str, tuple[str, ...]]
    rates: Rates
    class_e_mapping: ClassEMapping
    assessment_630: Assessment630
    assessment_930: Assessment930
    thresholds: dict[str, dict[str, Decimal]]
    shortfall_zeroing: ShortfallZeroing
    deposit: Deposit
    credit_timing: CreditTiming
    client_defaults: ClientDefaults
    readings: tuple[Reading, ...]

    @model_validator(mode="after")
    def _consistent(self) -> "Policy":
        for t in CUSTOMER_TYPES:
            if t not in self.thresholds:
                raise ValueError(f"thresholds is missing customer type '{t}'")
        industries = set(self.thresholds["regular"])
        for t, table in self.thresholds.items():
            if set(table) != industries:
                raise ValueError(f"thresholds.{t} must list the same main industries as thresholds.regular")
        for key in ("data_promotion", "always"):
            if key not in self.counting or key not in self.rebate_base:
                raise ValueError(f"counting and rebate_base need the key '{key}'")
        if self.year_end < self.year_start:
            raise ValueError("year_end is before year_start")
        return self

    def __hash__(self) -> int:  # identity: policies are loaded once and cached
        return id(self)

    @property
    def main_industries(self) -> tuple[str, ...]:
        return tuple(self.thresholds["regular"])

    def threshold(self, customer_type: str, main_industry: str) -> Decimal:
        return self.thresholds[customer_type][main_industry]

    def new_client_inputs(self) -> dict[str, Any]:
        """Scenario inputs of a new client: the contract's minimum target, deposit paid on
        the first day of the policy year (well before the due date)."""
        d = self.client_defaults
        return {"target_amount": float(d.target_amount), "customer_type": d.customer_type,
                "main_industry": d.main_industry, "previous_year": 0, "deposit_paid_on": self.year_start.isoformat()}

    def reading(self, reading_id: str) -> Reading:
        for r in self.readings:
            if r.id == reading_id:
                return r
        raise KeyError(reading_id)

    def clip(self, day: dt.date) -> dt.date:
        """The day inside the policy year (an evaluation date after Dec 31, as today often
        is, is the year end; one before Jan 1 is the first day): the one clipping rule."""
        return min(max(day, self.year_start), self.year_end)

    def quarter_end(self, quarter: int) -> dt.date:
        """Last day of quarter 1..4 of the policy year."""
        year = self.year_start.year
        month = quarter * 3
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)


def _format_error(err: ValidationError, source: str) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    return f"{source}: key '{key}': {first['msg']}"


def parse_policy(text: str, source: str = "policy") -> Policy:
    """Parse and validate TOML text; errors name the offending key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(_format_error(exc, source)) from None


@lru_cache(maxsize=16)
def load_policy(name: str = DEFAULT_POLICY) -> Policy:
    """Load a shipped policy by name (file stem in data/policies) or by path."""
    path = Path(name)
    if path.suffix != ".toml":
        if not all(c.isalnum() or c in "_-" for c in name):
            raise PolicyError(f"policy name '{name}' may use letters, digits, '_' and '-' only")
        path = POLICY_DIR / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(available_policies()) or "none"
        raise PolicyError(f"policy '{name}' not found (known: {known})")
    return parse_policy(path.read_text(encoding="utf-8"), source=path.name)


def available_policies() -> list[str]:
    return sorted(p.stem for p in POLICY_DIR.glob("*.toml"))
