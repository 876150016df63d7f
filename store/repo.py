"""Reads and transactional writes of the store.

Why every write goes through here: each is one transaction (an import, a replace, an
undo, a classification change), bumps the client's version (optimistic locking: a stale
writer gets ConflictError, not a lost update) and leaves an audit entry old -> new.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, TypeVar

import pandas as pd
from sqlalchemy import func, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from core.accounts import ACCOUNT_FIELDS
from core.policy import DEFAULT_POLICY
from core.spend import SPEND_FIELDS

from .models import (
    AccountClass,
    AuditEntry,
    Client,
    HeaderMapping,
    PolicyVersion,
    SavedNegotiation,
    SavedScenario,
    SpendBatch,
    SpendRow,
    UserPreference,
    now,
)

ROW_FIELDS = [f for f in SPEND_FIELDS if f not in ("date", "account_id", "amount")]
CHUNK = 5_000


class ConflictError(RuntimeError):
    """Someone else changed the client since it was read; reload and try again."""


class BusyError(RuntimeError):
    """The database stayed locked by another writer (a long import) through every retry;
    nothing was saved and the caller keeps the user's value to try again."""


class NameTakenError(ValueError):
    """A client of that name already exists in the same team."""


T = TypeVar("T")
RETRY_WAITS = (0.5, 1.5, 4.0)  # seconds between attempts after the driver's own busy wait


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text or "lock timeout" in text or "deadlock" in text


def with_retry(write: Callable[[], T], waits: tuple[float, ...] | None = None) -> T:
    """Run one whole write transaction, again after a back-off while another writer holds
    the lock; BusyError when it never frees. A conflict (stale version) is not retried."""
    for wait in (*(RETRY_WAITS if waits is None else waits), None):
        try:
            return write()
        except OperationalError as exc:
            if not _is_busy(exc):
                raise
            if wait is None:
                raise BusyError("another import or change is being written right now; your change was not saved — try again") from None
            time.sleep(wait)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class ImportResult:
    status: str  # imported | duplicate
    batch_id: int | None
    rows: int
    replaced_rows: int
    message: str


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _bump(session: Session, client_id: int, expected_version: int | None, spend: bool = False) -> Client:
    """Version check and bump inside the caller's transaction, as one conditional UPDATE
    (… WHERE id = :id AND version = :v) whose row count decides: of two writers that read
    the same version, exactly one matches; the other gets ConflictError. Reading the
    version first and writing it back lost one of two simultaneous changes.
    Call it first in a transaction: on SQLite its UPDATE takes the write lock before any
    read, so the transaction never has to upgrade a read snapshot.
    ``spend``: the write changes the spend (rows or classification), so the spend version moves
    too — every cache of typed rows, forecasts and backtests keys on it, and a what-if on the
    terms (which does not move it) reuses them."""
    stmt = update(Client).where(Client.id == client_id)
    if expected_version is not None:
        stmt = stmt.where(Client.version == expected_version)
    bumped = {"version": Client.version + 1, "updated_at": now()}
    if spend:
        bumped["spend_version"] = Client.spend_version + 1
    result = session.execute(stmt.values(**bumped))
    client = session.get(Client, client_id, populate_existing=True)
    if client is None:
        raise KeyError(f"client {client_id} does not exist")
    if result.rowcount != 1:
        raise ConflictError(
            f"client '{client.name}' was changed by someone else (version {client.version}, you had {expected_version}); reload the page"
        )
    return client


def _audit(session: Session, client_id: int | None, entity: str, field: str, old: Any, new: Any, who: str) -> None:
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


def remember_client(engine: Engine, user: str, team: str | None, client_id: int) -> None:
    """Record the client a user opened (one small transaction; a busy database just skips it:
    a preference is not worth an error)."""
    def write() -> None:
        with Session(engine) as s, s.begin():
            pref = s.get(UserPreference, (user, team or ""))
            if pref is None:
                s.add(UserPreference(user=user, team=team or "", last_client_id=client_id))
            else:
                pref.last_client_id, pref.updated_at = client_id, now()
    try:
        with_retry(write, waits=(0.05,))
    except (BusyError, IntegrityError):  # another tab of the same user wrote it first
        pass


def last_client(engine: Engine, user: str, team: str | None) -> int | None:
    with Session(engine) as s:
        pref = s.get(UserPreference, (user, team or ""))
        return pref.last_client_id if pref is not None else None


# contract terms ---------------------------------------------------------------------------
POLICY_REF = "db:"


def save_policy(engine: Engine, name: str, toml_text: str, based_on: str, team: str | None = None,
                who: str = "local") -> PolicyVersion:
    """A new immutable version of a team's contract terms (validated by the caller), audited."""
    def write() -> PolicyVersion:
        with Session(engine) as s, s.begin():
            version = PolicyVersion(team=team or "", name=name, based_on=based_on, toml_text=toml_text, created_by=who)
            s.add(version)
            s.flush()
            _audit(s, None, "policy", name, based_on, f"{POLICY_REF}{version.id}", who)
            s.expunge(version)
            return version
    return with_retry(write)


def list_policy_versions(engine: Engine, team: str | None = None) -> list[PolicyVersion]:
    """Saved contract terms, newest first (one team's, or all in single-user mode)."""
    with Session(engine) as s:
        q = select(PolicyVersion).order_by(PolicyVersion.id.desc())
        if team is not None:
            q = q.where(PolicyVersion.team == team)
        return list(s.exec(q))


def get_policy_version(engine: Engine, version_id: int) -> PolicyVersion | None:
    with Session(engine) as s:
        return s.get(PolicyVersion, version_id)


def set_client_policy(engine: Engine, client_id: int, expected_version: int, policy: str, who: str = "local") -> Client:
    """The contract terms a client is evaluated under (a shipped name or "db:<id>"), audited."""
    def write() -> Client:
        with Session(engine) as s, s.begin():
            client = _bump(s, client_id, expected_version)
            if client.policy != policy:
                _audit(s, client_id, "client", "policy", client.policy, policy, who)
            client.policy = policy
            s.flush()
            s.expunge(client)
        return client
    return with_retry(write)


def get_client(engine: Engine, client_id: int) -> Client | None:
    with Session(engine) as s:
        return s.get(Client, client_id)


def name_taken(engine: Engine, name: str, team: str | None) -> bool:
    """Whether the team already has a client of that name (other teams' names are not asked)."""
    with Session(engine) as s:
        return s.exec(select(Client.id).where(Client.name == name, _same_team(team))).first() is not None


def _same_team(team: str | None):
    return Client.team.is_(None) if team is None else Client.team == team


def _new_client(s: Session, name: str, inputs: dict, as_of: dt.date | None, policy: str, team: str | None, who: str) -> Client:
    client = Client(name=name, policy=policy, inputs_json=_json(inputs), as_of=as_of, team=team)
    s.add(client)
    try:
        s.flush()
    except IntegrityError:  # the (team, name) unique index: a same-team race or a repeat
        raise NameTakenError(f"a client named '{name}' already exists") from None
    _audit(s, client.id, "client", "created", None, name, who)
    return client


def create_client(engine: Engine, name: str, inputs: dict, as_of: dt.date | None = None,
                  policy: str = DEFAULT_POLICY, team: str | None = None, who: str = "local") -> Client:
    def write() -> Client:
        with Session(engine) as s, s.begin():
            client = _new_client(s, name, inputs, as_of, policy, team, who)
            s.expunge(client)
        return client
    return with_retry(write)


def update_client_inputs(engine: Engine, client_id: int, expected_version: int, inputs: dict,
                         as_of: dt.date | None, who: str = "local") -> Client:
    """Save changed inputs with one audit entry per changed key."""
    def write() -> Client:
        with Session(engine) as s, s.begin():
            client = _bump(s, client_id, expected_version)
            old = json.loads(client.inputs_json)
            for key in sorted(set(old) | set(inputs)):
                if _json(old.get(key)) != _json(inputs.get(key)):
                    _audit(s, client_id, "client", key, old.get(key), inputs.get(key), who)
            if client.as_of != as_of:
                _audit(s, client_id, "client", "as_of", client.as_of, as_of, who)
            client.inputs_json, client.as_of = _json(inputs), as_of
            s.flush()
            s.expunge(client)
        return client
    return with_retry(write)


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


def records(frame: pd.DataFrame) -> list[dict]:
    """A frame's rows as dicts of plain Python values (None where missing), as
    ``frame.astype(object).where(frame.notna(), None).to_dict("records")`` gives them —
    built column by column: to_dict boxed each cell, 0.25 s of a 9,418-row import."""
    names = list(frame.columns)
    return [dict(zip(names, values)) for values in zip(*_column_values(frame))]


def _column_values(frame: pd.DataFrame) -> list[list]:
    """Each column as a list of plain Python values, None where missing."""
    return [frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in frame.columns]


RAW_INSERT_DIALECTS = ("sqlite",)  # where _insert_rows hands the driver plain tuples


def _insert_rows(s: Session, frame: pd.DataFrame, progress: Callable[[int, int], None] | None) -> None:
    """A batch's rows in chunks, inside the caller's transaction, ``progress`` after each.
    On SQLite the driver's executemany takes plain tuples, dates as the ISO text
    SQLAlchemy's SQLite Date stores: SQLAlchemy's per-row parameter processing was most of
    a 110k-row import (store 3.25 → 1.07–1.24 s). Elsewhere the table's Core insert (batched
    VALUES on PostgreSQL). A test checks both store the same rows."""
    conn = s.connection()
    names = list(frame.columns)
    raw = conn.dialect.name in RAW_INSERT_DIALECTS
    if raw:
        columns = _column_values(frame)
        at = names.index("date")
        columns[at] = [None if d is None else d.isoformat() for d in columns[at]]
        rows: list = list(zip(*columns))
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        quoted = ", ".join(f'"{n}"' for n in names)
        sql = f"INSERT INTO {SpendRow.__tablename__} ({quoted}) VALUES ({', '.join('?' * len(names))})"
    else:
        rows = records(frame)
    for i in range(0, len(rows), CHUNK):
        if raw:
            cursor.executemany(sql, rows[i:i + CHUNK])
        else:
            s.execute(insert(SpendRow.__table__), rows[i:i + CHUNK])  # type: ignore[attr-defined]
        if progress is not None:  # rows written so far (inside the open transaction), total
            progress(min(i + CHUNK, len(rows)), len(rows))


def _row_frame(rows: pd.DataFrame, given: Iterable[str], batch_id: int, client_id: int) -> pd.DataFrame:
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
    return frame


class _Duplicate(Exception):
    """Rolls back the version bump when the file turns out to be stored already."""

    def __init__(self, result: ImportResult):
        self.result = result


def import_batch(engine: Engine, client_id: int, file_name: str, sha256: str, rows: pd.DataFrame,
                 given: Iterable[str], mode: str = "replace", layout_key: str = "",
                 expected_version: int | None = None, who: str = "local",
                 progress: Callable[[int, int], None] | None = None,
                 new_accounts: pd.DataFrame | None = None, warnings: int = 0) -> ImportResult:
    """Store validated rows as one batch, in one transaction, with the classification of
    accounts the file introduces (so neither lands without the other). Re-uploading the
    same file is a no-op; in replace mode active rows on the same account-days are
    superseded. Two racing imports of one client version: one lands, one conflicts."""
    if mode not in ("replace", "append"):
        raise ValueError("mode must be 'replace' or 'append'")
    given = tuple(given)

    def write() -> ImportResult:
        with Session(engine) as s, s.begin():
            _bump(s, client_id, expected_version, spend=True)
            same = s.exec(select(SpendBatch).where(SpendBatch.client_id == client_id, SpendBatch.sha256 == sha256,
                                                   SpendBatch.status == "active")).first()
            if same is not None:
                raise _Duplicate(ImportResult("duplicate", same.id, 0, 0,
                                              f"{file_name}: this file was already imported on {same.created_at:%Y-%m-%d %H:%M} (batch {same.id}); nothing changed"))
            result = _import_rows(s, client_id, file_name, sha256, rows, given, mode, layout_key, who, progress, warnings)
            if new_accounts is not None and len(new_accounts):
                _upsert_classification(s, client_id, new_accounts, who)
            return result
    try:
        return with_retry(write)
    except _Duplicate as dup:
        return dup.result


def _import_rows(s: Session, client_id: int, file_name: str, sha256: str, rows: pd.DataFrame, given: tuple[str, ...],
                 mode: str, layout_key: str, who: str, progress: Callable[[int, int], None] | None,
                 warnings: int = 0) -> ImportResult:
    """The rows of one batch, inside the caller's transaction."""
    batch = SpendBatch(client_id=client_id, file_name=file_name, sha256=sha256, row_count=len(rows),
                       mode=mode, layout_key=layout_key, created_by=who, warnings=warnings)
    s.add(batch)
    s.flush()
    replaced = overlapping_row_ids(s, client_id, rows) if mode == "replace" else []
    for i in range(0, len(replaced), 500):
        s.execute(update(SpendRow).where(SpendRow.id.in_(replaced[i:i + 500])).values(replaced_by=batch.id))
    batch.replaced_rows = len(replaced)
    _insert_rows(s, _row_frame(rows, given, batch.id, client_id), progress)
    _audit(s, client_id, "batch", "imported", None, f"{file_name} ({len(rows)} rows, {mode}, replaced {len(replaced)})", who)
    return ImportResult("imported", batch.id, len(rows), len(replaced),
                        f"{file_name}: {len(rows)} rows imported" + (f", {len(replaced)} earlier rows replaced" if replaced else ""))


def create_client_with_rows(engine: Engine, name: str, inputs: dict, rows: pd.DataFrame, file_name: str, sha256: str,
                            given: Iterable[str], as_of: dt.date | None = None, policy: str = DEFAULT_POLICY,
                            team: str | None = None, who: str = "local") -> Client:
    """A new client and its spend in one transaction (a portfolio client opened in the
    dashboard): either both exist afterwards or neither."""
    def write() -> Client:
        with Session(engine) as s, s.begin():
            client = _new_client(s, name, inputs, as_of, policy, team, who)
            _import_rows(s, client.id, file_name, sha256, rows, tuple(given), "replace", "", who, None)
            s.expunge(client)
        return client
    return with_retry(write)


def undo_batch(engine: Engine, client_id: int, batch_id: int, expected_version: int | None = None, who: str = "local") -> None:
    """Remove a batch's rows and bring back the rows it replaced, in one transaction.
    The batch must belong to client_id (a page can only undo the open client's batches)."""
    def write() -> None:
        with Session(engine) as s, s.begin():
            _bump(s, client_id, expected_version, spend=True)
            batch = s.get(SpendBatch, batch_id)
            if batch is None or batch.status != "active" or batch.client_id != client_id:
                raise KeyError(f"batch {batch_id} is not an active batch of this client")
            s.execute(update(SpendRow).where(SpendRow.replaced_by == batch_id).values(replaced_by=None))
            s.execute(SpendRow.__table__.delete().where(SpendRow.batch_id == batch_id))
            batch.status = "undone"
            s.add(batch)
            _audit(s, client_id, "batch", "undone", batch.file_name, None, who)
    with_retry(write)


def list_batches(engine: Engine, client_id: int) -> pd.DataFrame:
    with Session(engine) as s:
        batches = s.exec(select(SpendBatch).where(SpendBatch.client_id == client_id).order_by(SpendBatch.id.desc())).all()
        return pd.DataFrame([b.model_dump() for b in batches])


def load_rows(engine: Engine, client_id: int) -> pd.DataFrame:
    """Active stored rows as canonical cells (None where the classification decides)."""
    cols = ["source_row", "date", "account_id", *ROW_FIELDS, "amount_fen"]
    with Session(engine) as s:
        rows = s.exec(select(*[getattr(SpendRow, c) for c in cols]).where(
            SpendRow.client_id == client_id, SpendRow.replaced_by.is_(None)).order_by(SpendRow.id)).all()
    columns = list(zip(*rows)) if rows else [() for _ in cols]  # column by column: half the time of a frame from row tuples
    return pd.DataFrame({c: list(v) for c, v in zip(cols, columns)})


def data_warnings(engine: Engine, client_id: int) -> int:
    """Reader warnings of the client's active imports (the badge on every page)."""
    with Session(engine) as s:
        return int(s.exec(select(func.coalesce(func.sum(SpendBatch.warnings), 0)).where(
            SpendBatch.client_id == client_id, SpendBatch.status == "active")).one())


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


def save_classification(engine: Engine, client_id: int, table: pd.DataFrame, expected_version: int | None = None,
                        who: str = "local") -> int:
    """Upsert the classification; one audit entry per changed cell. Returns cells changed."""
    def write() -> int:
        with Session(engine) as s, s.begin():
            _bump(s, client_id, expected_version, spend=True)
            return _upsert_classification(s, client_id, table, who)
    return with_retry(write)


def _upsert_classification(s: Session, client_id: int, table: pd.DataFrame, who: str) -> int:
    changed = 0
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
                    _audit(s, client_id, "classification", f"{acc}.{c}", old, new, who)
                    changed += 1
                setattr(item, c, new)
        if acc not in existing:
            _audit(s, client_id, "classification", f"{acc}", None, "added", who)
            changed += 1
        item.updated_at = now()
        s.add(item)
    return changed


# header mappings, scenarios, audit ------------------------------------------------------
def _team_key(team: str | None) -> str:
    return team or ""


def recall_mapping(engine: Engine, layout_key: str, team: str | None = None) -> dict[str, str] | None:
    """The mapping this team remembered for this header layout (another team's never applies)."""
    with Session(engine) as s:
        memo = s.exec(select(HeaderMapping).where(HeaderMapping.team == _team_key(team),
                                                  HeaderMapping.layout_key == layout_key)).first()
        return json.loads(memo.mapping_json) if memo else None


def remember_mapping(engine: Engine, layout_key: str, mapping: dict[str, str], team: str | None = None) -> None:
    def write() -> None:
        with Session(engine) as s, s.begin():
            memo = s.exec(select(HeaderMapping).where(HeaderMapping.team == _team_key(team),
                                                      HeaderMapping.layout_key == layout_key)).first()
            memo = memo or HeaderMapping(team=_team_key(team), layout_key=layout_key, mapping_json="{}")
            memo.mapping_json, memo.updated_at = _json(mapping), now()
            s.add(memo)
    with_retry(write)


def save_scenario(engine: Engine, client_id: int, name: str, inputs: dict, as_of: dt.date | None, who: str = "local",
                  policy: str | None = None) -> int:
    """A named copy of the inputs, pinned to the contract they were evaluated under (shipped
    contracts and saved versions never change, so the scenario reads the same later)."""
    def write() -> int:
        with Session(engine) as s, s.begin():
            sc = SavedScenario(client_id=client_id, name=name, inputs_json=_json(inputs), as_of=as_of, policy=policy)
            s.add(sc)
            _audit(s, client_id, "scenario", "saved", None, name, who)
            s.flush()
            return int(sc.id)
    return with_retry(write)


def save_negotiation(engine: Engine, client_id: int, name: str, policy: str, settings: dict, result: pd.DataFrame,
                     who: str = "local") -> int:
    """A negotiation as shown, in one transaction with its audit entry."""
    def write() -> int:
        with Session(engine) as s, s.begin():
            n = SavedNegotiation(client_id=client_id, name=name, policy=policy, settings_json=_json(settings),
                                 result_json=result.to_json(orient="records"))
            s.add(n)
            _audit(s, client_id, "negotiation", "saved", None, name, who)
            s.flush()
            return int(n.id)
    return with_retry(write)


def list_negotiations(engine: Engine, client_id: int) -> list[SavedNegotiation]:
    with Session(engine) as s:
        q = select(SavedNegotiation).where(SavedNegotiation.client_id == client_id).order_by(SavedNegotiation.id.desc())
        return list(s.exec(q))


def list_scenarios(engine: Engine, client_id: int) -> list[SavedScenario]:
    with Session(engine) as s:
        return list(s.exec(select(SavedScenario).where(SavedScenario.client_id == client_id).order_by(SavedScenario.id)))


def audit_log(engine: Engine, client_id: int) -> pd.DataFrame:
    with Session(engine) as s:
        items = s.exec(select(AuditEntry).where(AuditEntry.client_id == client_id).order_by(AuditEntry.id.desc())).all()
        return pd.DataFrame([e.model_dump(exclude={"client_id"}) for e in items])
