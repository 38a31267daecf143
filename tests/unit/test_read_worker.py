"""read_csv_isolated: read_csv in a worker process, same frames, same refusals."""

from __future__ import annotations

import codecs
import gzip
import io
import sys

import pandas as pd
import pytest

from embedding_core.data import read_worker
from embedding_core.data.csv_reader import read_csv
from embedding_core.data.read_worker import read_csv_isolated
from embedding_core.errors import DataError

# A few of what the reader accepts and refuses (test_csv_reader.py covers read_csv itself;
# every worker is a new process, so each case costs a process start).
INPUTS = {
    "gzip, sep line, cp1252, empty cells": gzip.compress(
        "sep=;\nzip;city;\n01234;caf\u00e9 \u20ac;\n;x;\n".encode("cp1252")
    ),
    "utf-16": codecs.BOM_UTF16_LE + "a\tb\n\u00e9\t1\n".encode("utf-16-le"),
    "too many fields": b"a,b\n1,2,3\n",
    "too many rows": b"a\n" + b"1\n" * 30,
}
LIMITS = {"max_bytes": 10_000, "max_rows": 20, "max_columns": 10}


def _outcome(read, raw: bytes) -> pd.DataFrame | str:
    try:
        return read(raw, name="up.csv", **LIMITS)
    except DataError as exc:
        return f"DataError: {exc}"


def test_same_frame_or_same_refusal_as_read_csv() -> None:
    for what, raw in INPUTS.items():
        direct, isolated = _outcome(read_csv, raw), _outcome(read_csv_isolated, raw)
        if isinstance(direct, str):
            assert isolated == direct, what
        else:
            assert isinstance(isolated, pd.DataFrame), (what, isolated)
            pd.testing.assert_frame_equal(isolated, direct, obj=what)


def test_paths_and_open_files_are_read_too(tmp_path) -> None:
    path = tmp_path / "named.csv"
    path.write_bytes(b"id,city\n007,Nancy\n042,\n")
    expected = read_csv(path)
    pd.testing.assert_frame_equal(read_csv_isolated(path), expected)
    pd.testing.assert_frame_equal(read_csv_isolated(bytearray(path.read_bytes())), expected)
    with path.open("rb") as fh:
        fh.read()  # already consumed: read from the start, as read_csv does
        pd.testing.assert_frame_equal(read_csv_isolated(fh), expected)
    with path.open("rb") as fh, pytest.raises(DataError, match="'named.csv' is larger"):
        read_csv_isolated(fh, max_bytes=10)
    with pytest.raises(TypeError):
        read_csv_isolated(12)  # type: ignore[arg-type]


def test_the_read_cache_budget_sees_what_the_frame_holds() -> None:
    """The frame comes back as views of one Arrow buffer: its deep memory usage must
    still count the bytes it holds, or the shared read cache would overrun its budget."""
    raw = b"a,b,c\n" + b"".join(f"k{i % 997},{i},text number {i}\n".encode() for i in range(50_000))
    isolated = read_csv_isolated(raw)
    direct = read_csv(raw)
    used = int(isolated.memory_usage(deep=True).sum())
    assert used == pytest.approx(int(direct.memory_usage(deep=True).sum()), rel=0.1)
    assert used > len(raw) * 0.5


def test_a_worker_that_dies_gives_a_data_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    def dying_worker() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", "import os, sys; sys.stdin.buffer.read(); os._exit(9)"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    monkeypatch.setattr(read_worker, "_spare", None)
    monkeypatch.setattr(read_worker, "_start_worker", dying_worker)
    with pytest.raises(DataError, match=r"'up.csv' could not be read.*exit code 9"):
        read_csv_isolated(io.BytesIO(b"a\n1\n"), name="up.csv")
