"""User text is literal in Markdown (Streamlit) and in Plotly's HTML subset."""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Iterator
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from embedding_core.text import printable
from ui.literal import chart_text, literal, literal_marked

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


@given(st.text(), st.text())
def test_marked_names_are_bold_and_stay_text(name: str, rest: str) -> None:
    """A library sentence marks names in backticks (as the CLI prints them); the page
    shows each name bold, and whatever a name holds stays text."""
    safe = name.replace("`", "'")  # as the library writes a name (no backtick inside)
    out = literal_marked(f"`{safe}` {rest.replace('`', '')}")
    if printable(safe):
        assert out.startswith(f"**{literal(safe)}**")
    assert "`" not in _ESCAPE.sub("", out)  # any backtick left is escaped


def test_markup_in_marked_names_stays_text() -> None:
    out = literal_marked("`![x](http://e.invalid/a.png)` and `:red[y]` interact")
    assert (
        out
        == f"**{literal('![x](http://e.invalid/a.png)')}** and **{literal(':red[y]')}** interact"
    )
    assert "![" not in out and ":red[" not in out


@given(st.text())
def test_chart_text_round_trips_through_html_unescape(text: str) -> None:
    out = chart_text(text)
    assert "<" not in out and ">" not in out
    assert html.unescape(out) == printable(text)


# --- progress and status text ------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
# Streamlit calls whose text renders Markdown: the argument that carries it.
_STATUS_CALLS = {"progress": ("text", 1), "spinner": ("text", 0), "status": ("label", 0)}
_STATUS_CALLS |= {"toast": ("body", 0), "update": ("label", None)}


def _status_texts(tree: ast.AST) -> Iterator[tuple[int, ast.expr]]:
    """Every text argument of a progress bar, spinner, status box, toast or cache spinner."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg == "show_spinner":
                yield node.lineno, keyword.value
        if not isinstance(node.func, ast.Attribute) or node.func.attr not in _STATUS_CALLS:
            continue
        name, position = _STATUS_CALLS[node.func.attr]
        for keyword in node.keywords:
            if keyword.arg == name:
                yield node.lineno, keyword.value
        if position is not None and len(node.args) > position:
            yield node.lineno, node.args[position]


def _is_literal_text(value: ast.expr) -> bool:
    """A fixed string (or flag), or text passed through ``literal``."""
    if isinstance(value, ast.Constant):
        return True
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "literal"
    )


def test_every_progress_and_status_text_is_fixed_or_literal() -> None:
    """Progress bars, spinners, status boxes and toasts render Markdown: any text built
    from data (a column, file or category name) must go through ``literal``."""
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
    files += sorted((ROOT / "ui").glob("*.py"))
    seen, bad = 0, []
    for path in files:
        for line, value in _status_texts(ast.parse(path.read_text(), str(path))):
            seen += 1
            if not _is_literal_text(value):
                bad.append(f"{path.relative_to(ROOT)}:{line}: {ast.unparse(value)}")
    assert seen >= 8  # the scan finds the calls it is meant to check
    assert bad == []


def _progress_page() -> None:
    from dataclasses import dataclass

    from ui.job_progress import live_progress
    from ui.jobs import WorkerJob

    @dataclass(eq=False, kw_only=True)
    class Job(WorkerJob):
        def fraction_done(self) -> float:
            return 0.5

        def status_text(self) -> str:
            return "Reading ![x](http://example.invalid/a.png) [l](http://e.invalid) :red[x]"

    job = Job()
    live_progress(lambda: job)


def test_a_progress_line_with_markup_in_it_is_shown_literally() -> None:
    at = AppTest.from_function(_progress_page, default_timeout=60)
    at.run()
    (bar,) = at.get("progress")
    text = bar.proto.text
    assert "example" in text and "![" not in text and "](" not in text and ":red[" not in text
    assert _ESCAPE.sub(r"\1", text).replace("\u2060", "") == (
        "Reading ![x](http://example.invalid/a.png) [l](http://e.invalid) :red[x]"
    )
