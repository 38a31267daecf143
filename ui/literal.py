"""Show user-provided text literally, in every Streamlit and Plotly element.

Streamlit renders Markdown (links, images, ``:red[...]`` directives, ``$...$`` maths)
in ``st.markdown``/``st.write`` and also in warnings, errors, captions, widget labels,
radio and pills options, tabs, expanders and metric labels; Plotly renders a subset of
HTML (``<a href>``, ``<b>``) in titles, axis labels, legends and hover text. A column
name or category is user data: an image in Markdown syntax would make every viewer's
browser fetch an outside URL. Pass every string that contains user data through
``literal`` (Streamlit) or ``chart_text`` (Plotly); library messages embed names, so
they go through ``literal`` as a whole.

Examples
--------
>>> literal("![x](evil)")
'\\\\!\\\\[x\\\\]\\\\(evil\\\\)'
>>> chart_text("<a href='x'>y</a>")
'&lt;a href=&#x27;x&#x27;&gt;y&lt;/a&gt;'
"""

from __future__ import annotations

import html
import re

from embedding_core.text import printable

__all__ = ["literal", "literal_marked", "chart_text"]

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping all
# of them also defuses Streamlit's extensions (directives, maths, emoji shortcodes) and
# GFM autolinks (``www.x.com``, ``a@b.org``), which need unescaped ``.``, ``:`` or ``@``.
_MD_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# GFM turns bare URLs and e-mail addresses into links after parsing, escapes or not: an
# invisible word joiner (U+2060) after "://", "www" and "@" keeps them plain text.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?i:(?<=www))(?=\.)|(?<=@)")
_WORD_JOINER = "\u2060"
_MARKED = re.compile(r"`([^`]*)`")


def literal(text: object, limit: int | None = None) -> str:
    """Markdown source that Streamlit shows as exactly ``text`` (control characters escaped).

    Parameters
    ----------
    text : object
        A name, a value or a whole message that contains some.
    limit : int or None, default=None
        Cut long text to this many characters (see ``embedding_core.text.printable``).
    """
    plain = _AUTOLINK.sub(_WORD_JOINER, printable(text, limit))
    return _MD_PUNCTUATION.sub(r"\\\1", plain)


def literal_marked(text: object) -> str:
    """``literal`` for a library sentence that marks names in backticks, as the CLI
    prints them (``interactions.describe_top_pairs``): each name bold, no backticks.

    >>> literal_marked("`a*b` and `c` interact")
    '**a\\\\*b** and **c** interact'
    """
    parts = _MARKED.split(printable(text))
    return "".join(
        f"**{literal(part)}**" if i % 2 else literal(part) for i, part in enumerate(parts) if part
    )


def chart_text(text: object, limit: int | None = None) -> str:
    """Text that Plotly shows as exactly ``text`` in titles, labels, legends and hover."""
    return html.escape(printable(text, limit))
