"""User text is literal in Markdown (Streamlit) and in Plotly's HTML subset."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from embedding_core.text import printable
from ui.literal import chart_text, literal

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


@given(st.text())
def test_every_markdown_punctuation_is_escaped_and_nothing_is_lost(text: str) -> None:
    out = literal(text)
    # every ASCII punctuation character is preceded by the backslash that escapes it
    assert re.fullmatch(r"(?:\\[!-/:-@\[-`{-~]|[^!-/:-@\[-`{-~])*", out)
    # only the escapes and the word joiners that stop autolinks are added
    assert _ESCAPE.sub(r"\1", out).replace("\u2060", "") == printable(text).replace("\u2060", "")


def test_markup_in_names_stays_text() -> None:
    name = "![x](http://example.invalid/a.png) [link](https://e.invalid) :red[x] $x$ <b>"
    out = literal(name)
    for fragment in ("![", "](", ":red[", "$x$", "<b>"):
        assert fragment not in out
    assert "\\!\\[x\\]\\(http\\:\u2060\\/\\/" in out


def test_bare_urls_and_addresses_are_not_autolinked() -> None:
    out = literal("http://e.invalid www.e.invalid me@e.invalid")
    for fragment in ("://", "http\\:\\/\\/", "www\\.", "\\@e"):
        assert fragment not in out


@given(st.text())
def test_chart_text_round_trips_through_html_unescape(text: str) -> None:
    out = chart_text(text)
    assert "<" not in out and ">" not in out
    assert html.unescape(out) == printable(text)
