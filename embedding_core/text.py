"""Make text that came from a user's data safe to print: no raw control characters, bounded length.

One home for this, used by the CLI (messages, ``profile``'s table) and by the app's
literal-text helper (``ui/literal.py``). A newline, a carriage return or a terminal
escape sequence inside a column name or a category must never reach a terminal or a
page raw: it is shown as its Python escape (``\\n``, ``\\x1b``).

Examples
--------
>>> printable("a\\nb\\x1b[31m")
'a\\\\nb\\\\x1b[31m'
>>> printable("x" * 10, limit=6)
'xxxxx…'
"""

from __future__ import annotations

import re

__all__ = ["printable", "capitalised", "NAME_LIMIT"]

#: Longest name (in characters) shown in a message before it is cut with an ellipsis.
NAME_LIMIT = 80

# C0 and C1 controls, DEL, and the Unicode line/paragraph separators and bidi overrides
# (which can make a terminal or a page show text in another order than it is).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, limit: int | None = None) -> str:
    """``str(text)`` with control characters escaped and, optionally, cut to ``limit`` characters.

    Parameters
    ----------
    text : object
        Usually a column name, a category or a message that contains one.
    limit : int or None, default=None
        Cut the result to at most this many characters, ending with "…".

    Returns
    -------
    str
        Text that prints on one line, with nothing a terminal would interpret.
    """
    out = _UNPRINTABLE.sub(_escape, str(text))
    if limit is not None and len(out) > limit:
        out = out[: max(limit - 1, 0)] + "…"
    return out


def capitalised(text: str) -> str:
    """``text`` with its first letter in capitals, the rest as it is ("log loss" ->
    "Log loss", "'data.csv' is empty" -> "'data.csv' is empty", "AUC" -> "AUC").

    >>> capitalised("the file 'a.csv'")
    "The file 'a.csv'"
    """
    return text[:1].upper() + text[1:]
