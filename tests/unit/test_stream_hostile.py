"""Hostile CSV files through the streaming reader (``train --stream``, ``vocab``, big CSVs,
tables on the server): read as ``read_csv`` reads them, or refused with one specific
message, never a raw pyarrow, gzip or csv exception."""

from __future__ import annotations

import codecs
import gzip
import re
from pathlib import Path

import pandas as pd
import pytest

from embedding_core.data.csv_reader import read_csv
from embedding_core.data.stream import is_streaming_source, open_table
from embedding_core.errors import DataError

ROWS = [("Nancy", "a", 1), ("Metz", "b", 0), ("Lille", "", 1)] * 20
BODY = "city,job,y\n" + "".join(f"{c},{j},{y}\n" for c, j, y in ROWS)
PAD = "Metz,b,0\n" * 8_000  # what follows it is past the first 64 kB (the head) and block

READABLE = {
    "cr_line_ends": BODY.replace("\n", "\r").encode(),
    "utf16_le_bom": codecs.BOM_UTF16_LE + BODY.encode("utf-16-le"),
    "utf16_be_bom": codecs.BOM_UTF16_BE + BODY.replace("\n", "\r\n").encode("utf-16-be"),
    "utf16_le_no_bom": BODY.encode("utf-16-le"),
    "utf16_be_no_bom": BODY.replace("Metz", "Mâcon").encode("utf-16-be"),
    "excel_sep_line": b"sep=;\r\n" + BODY.replace(",", ";").encode(),
    "gzip_named_csv": gzip.compress(BODY.encode()),
    "cp1252_past_the_first_64kB": (BODY + "Metz,b,0\n" * 8_000 + "Mâcon,é,1\n").encode("cp1252"),
    "missing_marker": BODY.replace("Lille", "__NA__").encode(),
    "short_rows": ("city,job,y\nBrest\n" + BODY[11:] + "Brest,c\n").encode(),
    "short_row_past_the_first_block": (BODY + PAD + "Brest,c\n" + BODY[11:]).encode(),
    "rows_of_empty_cells": (BODY + ',,\n"","",__NA__\n   \nBrest,c,1\n').encode(),
    "title_line": ("Claims export 2026\n" + BODY).encode(),
    "cp1252_line_in_utf8": BODY.replace("Nancy", "Besançon").encode()
    + "Mâcon,".encode("cp1252")
    + "é,1\n".encode(),
    "utf8_lines_past_a_cp1252_head": BODY.encode()
    + "Mâcon,é,1\n".encode("cp1252")
    + (PAD + "Besançon,ü,0\n" * 3).encode(),
    "mostly_cp1252_in_the_head": BODY.replace("Nancy", "Besançon").encode()
    + ("Mâcon,é,1\n" * 40).encode("cp1252"),
    "cp1252_undefined_byte": BODY.encode() + b"M\x81con,\x80,1\n",
}

REFUSED = {
    "gzip_cut_short": (gzip.compress(BODY.encode() * 40)[:-40], "is cut short: check that the"),
    "png": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not a CSV file; it looks like a PNG"),
    "xlsx": (b"PK\x03\x04\x14\x00" + b"[Content_Types].xml" * 20, "Excel workbook"),
    "json": (b'[{"city": "Nancy", "y": 1},\n {"city": "Metz", "y": 0}]\n', "looks like JSON"),
    "long_row": (
        (BODY + "Brest,c,1,extra\n").encode(),
        "Line 62 of 't.csv' has 4 fields but the header has 3 (read as comma-separated)",
    ),
    "long_row_after_a_short_one": (
        (BODY + "Brest,1\n" + "Brest,c,1,extra\n").encode(),
        "Line 63 of 't.csv' has 4 fields but the header has 3 (read as comma-separated)",
    ),
    "mostly_cp1252_past_a_utf8_head": (
        (BODY.replace("Nancy", "Besançon") + PAD).encode() + ("Mâcon,é,1\n" * 40).encode("cp1252"),
        "'t.csv' mixes text encodings (lines 8,062, 8,063, 8,064 and 37 more are not UTF-8",
    ),
    "header_quote_never_closed": (
        b'"city,job,y\n' + BODY.encode()[11:],
        "A double quote (\") opened on line 1 of 't.csv' is never closed",
    ),
    "quote_never_closed": (
        BODY.replace("Metz,b", 'Metz,"b', 1).encode(),
        "A double quote (\") opened on line 3 of 't.csv' is never closed",
    ),
}


def _read_all(path: Path | str) -> pd.DataFrame:
    source = open_table(path)
    parts = [frame for _, _, frame in source.batches(source.columns, batch_rows=25)]
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("content", READABLE.values(), ids=READABLE.keys())
def test_files_read_csv_reads_are_streamed_with_the_same_values(tmp_path: Path, content: bytes):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    pd.testing.assert_frame_equal(_read_all(path), read_csv(path), check_dtype=False)


@pytest.mark.parametrize("content", READABLE.values(), ids=READABLE.keys())
def test_files_read_csv_reads_are_streamed_with_its_notes(tmp_path: Path, content: bytes):
    """A title line skipped, lines read as cp1252: the notes of read_csv, word for word."""
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    source = open_table(path)
    notes = list(source.notes)
    for _ in source.batches(source.columns, notes=notes):
        pass
    assert notes == read_csv(path).attrs["notes"]


def test_a_short_row_past_the_first_block_loses_and_doubles_no_row(tmp_path: Path):
    """pyarrow yields a first 4 MB block, then refuses the short line; pandas' parser reads
    on from the next row: the same rows, columns and batch sizes as read_csv's frame."""
    path = tmp_path / "t.csv"
    rows = [f"{i},b,{i % 2}" for i in range(500_000)]
    path.write_text("city,job,y\n" + "\n".join([*rows, "Brest,c", *rows[:10]]) + "\n")
    frames = [f for _, _, f in open_table(path).batches(["y", "city"], batch_rows=100_000)]
    assert all(len(f) <= 100_000 and list(f.columns) == ["y", "city"] for f in frames)
    expected = read_csv(path)[["y", "city"]]
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), expected)


def test_rows_empty_in_the_columns_read_are_kept_unless_empty_in_every_column(tmp_path: Path):
    """Only the columns asked for (and the last) are parsed; a row empty in all of them,
    past pyarrow's first 4 MB block, is read again with every column to tell."""
    path = tmp_path / "t.csv"
    rows = [f"{i},b,{i % 2}" for i in range(400_000)]
    path.write_text("city,job,y\n" + "\n".join([*rows, ",c,", ",,", *rows[:10]]) + "\n")
    frames = [f for _, _, f in open_table(path).batches(["city"], batch_rows=100_000)]
    expected = read_csv(path)[["city"]]
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), expected)
    assert len(expected) == 400_011  # ",c," kept, ",," left out


@pytest.mark.parametrize(("content", "needle"), REFUSED.values(), ids=REFUSED.keys())
def test_unreadable_files_are_refused_with_what_to_do(tmp_path: Path, content: bytes, needle: str):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=re.escape(needle)):
        _read_all(path)


def test_a_quote_left_open_in_the_last_column_is_refused_and_a_closed_one_read(tmp_path: Path):
    """pyarrow reads a quote never closed in the last column as a value running to the end
    of the file; the file's last bytes tell it from a closed value with a line break."""
    path = tmp_path / "t.csv"
    path.write_bytes((BODY + 'Brest,c,"1\r\n0"').encode())
    pd.testing.assert_frame_equal(_read_all(path), read_csv(path), check_dtype=False)
    path.write_bytes(BODY.replace("Metz,b,0", 'Metz,b,"0', 1).encode())
    left_open = "A double quote (\") opened in the last column of row 2 of 't.csv' is never closed"
    with pytest.raises(DataError, match=re.escape(left_open)):
        _read_all(path)


def test_shards_are_matched_by_column_name_and_a_stranger_is_named(tmp_path: Path):
    (tmp_path / "sales.csv").write_text("city,y\nNancy,1\n")
    (tmp_path / "sales_2020.csv").write_text("y;city\n0;Metz\n")  # other order and delimiter
    frame = _read_all(str(tmp_path / "sales*.csv"))
    assert frame.to_dict("list") == {"city": ["Nancy", "Metz"], "y": ["1", "0"]}
    (tmp_path / "sales_2019.csv").write_text("other\nx\n")
    with pytest.raises(
        DataError, match=r"'sales_2019.csv' does not have the columns of 'sales.csv'"
    ):
        open_table(str(tmp_path / "sales*.csv"))


def test_a_path_with_glob_characters_is_the_file_of_that_name(tmp_path: Path):
    literal = tmp_path / "d[1].csv"
    literal.write_text("city,y\nNancy,1\n")
    (tmp_path / "d1.csv").write_text("other\nx\n")  # what the name matches as a pattern
    assert open_table(literal).files == (literal,)
    assert not is_streaming_source(literal, csv_above_bytes=1_000_000)  # small: in memory
    assert is_streaming_source(str(tmp_path / "d*.csv"), csv_above_bytes=1_000_000)
