"""Reads and transactional writes of the store.

Why every write goes through here: each is one transaction (an import, a replace, an
undo, a classification change), bumps the client's version (optimistic locking: a stale
writer gets ConflictError, not a lost update) and leaves an audit entry old -> new.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import pandas as pd
from sqlalchemy import func, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.accounts import ACCOUNT_FIELDS
from core.policy import DEFAULT_POLICY
from core.spend import SPEND_FIELDS

from .models import (
    AccountClass,
    AuditEntry,
    Client,
    HeaderMemory,
    SavedScenario,
    SpendBatch,
    SpendRow,
    now,
)

ROW_FIELDS = [f for f in SPEND_FIELDS if f not in ("date", "account_id", "amount")]
CHUNK = 5_000


class ConflictError(RuntimeError):
    """Someone else changed the client since it was read; reload and try again."""


@dataclass(frozen=True)
class ImportResult:
    status: str  # imported | duplicate
    batch_id: int | None
    rows: int
    replaced_rows: int
    message: str


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _bump(session: Session, client_id: int, expected_version: int | None) -> Client:
    """Version check and bump inside the caller's transaction."""
    client = session.get(Client, client_id)
    if client is None:
        raise KeyError(f"client {client_id} does not exist")
    if expected_version is not None and client.version != expected_version:
        raise ConflictError(
            f"client '{client.name}' was changed by someone else (version {client.version}, you had {expected_version}); reload the page"
        )
    client.version += 1
    client.updated_at = now()
    session.add(client)
    return client


def _audit(session: Session, client_id: int | None, entity: str, field: str, old: Any, new: Any, who: str = "local") -> None:
    session.add(AuditEntry(client_id=client_id, entity=entity, field=field, old=None if old is None else str(old),
                           new=None if new is None else str(new), who=who))


# clients ---------------------------------------------------------------------------------
def list_clients(engine: Engine, team: str | None = None) -> list[Client]:
    """All clients (single-user mode, team None) or one team's clients only."""
    with Session(engine) as s:
        q = select(Client).order_by(Client.name)
        if team is not None:
            q = q.where(Client.team == team)
        return list(s.exec(q))


def get_client(engine: Engine, client_id: int) -> Client | None:
    with Session(engine) as s:
        return s.get(Client, client_id)


def create_client(engine: Engine, name: str, inputs: dict, as_of: dt.date | None = None,
                  policy: str = DEFAULT_POLICY, team: str | None = None) -> Client:
    with Session(engine) as s, s.begin():
        client = Client(name=name, policy=policy, inputs_json=_json(inputs), as_of=as_of, team=team)
        s.add(client)
        s.flush()
        _audit(s, client.id, "client", "created", None, name)
        s.expunge(client)
    return client


def update_client_inputs(engine: Engine, client_id: int, expected_version: int, inputs: dict,
                         as_of: dt.date | None) -> Client:
    """Save changed inputs with one audit entry per changed key."""
    with Session(engine) as s, s.begin():
        client = _bump(s, client_id, expected_version)
        old = json.loads(client.inputs_json)
        for key in sorted(set(old) | set(inputs)):
            if _json(old.get(key)) != _json(inputs.get(key)):
                _audit(s, client_id, "client", key, old.get(key), inputs.get(key))
        if client.as_of != as_of:
            _audit(s, client_id, "client", "as_of", client.as_of, as_of)
        client.inputs_json, client.as_of = _json(inputs), as_of
        s.flush()
        s.expunge(client)
    return client


# spend -----------------------------------------------------------------------------------
def _active_rows(client_id: int):
    return select(SpendRow).where(SpendRow.client_id == client_id, SpendRow.replaced_by.is_(None))


def overlapping_row_ids(session: Session, client_id: int, rows: pd.DataFrame) -> list[int]:
    """Ids of active stored rows on the same account-days as the new rows."""
    if rows.empty:
        return []
    accounts = sorted(rows["account_id"].astype(str).unique())
    lo, hi = rows["date"].min().date(), rows["date"].max().date()
    stored = session.exec(
        select(SpendRow.id, SpendRow.account_id, SpendRow.date).where(
            SpendRow.client_id == client_id, SpendRow.replaced_by.is_(None),
            SpendRow.account_id.in_(accounts), SpendRow.date >= lo, SpendRow.date <= hi,
        )
    ).all()
    if not stored:
        return []
    old = pd.DataFrame(stored, columns=["id", "account_id", "date"])
    new_keys = set(zip(rows["account_id"].astype(str), rows["date"].dt.date))
    hit = [k in new_keys for k in zip(old["account_id"], old["date"])]
    return old.loc[hit, "id"].astype(int).tolist()


def count_overlap(engine: Engine, client_id: int, rows: pd.DataFrame) -> int:
    with Session(engine) as s:
        return len(overlapping_row_ids(s, client_id, rows))


def _row_dicts(rows: pd.DataFrame, given: Iterable[str], batch_id: int, client_id: int) -> list[dict]:
    frame = pd.DataFrame(
        {
            "batch_id": batch_id, "client_id": client_id, "source_row": rows["source_row"].astype(int),
            "date": rows["date"].dt.date, "account_id": rows["account_id"].astype(str),
            "amount_fen": rows["amount_fen"].astype("int64"),
        }
    )
    for f in ROW_FIELDS:
        if f in given:
            col = rows[f]
            frame[f] = col.astype(bool) if SPEND_FIELDS[f].kind == "bool" else col.astype(str)
        else:
            frame[f] = None
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.to_dict("records")


def import_batch(engine: Engine, client_id: int, file_name: str, sha256: str, rows: pd.DataFrame,
                 given: Iterable[str], mode: str = "replace", layout_key: str = "",
                 expected_version: int | None = None, who: str = "local",
                 progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Store validated rows as one batch, in one transaction. Re-uploading the same file
    is a no-op; in replace mode active rows on the same account-days are superseded."""
    if mode not in ("replace", "append"):
        raise ValueError("mode must be 'replace' or 'append'")
    given = tuple(given)
    with Session(engine) as s, s.begin():
        same = s.exec(select(SpendBatch).where(SpendBatch.client_id == client_id, SpendBatch.sha256 == sha256,
                                               SpendBatch.status == "active")).first()
        if same is not None:
            return ImportResult("duplicate", same.id, 0, 0,
                                f"{file_name}: this file was already imported on {same.created_at:%Y-%m-%d %H:%M} (batch {same.id}); nothing changed")
        _bump(s, client_id, expected_version)
        return _import_rows(s, client_id, file_name, sha256, rows, given, mode, layout_key, who, progress)


def _import_rows(s: Session, client_id: int, file_name: str, sha256: str, rows: pd.DataFrame, given: tuple[str, ...],
                 mode: str, layout_key: str, who: str, progress: Callable[[int, int], None] | None) -> ImportResult:
    """The rows of one batch, inside the caller's transaction."""
    batch = SpendBatch(client_id=client_id, file_name=file_name, sha256=sha256, row_count=len(rows),
                       mode=mode, layout_key=layout_key, created_by=who)
    s.add(batch)
    s.flush()
    replaced = overlapping_row_ids(s, client_id, rows) if mode == "replace" else []
    for i in range(0, len(replaced), 500):
        s.execute(update(SpendRow).where(SpendRow.id.in_(replaced[i:i + 500])).values(replaced_by=batch.id))
    batch.replaced_rows = len(replaced)
    records = _row_dicts(rows, given, batch.id, client_id)
    for i in range(0, len(records), CHUNK):
        s.execute(insert(SpendRow), records[i:i + CHUNK])
        if progress is not None:  # rows written so far (inside the open transaction), total
            progress(min(i + CHUNK, len(records)), len(records))
    _audit(s, client_id, "batch", "imported", None, f"{file_name} ({len(rows)} rows, {mode}, replaced {len(replaced)})", who)
    return ImportResult("imported", batch.id, len(rows), len(replaced),
                        f"{file_name}: {len(rows)} rows imported" + (f", {len(replaced)} earlier rows replaced" if replaced else ""))


def create_client_with_rows(engine: Engine, name: str, inputs: dict, rows: pd.DataFrame, file_name: str, sha256: str,
                            given: Iterable[str], as_of: dt.date | None = None, policy: str = DEFAULT_POLICY,
                            team: str | None = None, who: str = "local") -> Client:
    """A new client and its spend in one transaction (a portfolio client opened in the
    dashboard): either both exist afterwards or neither."""
    with Session(engine) as s, s.begin():
        client = Client(name=name, policy=policy, inputs_json=_json(inputs), as_of=as_of, team=team)
        s.add(client)
        s.flush()
        _audit(s, client.id, "client", "created", None, name, who)
        _import_rows(s, client.id, file_name, sha256, rows, tuple(given), "replace", "", who, None)
        s.expunge(client)
    return client


def undo_batch(engine: Engine, batch_id: int, expected_version: int | None = None) -> None:
    """Remove a batch's rows and bring back the rows it replaced, in one transaction."""
    with Session(engine) as s, s.begin():
        batch = s.get(SpendBatch, batch_id)
        if batch is None or batch.status != "active":
            raise KeyError(f"batch {batch_id} is not an active batch")
        _bump(s, batch.client_id, expected_version)
        s.execute(update(SpendRow).where(SpendRow.replaced_by == batch_id).values(replaced_by=None))
        s.execute(SpendRow.__table__.delete().where(SpendRow.batch_id == batch_id))
        batch.status = "undone"
        s.add(batch)
        _audit(s, batch.client_id, "batch", "undone", batch.file_name, None)


def list_batches(engine: Engine, client_id: int) -> pd.DataFrame:
    with Session(engine) as s:
        batches = s.exec(select(SpendBatch).where(SpendBatch.client_id == client_id).order_by(SpendBatch.id.desc())).all()
        return pd.DataFrame([b.model_dump() for b in batches])


def load_rows(engine: Engine, client_id: int) -> pd.DataFrame:
    """Active stored rows as canonical cells (None where the classification decides)."""
    cols = ["source_row", "date", "account_id", *ROW_FIELDS, "amount_fen"]
    with Session(engine) as s:
        result = s.exec(select(*[getattr(SpendRow, c) for c in cols]).where(
            SpendRow.client_id == client_id, SpendRow.replaced_by.is_(None)).order_by(SpendRow.id))
        return pd.DataFrame(result.all(), columns=cols)


def row_count(engine: Engine, client_id: int) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(SpendRow).where(
            SpendRow.client_id == client_id, SpendRow.replaced_by.is_(None))).one()


# account classification ------------------------------------------------------------------
CLASS_COLUMNS = ["account_id", "account_name", *ACCOUNT_FIELDS]


def get_classification(engine: Engine, client_id: int) -> pd.DataFrame:
    with Session(engine) as s:
        items = s.exec(select(AccountClass).where(AccountClass.client_id == client_id).order_by(AccountClass.account_id)).all()
        return pd.DataFrame([{c: getattr(a, c) for c in CLASS_COLUMNS} for a in items], columns=CLASS_COLUMNS)


def save_classification(engine: Engine, client_id: int, table: pd.DataFrame, expected_version: int | None = None) -> int:
    """Upsert the classification; one audit entry per changed cell. Returns cells changed."""
    changed = 0
    with Session(engine) as s, s.begin():
        _bump(s, client_id, expected_version)
        existing = {a.account_id: a for a in s.exec(select(AccountClass).where(AccountClass.client_id == client_id))}
        for rec in table.to_dict("records"):
            acc = str(rec["account_id"])
            item = existing.get(acc) or AccountClass(client_id=client_id, account_id=acc)
            for c in CLASS_COLUMNS[1:]:
                if c not in rec or rec[c] is None or (isinstance(rec[c], float) and pd.isna(rec[c])):
                    continue
                new = bool(rec[c]) if c in ("bidding", "via_party_b") else str(rec[c])
                old = getattr(item, c) if acc in existing else None
                if old != new:
                    if acc in existing:
                        _audit(s, client_id, "classification", f"{acc}.{c}", old, new)
                        changed += 1
                    setattr(item, c, new)
            if acc not in existing:
                _audit(s, client_id, "classification", f"{acc}", None, "added")
                changed += 1
            item.updated_at = now()
            s.add(item)
    return changed


# header mappings, scenarios, audit ------------------------------------------------------
def recall_mapping(engine: Engine, layout_key: str) -> dict[str, str] | None:
    with Session(engine) as s:
        memo = s.get(HeaderMemory, layout_key)
        return json.loads(memo.mapping_json) if memo else None


def remember_mapping(engine: Engine, layout_key: str, mapping: dict[str, str]) -> None:
    with Session(engine) as s, s.begin():
        memo = s.get(HeaderMemory, layout_key) or HeaderMemory(layout_key=layout_key, mapping_json="{}")
        memo.mapping_json, memo.updated_at = _json(mapping), now()
        s.add(memo)


def save_scenario(engine: Engine, client_id: int, name: str, inputs: dict, as_of: dt.date | None) -> int:
    with Session(engine) as s, s.begin():
        sc = SavedScenario(client_id=client_id, name=name, inputs_json=_json(inputs), as_of=as_of)
        s.add(sc)
        _audit(s, client_id, "scenario", "saved", None, name)
        s.flush()
        return int(sc.id)


def list_scenarios(engine: Engine, client_id: int) -> list[SavedScenario]:
    with Session(engine) as s:
        return list(s.exec(select(SavedScenario).where(SavedScenario.client_id == client_id).order_by(SavedScenario.id)))


def audit_log(engine: Engine, client_id: int) -> pd.DataFrame:
    with Session(engine) as s:
        items = s.exec(select(AuditEntry).where(AuditEntry.client_id == client_id).order_by(AuditEntry.id.desc())).all()
        return pd.DataFrame([e.model_dump(exclude={"client_id"}) for e in items])
