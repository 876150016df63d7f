"""Who sees what: with sign-in on, user B can never load user A's client — not from the
picker, not by id in the session, not by a deep link."""
from __future__ import annotations

import uuid
from pathlib import Path

from streamlit.testing.v1 import AppTest

from store import repo
from store.db import database_url, get_engine

APP = Path(__file__).resolve().parents[1] / "streamlit_app.py"
SECRETS = {
    "auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "id",
             "client_secret": "secret", "server_metadata_url": "https://id.example/.well-known/openid-configuration"},
    "teams": {"alice@a.example": "team-a", "bob@b.example": "team-b"},
}
INPUTS = {"target_amount": 50000000, "customer_type": "regular", "main_industry": "other", "deposit_paid_on": "2024-03-01"}


def two_teams():
    from store.demo import ensure_demo

    engine = get_engine(database_url())
    ensure_demo(engine)  # the demo exists before any test client, as in production
    tag = uuid.uuid4().hex[:6]
    a = repo.create_client(engine, f"A客户 {tag}", INPUTS, team="team-a")
    b = repo.create_client(engine, f"B客户 {tag}", INPUTS, team="team-b")
    return a, b


def app_as(email: str | None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    for k, v in SECRETS.items():
        at.secrets[k] = v
    at.session_state["lang"] = "en"
    at.user = {"email": email, "is_logged_in": True} if email else {"is_logged_in": False}
    return at


def everything_shown(at: AppTest) -> str:
    return repr(at._tree)


def test_a_signed_out_user_sees_only_the_sign_in():
    a, _ = two_teams()
    at = app_as(None).run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert a.name not in everything_shown(at) and not at.metric


def test_user_b_cannot_load_user_a_client_by_id_or_query_parameter():
    a, b = two_teams()
    at = app_as("bob@b.example")
    at.session_state["client"] = a.id  # as if injected
    at.query_params["client"] = str(a.id)  # a deep link to A's client
    at.run()
    assert not at.exception
    picker = at.selectbox(key="client")
    assert a.id not in picker.options and str(a.id) not in [str(o) for o in picker.options]
    assert a.name not in everything_shown(at)
    team_b = {c.name for c in repo.list_clients(get_engine(database_url()), team="team-b")}
    assert b.name in team_b and at.header[0].value.split(":")[0] in team_b


def test_each_team_sees_only_its_own_clients():
    a, b = two_teams()
    at = app_as("alice@a.example").run()
    names = " ".join(str(o) for o in at.selectbox(key="client").options)
    assert a.name in everything_shown(at) and b.name not in everything_shown(at)
    assert all(c.team == "team-a" for c in repo.list_clients(get_engine(database_url()), team="team-a"))
    assert names


def test_an_unknown_user_is_told_to_ask_for_a_team():
    two_teams()
    at = app_as("mallory@evil.example").run()
    assert any("not in any team" in e.value for e in at.error)
    assert not at.metric


# Teams all the way down: names, remembered mappings, audit entries -----------------------
def test_names_are_unique_per_team_and_b_learns_nothing_of_a_names():
    engine = get_engine(database_url())
    a, _ = two_teams()
    assert repo.name_taken(engine, a.name, "team-a") and not repo.name_taken(engine, a.name, "team-b")
    b_same = repo.create_client(engine, a.name, INPUTS, team="team-b")  # no "name exists" for another team's name
    assert b_same.id != a.id and b_same.team == "team-b"
    import pytest

    with pytest.raises(repo.NameTakenError):
        repo.create_client(engine, a.name, INPUTS, team="team-a")


def test_opening_a_portfolio_client_whose_name_another_team_uses_works():
    import hashlib

    from conftest import row
    from conftest import rows as typed_rows

    from core.spend import SPEND_FIELDS

    engine = get_engine(database_url())
    a, _ = two_teams()
    rows = typed_rows(row("2024-02-01", 5))
    made = repo.create_client_with_rows(engine, a.name, INPUTS, rows, "s.csv", hashlib.sha256(b"s").hexdigest(),
                                        [f for f in SPEND_FIELDS if f != "amount"], team="team-b", who="bob@b.example")
    assert made.team == "team-b" and repo.load_rows(engine, made.id)["amount_fen"].tolist() == [500]


def test_a_mapping_remembered_by_team_a_never_applies_to_team_b():
    engine = get_engine(database_url())
    key = f"layout-{uuid.uuid4().hex}"
    repo.remember_mapping(engine, key, {"金额列": "funding:grant"}, team="team-a")
    assert repo.recall_mapping(engine, key, team="team-a") == {"金额列": "funding:grant"}
    assert repo.recall_mapping(engine, key, team="team-b") is None
    assert repo.recall_mapping(engine, key) is None  # nor to single-user mode


def test_team_b_upload_does_not_get_team_a_mapping_on_the_data_page():
    from core.columns import layout_key

    engine = get_engine(database_url())
    two_teams()
    data = "日期,账户ID,金额列\n2024-02-01,555,100\n".encode()
    repo.remember_mapping(engine, layout_key(["日期", "账户ID", "金额列"]), {"金额列": "funding:grant"}, team="team-a")
    at = app_as("bob@b.example").run()
    at.switch_page("pages/data.py").run()
    at.file_uploader[0].set_value(("r.csv", data, "text/csv")).run()
    assert not at.exception
    mapping_boxes = [s for s in at.selectbox if str(s.key or "").startswith("map_")]
    assert mapping_boxes and all(s.value != "funding:grant" for s in mapping_boxes)


def test_audit_entries_name_the_signed_in_user():
    engine = get_engine(database_url())
    a, _ = two_teams()
    at = app_as("alice@a.example")
    at.session_state["client"] = a.id
    at.run()
    at.number_input(key=f"target_{a.id}").set_value(61_000_000.0).run()
    assert not at.exception
    log = repo.audit_log(engine, a.id)
    changed = log[log["field"] == "target_amount"]
    assert changed["who"].tolist() == ["alice@a.example"]
