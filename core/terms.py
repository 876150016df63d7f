"""A client's contract terms: the scenario inputs of scenario-format.md, in exact units.

Why a separate type: the CLI, the database and the dashboard's widgets all produce the
same terms; the engine never sees JSON or widget state.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from .money import to_fen
from .policy import Policy

CustomerType = Literal["regular", "new"]


@dataclass(frozen=True)
class ListedChange:
    """III.1(4): a notice that a customer is (or is no longer) a listed customer."""

    customer: str
    notified_on: dt.date
    listed: bool
    listed_class: str | None = None  # D, E1 or E2 when listed


@dataclass(frozen=True)
class CustomerChange:
    """III.5/III.7 (added, counts from its quarter) or V.1 (association lost, stops)."""

    customer: str
    kind: Literal["added", "association_lost"]
    on: dt.date


@dataclass(frozen=True)
class ContractTerms:
    target_fen: int
    customer_type: CustomerType
    main_industry: str
    previous_year_fen: int = 0
    signed_on: dt.date | None = None  # None: signed by the first day of the policy year
    deposit_paid_on: dt.date | None = None
    party_b_target_fen: int | None = None
    deposit_fen: int | None = None
    non_bidding_framework: bool = False
    frame_splicing: bool = False
    shortfall_factor: Decimal | None = None
    listed_changes: tuple[ListedChange, ...] = field(default_factory=tuple)
    customer_changes: tuple[CustomerChange, ...] = field(default_factory=tuple)

    def party_b_target(self) -> int:
        """II.3: Party B's target defaults to the agreement's target (reading party_b_target_default)."""
        return self.party_b_target_fen if self.party_b_target_fen is not None else self.target_fen

    def deposit_amount(self, policy: Policy) -> int:
        """IV.1: the deposit, 1 % of the target unless the contract states an amount."""
        if self.deposit_fen is not None:
            return self.deposit_fen
        return to_fen(Decimal(self.target_fen) * policy.deposit.rate / 100)

    def factor(self, policy: Policy) -> Decimal:
        return self.shortfall_factor if self.shortfall_factor is not None else policy.shortfall_zeroing.default_shortfall_factor

    def with_target(self, target_fen: int) -> "ContractTerms":
        """The same client with another target (negotiation what-ifs)."""
        return replace(self, target_fen=target_fen)
