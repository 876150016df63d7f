"""User text is text: a client, file or column named like markdown or HTML never becomes a
link or an image on any page, in either language (AppTest's markdown bodies rendered with
a GFM-like markdown parser; tests/test_e2e.py checks the same in Chromium)."""
from __future__ import annotations

import hashlib
import re
import uuid

import pytest
from markdown_it import MarkdownIt

from core.columns import map_headers
from core.ingest import prepare_spend, read_table
from core.policy import load_policy
from store import repo
from store.db import database_url, get_engine
from tests.test_app import PAGES, run_app
from ui.text import plain, plotly_text

pytestmark = pytest.mark.app  # whole pages through AppTest

EVIL = "![x](http://evil.test/p.png) [a](javascript:alert(1)) <img src=http://evil.test/i.png> www.evil.test :red[x] $x$"
MD = MarkdownIt("gfm-like", {"linkify": True, "html": True})


def _rendered(text: str) -> str:
    """HTML of the markdown; GFM autolink literals (which browsers' remark-gfm finds after
    escapes are resolved) are marked as links too, so the check matches Chromium."""
    html = MD.render(text)
    unescaped = re.sub(r"\\(.)", r"\1", text)
    if re.search(r"(?i)https?://|www\.|[\w.+-]@[\w-]+\.", unescaped):
        html += "<a autolink>"
    return html


def test_plain_text_never_renders_as_a_link_or_an_image():
    for text in (EVIL, "http://evil.test/a", "a@evil.test", "# heading\n* item", "<script>x</script>", "_x_ **y**"):
        html = _rendered(plain(text))
        assert "<a " not in html and "<img" not in html and "<script" not in html and "<h1" not in html, html
    assert "&lt;a" in plotly_text("<a href='x'>y</a>")


def _markdown_bodies(at) -> list[str]:
    """Every string AppTest shows that Streamlit renders as markdown."""
    out = [e.value for kind in ("markdown", "header", "subheader", "caption", "error", "warning", "success", "info", "title")
           for e in getattr(at, kind)]
    out += [b.label for b in at.button] + [m.label for m in at.metric] + [s.label for s in at.selectbox]
    out += [e.label for e in at.expander]
    return [str(x) for x in out if x]


@pytest.fixture(scope="module")
def evil_client() -> int:
    from store.demo import ensure_demo

    engine = get_engine(database_url())
    ensure_demo(engine)  # the demo exists first, as in production (it is only made in an empty store)
    client = repo.create_client(engine, f"{EVIL} {uuid.uuid4().hex[:4]}", load_policy().new_client_inputs())
    data = f"日期,账户ID,消耗\n2024-01-05,{EVIL.replace(',', ' ')},100\n2024-02-05,1790000001,200\n".encode()
    table = read_table(data, "r.csv")
    parsed, given = prepare_spend(table, map_headers(table.headers), load_policy())
    repo.import_batch(engine, client.id, f"{EVIL}.csv", hashlib.sha256(data).hexdigest(), parsed.rows, given)
    return client.id


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_page_turns_user_text_into_a_link_or_an_image(page, lang, evil_client):
    at = run_app(lang, evil_client)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    bodies = _markdown_bodies(at)
    assert any("evil" in b for b in bodies) or page != "pages/overview.py"  # the name is on the page (escaped)
    for body in bodies:
        html = _rendered(body)
        assert "<a " not in html and "<img" not in html, (page, body)


def test_an_upload_named_like_markdown_is_shown_as_text_in_its_error():
    at = run_app("en")
    at.switch_page("pages/data.py").run()
    at.file_uploader[0].set_value((f"{EVIL}.csv", b"\x00\x01binary", "text/csv")).run()
    assert not at.exception
    assert at.error, "the broken upload got no message"
    for body in _markdown_bodies(at):
        html = _rendered(body)
        assert "<a " not in html and "<img" not in html, body


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_saved_contracts_title_and_readings_are_shown_as_text(lang):
    """A contract saved or imported on the Contract terms page is user text: its title (the
    sidebar) and its readings (the Overview's assumptions) must never render as links."""
    import tomlkit

    from core.policy import POLICY_DIR
    from core.policy_edit import validated

    doc = tomlkit.parse((POLICY_DIR / "ocean_engine_2024.toml").read_text(encoding="utf-8"))
    doc["title"] = doc["title_zh"] = EVIL
    for reading in doc["readings"]:
        reading["en"], reading["zh"] = f"{EVIL} {reading['en']}", f"{EVIL} {reading['zh']}"
    text = tomlkit.dumps(doc)
    validated(text, "evil_terms")
    engine = get_engine(database_url())
    demo = run_app(lang)  # makes sure the demo exists
    client = repo.create_client(engine, f"evil terms {uuid.uuid4().hex[:4]}", load_policy().new_client_inputs())
    data = "日期,账户ID,消耗\n2024-01-05,1790000001,100\n2024-12-31,1790000001,200\n".encode()
    table = read_table(data, "r.csv")
    parsed, given = prepare_spend(table, map_headers(table.headers), load_policy())
    repo.import_batch(engine, client.id, "r.csv", hashlib.sha256(data).hexdigest(), parsed.rows, given)
    version = repo.save_policy(engine, "evil_terms", text, "ocean_engine_2024")
    repo.set_client_policy(engine, client.id, repo.get_client(engine, client.id).version, f"db:{version.id}")
    assert not demo.exception
    at = run_app(lang, client.id)
    assert not at.exception, at.exception
    bodies = _markdown_bodies(at) + [c.value for c in at.sidebar.caption]
    assert any("evil" in b for b in bodies)  # the title and readings are shown (escaped)
    for body in bodies:
        html = _rendered(body)
        assert "<a " not in html and "<img" not in html, body
