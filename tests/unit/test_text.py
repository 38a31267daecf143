"""Printable text from user data: no raw control characters, bounded length."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from embedding_core.text import printable


def test_control_characters_and_terminal_escapes_are_shown_escaped() -> None:
    assert printable("a\nb\r\tc") == "a\\nb\\r\\tc"
    assert printable("\x1b[2J\x07") == "\\x1b[2J\\x07"
    assert printable("x\u202ey") == "x\\u202ey"  # right-to-left override
    assert printable("café, 東京") == "café, 東京"


def test_long_text_is_cut_with_an_ellipsis() -> None:
    assert printable("abcdef", limit=4) == "abc…"
    assert printable("abc", limit=4) == "abc"


@given(st.text(), st.one_of(st.none(), st.integers(1, 50)))
def test_printable_never_lets_a_control_character_through(text: str, limit: int | None) -> None:
    out = printable(text, limit)
    assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029]", out)
    if limit is not None:
        assert len(out) <= limit
    elif not re.search("[\x00-\x1f\x7f-\x9f\u2028-\u2029\u202a-\u202e\u2066-\u2069]", text):
        assert out == text  # printable text is left alone
