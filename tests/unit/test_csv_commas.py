"""Numbers written with commas in streamed CSVs (``CommaColumns``): rewritten as ``read_csv``
rewrites them, deciding on the whole column, or refused when rows already read would
have been read otherwise."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from embedding_core.data.csv_reader import read_csv
from embedding_core.data.roles import Roles
from embedding_core.data.stream import open_table
from embedding_core.data.values import CommaFacts, _may_contain, comma_facts, comma_number_style
from embedding_core.errors import DataError
from embedding_core.model.vocabulary import scan_vocabulary

FILES = {
    "decimal_commas": "city;amount;y\n" + "Nancy;1,5;1\nMetz;1 234,25;0\nLille;NA;1\n" * 10,
    "thousands_quoted": 'city,amount,y\nNancy,"12,345",1\nMetz,"1,234,567.5",0\n' * 10,
    "ambiguous_then_decided": "city;amount;y\n" + "Nancy;1,500;1\n" * 50 + "Metz;2,5;0\n",
    "words_with_commas": 'city,y\n"Paris, France",1\n"12,5",0\n' * 10,
    "numbers_then_a_word": "city;amount;y\n" + "Nancy;1,5;1\n" * 2_000 + "Metz;abc;0\n",
    "short_row": "city;amount;y\n" + "Nancy;1,5;1\nMetz;2,25\n" * 10,
}


def _streamed(
    path: Path, columns: list[str] | None = None, batch_rows: int = 7
) -> tuple[pd.DataFrame, list[str]]:
    source = open_table(path)
    notes: list[str] = []
    batches = source.batches(columns or source.columns, batch_rows=batch_rows, notes=notes)
    frames = [frame for _, _, frame in batches]
    return pd.concat(frames, ignore_index=True), notes


@pytest.mark.parametrize("text", FILES.values(), ids=FILES.keys())
def test_columns_of_numbers_with_commas_read_as_read_csv_reads_them(tmp_path: Path, text: str):
    path = tmp_path / "t.csv"
    path.write_text(text)
    frame, notes = _streamed(path)
    expected = read_csv(path)
    pd.testing.assert_frame_equal(frame, expected)
    assert notes == expected.attrs["notes"]


def test_a_column_with_commas_past_the_first_block_is_decided_on_every_row(tmp_path: Path):
    """The comma shows in pyarrow's second 4 MB block: the rows before, plain numbers
    without spaces, read the same either way."""
    path = tmp_path / "t.csv"
    path.write_text("city;amount;y\n" + "Nancy;15;1\n" * 450_000 + "Metz;1 234,25;0\n")
    frame, notes = _streamed(path, ["amount"], batch_rows=100_000)
    assert frame["amount"].iloc[-1] == "1234.25"
    assert notes == [
        "Read 'amount' as numbers written with decimal commas ('1 234,25' as 1234.25)."
    ]


def test_rows_read_before_a_late_comma_that_would_read_otherwise_are_refused(tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_text("city;amount;y\n" + "Nancy;1 500;1\n" * 400_000 + "Metz;1 234,25;0\n")
    assert read_csv(path)["amount"].iloc[0] == "1500"  # in memory: a number with a space group
    with pytest.raises(DataError, match=re.escape("Column 'amount' of 't.csv' holds numbers")):
        _streamed(path, ["amount"], batch_rows=100_000)


@pytest.mark.parametrize(
    ("values", "delimiter"),
    [
        (["1,5", "2", "1 234,5", None, "NA"], ";"),
        (["1,500", "2,250", "3,5"], ";"),
        (["1,500", "2,250"], ";"),
        (["12,345", "1,234,567.5", "7"], ","),
        (["12,345", "abc"], ","),
        (["1.500", "2,5"], ";"),
        (["12", "13"], ";"),
    ],
)
def test_facts_of_the_parts_of_a_column_decide_as_the_whole_column(values, delimiter):
    column = pd.Series(values, dtype="str")
    for cut in range(len(values) + 1):
        parts = comma_facts(column.iloc[:cut], delimiter) | comma_facts(
            column.iloc[cut:], delimiter
        )
        assert parts.style(delimiter) == comma_number_style(column, delimiter)
    assert CommaFacts().style(delimiter) is None


def test_a_streamed_vocabulary_scales_numbers_written_with_decimal_commas(tmp_path: Path):
    """Before, the vocabulary pass refused '1,5' as text in a numeric column."""
    path = tmp_path / "t.csv"
    path.write_text("city;amount;y\n" + "Nancy;1,5;1\nMetz;2,5;0\nLille;3,5;1\n" * 40)
    vocabulary = scan_vocabulary(open_table(path), Roles(("city",), "y", numeric=("amount",)))
    assert vocabulary.features.numeric_mean_["amount"] == pytest.approx(2.5, abs=0.2)
    assert vocabulary.warnings[0].startswith("Read 'amount' as numbers written with decimal")


def test_may_contain_looks_at_the_values_of_a_slice_only():
    column = pd.Series(["ab", "c,d", "ef"], dtype="str")
    assert not _may_contain(column.head(1), ",")
    assert not _may_contain(column.iloc[2:], ",")
    assert _may_contain(column.iloc[1:2], ",")
