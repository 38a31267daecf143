"""The CLI's streamed reads (``vocab``, ``train --stream``) on hostile files and paths:
read as ``read_csv`` reads them, or one line on stderr and exit code 2, nothing written.

``vocab`` makes the same pass over the data as streamed training without TensorFlow, and
``train --stream`` refuses a file it cannot open before importing it: both stay fast.
"""

from __future__ import annotations

import codecs
import gzip
import json
from pathlib import Path

import pytest

from embedding_core.cli import main

ROWS = [("Nancy", "a", 1), ("Metz", "b", 0), ("Lille", "", 1)] * 20
BODY = "city,job,y\n" + "".join(f"{c},{j},{y}\n" for c, j, y in ROWS)
ROLES = ["--categorical", "city", "--target", "y"]


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own refusals
        return int(exc.code or 0)


def _vocab(data: Path | str, out: Path) -> list[str]:
    return ["vocab", "--data", str(data), *ROLES, "--out", str(out), "--quiet"]


def _one_line(capsys: pytest.CaptureFixture[str], needle: str) -> None:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and needle in err, err


@pytest.mark.parametrize(
    "content",
    [
        BODY.replace("\n", "\r").encode(),
        codecs.BOM_UTF16_LE + BODY.encode("utf-16-le"),
        b"sep=;\n" + BODY.replace(",", ";").encode(),
        gzip.compress(BODY.encode()),
    ],
    ids=["cr_line_ends", "utf16", "excel_sep_line", "gzip_named_csv"],
)
def test_vocab_reads_what_read_csv_reads(content: bytes, tmp_path: Path, capsys) -> None:
    (tmp_path / "t.csv").write_bytes(content)
    assert _run(_vocab(tmp_path / "t.csv", tmp_path / "v.json")) == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert summary["train_rows"] + summary["valid_rows"] == len(ROWS)
    assert summary["vocabulary_sizes"]["city"] >= 3


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (gzip.compress(BODY.encode() * 40)[:-40], "'t.csv' looks gzip-compressed but is cut short"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "is not a CSV file; it looks like a PNG"),
        (b'{"city": ["Nancy"],\n "y": [1]}\n', "'t.csv' is not a CSV file; it looks like JSON"),
    ],
    ids=["gzip_cut_short", "png", "json"],
)
def test_train_stream_refuses_a_file_it_cannot_read(
    content: bytes, needle: str, tmp_path: Path, capsys
) -> None:
    (tmp_path / "t.csv").write_bytes(content)
    argv = ["train", "--stream", "--data", str(tmp_path / "t.csv"), *ROLES,
            "--out", str(tmp_path / "run"), "--quiet"]  # fmt: skip
    assert _run(argv) == 2
    _one_line(capsys, needle)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("tail", "needle"),
    [
        ("Brest,c,1,extra\n", "Line 62 of 't.csv' has 4 fields but the header has 3"),
        ('Brest,"c,1\nDijon,d,0\n', "A double quote (\") opened on line 62 of 't.csv'"),
    ],
    ids=["long_row", "quote_never_closed"],
)
def test_vocab_refuses_a_bad_line_by_its_number(tail: str, needle: str, tmp_path, capsys) -> None:
    (tmp_path / "t.csv").write_text(BODY + tail)
    assert _run(_vocab(tmp_path / "t.csv", tmp_path / "v.json")) == 2
    _one_line(capsys, needle)
    assert not (tmp_path / "v.json").exists()


def test_a_file_named_like_a_pattern_is_read_as_it_is(tmp_path: Path, capsys) -> None:
    (tmp_path / "d[1].csv").write_text(BODY)
    (tmp_path / "d1.csv").write_text("other\nx\n")  # what 'd[1].csv' matches as a pattern
    assert _run(_vocab(tmp_path / "d[1].csv", tmp_path / "v.json")) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["files"] == 1 and "note:" not in captured.err


def test_a_pattern_says_which_files_it_read_and_refuses_a_stranger(tmp_path, capsys) -> None:
    (tmp_path / "sales.csv").write_text(BODY)
    (tmp_path / "sales_2020.csv").write_text(BODY.replace(",", ";"))
    pattern = str(tmp_path / "sales*.csv")
    assert _run(_vocab(pattern, tmp_path / "v.json")) == 0
    err = capsys.readouterr().err
    files = "read as one table: sales.csv, sales_2020.csv."
    assert f"note: '{pattern}' matches 2 files, {files}" in err
    (tmp_path / "sales_2019.csv").write_text("other\nx\n")
    argv = ["train", "--data", pattern, *ROLES, "--out", str(tmp_path / "run"), "--quiet"]
    assert _run(argv) == 2
    _one_line(capsys, "'sales_2019.csv' does not have the columns of 'sales.csv' (lacks 'city'")
    assert not (tmp_path / "run").exists()
