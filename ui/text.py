"""User text inside markdown-rendering calls, shown exactly as typed.

Why: st.header, st.error, st.success, button and widget labels, captions and help texts
render markdown. A client named ``![x](http://host/p.png)`` made every viewer's browser
fetch the attacker's URL; a crafted file name put a link inside the red error box.
Every piece of user-controlled text (client and file names, column headers, cell values,
e-mail addresses, messages that quote them) passes through ``plain`` on its way into
such a call; Plotly hover text through ``plotly_text``.
"""
from __future__ import annotations

import html
import re

# CommonMark lets a backslash escape any ASCII punctuation; escaping all of it also
# defuses Streamlit's own :color[…] / :material/…: syntax and $…$ math.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# GFM's autolink literals are found in the text *after* escapes are resolved (seen in
# Chromium: http\://evil… still became a link), so a word joiner (U+2060, invisible)
# breaks the three patterns: "://", "www." and the "@" of an e-mail address.
_AUTOLINK = re.compile(r"(\\:)(?=\\/\\/)|(?i:(www))(?=\\\.)|(?=\\@)")
WORD_JOINER = "\u2060"


def plain(text: object) -> str:
    """Text rendered literally by any Streamlit markdown call (one line; newlines kept as spaces)."""
    flat = " ".join(str(text).split())
    escaped = _PUNCTUATION.sub(r"\\\1", flat)
    return _AUTOLINK.sub(lambda m: (m.group(1) or m.group(2) or "") + WORD_JOINER, escaped)


def plotly_text(text: object) -> str:
    """Text for Plotly labels and hover (Plotly renders a subset of HTML: <a>, <b>, <br>)."""
    return html.escape(str(text), quote=True)
