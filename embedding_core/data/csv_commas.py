"""Numbers written with commas in a CSV read in batches, rewritten as ``read_csv`` does.

``read_csv`` rewrites a column whose every value is a number written with decimal commas
("1 234,5") or thousands separators ("12,345") as plain number text ("1234.5"), deciding
on the whole column (``values.comma_numbers``). Batches come before the whole column is
seen: ``CommaColumns`` reads a column through once, the first time a batch has a comma
in it, and decides as ``read_csv`` would. A column of words stops that pass at its first
values; a clean file costs a byte search a column and batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from embedding_core.data.csv_reader import _example, _number_notes
from embedding_core.data.values import (
    CommaFacts,
    _may_contain,
    comma_facts,
    first_values_numbers,
    plain_numbers,
)
from embedding_core.errors import DataError
from embedding_core.text import NAME_LIMIT, printable

__all__ = ["CommaColumns"]

_PROBE_ROWS = 1_024  # rows whose values first_values_numbers looks at
_SPACES = (" ", "\t", "\u00a0", "\u202f", ".")  # what plain_numbers may change without a comma


@dataclass
class _Column:
    """A column read through: its facts, first values, first value with a comma, and
    whether the rows already rewritten before it was decided have a space or a point."""

    facts: CommaFacts
    first: list[pd.Series]
    example: str | None = None
    spaced_before: bool = False


class CommaColumns:
    """Which columns of one file ``read_csv`` would rewrite, and their rewriting.

    Parameters
    ----------
    delimiter : str
        The file's delimiter.
    read : callable
        ``read(names)`` yields the file's frames of the columns ``names``, from its first row.
    label : str
        The file as named in messages.
    notes : list of str
        Receives ``read_csv``'s note for each rewritten column, as it is decided.
    """

    def __init__(
        self,
        delimiter: str,
        read: Callable[[list[str]], Iterable[pd.DataFrame]],
        label: str,
        notes: list[str],
    ) -> None:
        self._delimiter, self._read, self._label, self._notes = delimiter, read, label, notes
        self._styles: dict[str, tuple[str, bool] | None] = {}  # decided: (style, spaced)
        self._rows = 0

    def rewrite(self, frame: pd.DataFrame, may_hold_commas: bool = True) -> pd.DataFrame:
        """``frame``, the file's next rows, with its columns of numbers written with commas
        as plain number text; ``may_hold_commas`` False spares looking for new ones."""
        undecided = [c for c in frame.columns if c not in self._styles] if may_hold_commas else []
        new = [c for c in undecided if _may_contain(frame[c], ",")]
        if new:
            self._decide(new)
        for name, decided in self._styles.items():
            if decided is not None and name in frame.columns:
                frame[name] = plain_numbers(frame[name].astype("str"), *decided)
        self._rows += len(frame)
        return frame

    def _decide(self, names: list[str]) -> None:
        columns = self._read_all(names)
        found: dict[str, list[str]] = {}
        examples: dict[str, str] = {}
        for name, column in columns.items():
            numbers = first_values_numbers(pd.concat(column.first)) if column.first else True
            style = column.facts.style(self._delimiter) if numbers else None
            self._styles[name] = None if style is None else (style, column.facts.space)
            if style is None:
                continue
            if column.spaced_before:
                raise DataError(
                    f"Column {printable(name, NAME_LIMIT)!r} of {self._label} holds numbers "
                    "written with commas from a later row on, and the rows before, already "
                    "read, have values with spaces that read_csv would read otherwise: read "
                    "the file in memory, or write its numbers with a decimal point and no "
                    "separators."
                )
            found.setdefault(style, []).append(name)
            if style not in examples and column.example is not None:
                plain = plain_numbers(
                    pd.Series([column.example], dtype="str"), style, column.facts.space
                )
                examples[style] = _example(column.example, plain.iloc[0])
        self._notes += _number_notes(found, examples)

    def _read_all(self, names: list[str]) -> dict[str, _Column]:
        """Each column's facts over the whole file (a column of words: over its first rows)."""
        columns = {name: _Column(CommaFacts(), []) for name in names}
        seen = 0
        for part in self._read(names):
            for name, column in columns.items():
                text = part[name].astype("str")
                if seen < _PROBE_ROWS:
                    column.first.append(text.head(_PROBE_ROWS - seen))
                column.facts |= comma_facts(text, self._delimiter)
                if column.example is None:
                    column.example = _first_comma(text)
                before = text.head(max(0, self._rows - seen))
                column.spaced_before |= any(_may_contain(before, c) for c in _SPACES)
            seen += len(part)
            if seen >= _PROBE_ROWS and all(_hopeless(c) for c in columns.values()):
                break  # words, or values no way of writing numbers reads
        return columns


def _hopeless(column: _Column) -> bool:
    """Whether no more rows can make the column one of numbers written with commas."""
    words = not first_values_numbers(pd.concat(column.first)) if column.first else False
    return words or not (column.facts.decimal or column.facts.thousands)


def _first_comma(text: pd.Series) -> str | None:
    """The first value with a comma (``read_csv``'s example in its note), or None."""
    commas = text[text.str.contains(",", regex=False, na=False)]
    return None if commas.empty else str(commas.iloc[0])
