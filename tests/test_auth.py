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
