"""The 中文 UI is Chinese: every page, at year end and mid-year, shows no English word
outside the codes and units the contract and platforms use (tests/ui_text.ALLOWED)."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.test_app import PAGES, run_app
from tests.ui_text import WORD, english_words, texts

pytestmark = pytest.mark.app  # whole pages through AppTest

# Words that are user data on a page, not UI text (a file's own column name the user must write).
PAGE_ALLOWED = {"pages/portfolio.py": {"client"}}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("day", [None, dt.date(2024, 9, 15)], ids=["year_end", "mid_year"])
def test_no_english_word_in_the_chinese_ui(page, day):
    at = run_app("zh")
    from store import repo
    from store.db import database_url, get_engine

    saved_terms = [v.name for v in repo.list_policy_versions(get_engine(database_url()))]  # names users gave their contracts
    user_data = {w for name in [*at.selectbox(key="client").options, *saved_terms] for w in WORD.findall(name)}
    if day is not None:
        at.date_input(key="as_of").set_value(day).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    found = {}
    for text in texts(at._tree):
        words = english_words(text, PAGE_ALLOWED.get(page, set()) | user_data)
        if words:
            found[text[:120]] = words
    assert not found, found
