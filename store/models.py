"""Tables (SQLModel): clients, spend batches and rows, account classification, remembered
header mappings, saved scenarios and the audit log.

Why spend rows keep NULL where the file said nothing: the account classification fills
those at evaluation time, so changing a classification re-evaluates every stored upload.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Column, Index, Integer, UniqueConstraint

# 64-bit ids on PostgreSQL; SQLite only autoincrements INTEGER PRIMARY KEY (which is 64-bit there).
RowId = BigInteger().with_variant(Integer(), "sqlite")
from sqlmodel import Field, SQLModel

from core.policy import DEFAULT_POLICY


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Client(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)  # unique per team: store.db's ux_client_team_name
    policy: str = DEFAULT_POLICY
    inputs_json: str  # the scenario's "client" object (scenario-format.md)
    as_of: dt.date | None = None
    team: str | None = Field(default=None, index=True)
    version: int = 1  # optimistic lock: every write bumps it
    spend_version: int = 1  # bumped only by writes to the spend (rows, classification): what spend caches key on
    created_at: dt.datetime = Field(default_factory=now)
    updated_at: dt.datetime = Field(default_factory=now)


class SpendBatch(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    file_name: str
    sha256: str = Field(index=True)
    row_count: int
    mode: str = "replace"  # replace | append
    status: str = "active"  # active | undone
    replaced_rows: int = 0
    layout_key: str = ""
    warnings: int = 0  # what the reader warned about this file (summary rows, parts, defaults …)
    created_at: dt.datetime = Field(default_factory=now)
    created_by: str = "local"


class SpendRow(SQLModel, table=True):
    __table_args__ = (Index("ix_spendrow_client_active", "client_id", "replaced_by"),)
    id: int | None = Field(default=None, sa_column=Column(RowId, primary_key=True, autoincrement=True))
    batch_id: int = Field(foreign_key="spendbatch.id", index=True)
    client_id: int = Field(foreign_key="client.id")
    replaced_by: int | None = Field(default=None, foreign_key="spendbatch.id")
    source_row: int
    date: dt.date
    account_id: str
    customer: str | None = None
    platform: str | None = None
    network: str | None = None
    bidding: bool | None = None
    brand_bidding: bool | None = None
    placement: str | None = None
    funding: str | None = None
    industry_class: str | None = None
    business_model: str | None = None
    ad_model: str | None = None
    kol_reuses_xingtu_video: bool | None = None
    via_party_b: bool | None = None
    special: str | None = None
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))


class AccountClass(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("client_id", "account_id"),)
    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    account_id: str
    account_name: str = ""
    customer: str = ""
    platform: str = "ocean_ads"
    network: str = "douyin"
    placement: str = "feed"
    bidding: bool = True
    industry_class: str = "A"
    business_model: str = "brand"
    ad_model: str = "standard"
    via_party_b: bool = True
    special: str = ""
    updated_at: dt.datetime = Field(default_factory=now)


class HeaderMapping(SQLModel, table=True):
    """A remembered column mapping, per team ('' in single-user mode) and header layout.
    (The old team-less table `headermemory` is left unread: its mappings crossed teams.)"""
    __table_args__ = (UniqueConstraint("team", "layout_key"),)
    id: int | None = Field(default=None, primary_key=True)
    team: str = ""
    layout_key: str
    mapping_json: str
    updated_at: dt.datetime = Field(default_factory=now)


class SavedScenario(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    name: str
    inputs_json: str
    as_of: dt.date | None = None
    policy: str | None = None  # the contract it was saved under (shipped name or db:<id>, both immutable)
    created_at: dt.datetime = Field(default_factory=now)


class SavedNegotiation(SQLModel, table=True):
    """Next year's agreement as modelled on the Negotiation page: its settings and the table
    it showed, kept as shown (sales keep the offer they discussed, not a re-run)."""

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    name: str
    policy: str  # the contract negotiated under: a shipped name, db:<id>, or next:<the client's contract>
    settings_json: str
    result_json: str  # one record per candidate target (fen, probabilities)
    created_at: dt.datetime = Field(default_factory=now)


class AuditEntry(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    client_id: int | None = Field(default=None, foreign_key="client.id", index=True)
    at: dt.datetime = Field(default_factory=now)
    who: str = "local"
    entity: str  # client | classification | batch
    field: str
    old: str | None = None
    new: str | None = None


class UserPreference(SQLModel, table=True):
    """The last client a user opened (per team), so a fresh session opens their client —
    not whichever sorts first, where a sidebar edit would land on someone else's."""

    user: str = Field(primary_key=True)
    team: str = Field(default="", primary_key=True)
    last_client_id: int | None = Field(default=None, foreign_key="client.id")
    updated_at: dt.datetime = Field(default_factory=now)


class PolicyVersion(SQLModel, table=True):
    """A contract's terms saved from the Contract terms page: immutable (a change is a new
    row), per team, so a client or a saved scenario always evaluates the terms it was given.
    Referenced as "db:<id>" wherever a policy name is expected."""

    id: int | None = Field(default=None, primary_key=True)
    team: str = Field(default="", index=True)
    name: str = Field(index=True)
    based_on: str = ""
    toml_text: str
    created_by: str = "local"
    created_at: dt.datetime = Field(default_factory=now)
