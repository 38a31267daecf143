"""The server's data folder: listing, refusing paths outside it, reading a sample."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pandas as pd
import pytest

from embedding_core.data.csv_reader import read_csv
from embedding_core.data.data_dir import list_tables, read_sample, resolve_table
from embedding_core.errors import DataError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    (data / "shards").mkdir(parents=True)
    frame = pd.DataFrame({"city": ["a", "b", None] * 10, "n": [1.5, 2.0, None] * 10})
    frame.to_csv(data / "small.csv", index=False)
    frame.to_parquet(data / "shards" / "part-0.parquet", index=False)
    frame.to_parquet(data / "shards" / "part-1.parquet", index=False)
    (data / "notes.md").write_text("not a table")
    (tmp_path / "secret.csv").write_text("a,b\n1,2\n")
    (data / "escape.csv").symlink_to(tmp_path / "secret.csv")
    (data / "outside").symlink_to(tmp_path)
    return data


def test_lists_tables_and_folders_inside_only(root: Path) -> None:
    assert list_tables(root) == [
        "small.csv",
        "shards/part-0.parquet",
        "shards/part-1.parquet",
        "shards/",
    ]


@pytest.mark.parametrize("choice", ["../secret.csv", "escape.csv", "outside/secret.csv", "/etc"])
def test_refuses_paths_leading_outside(root: Path, choice: str) -> None:
    with pytest.raises(DataError, match="outside the server's data folder"):
        resolve_table(root, choice)


def test_resolves_and_samples(root: Path) -> None:
    with pytest.raises(DataError, match="not in the server's data folder"):
        resolve_table(root, "gone.csv")
    sample, total = read_sample(resolve_table(root, "shards/"), rows=40)
    assert total == 60 and len(sample) == 40
    assert sample["city"].isna().sum() == 13 and sample["n"].iloc[0] == "1.5"
    sample, total = read_sample(resolve_table(root, "small.csv"), rows=1000)
    # the 10 rows empty in every column are left out, as read_csv leaves them out
    assert total is None and len(sample) == 20 and list(sample.columns) == ["city", "n"]
    assert len(read_csv(root / "small.csv")) == 20


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (
            b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
            "'t.csv' is not a CSV file; it looks like a PNG",
        ),
        (bytes(range(1, 256)) * 16, "'t.csv' is not a text file (it contains binary data)"),
        (gzip.compress(b"city,y\n" + b"Nancy,1\n" * 500)[:-30], "is cut short: check that the"),
        (b'city,y\nNancy,1\nMetz,"0\nLille,1\n', 'A double quote (") opened in the last column'),
        (b"city,y\n", "'t.csv' has a header row (city, y) but no data rows"),
    ],
    ids=["png", "random_bytes", "gzip_cut_short", "quote_never_closed", "no_rows"],
)
def test_an_unreadable_table_is_a_data_error(tmp_path: Path, content: bytes, needle: str) -> None:
    """The app's server tables show ``DataError`` messages; nothing else may escape."""
    (tmp_path / "t.csv").write_bytes(content)
    with pytest.raises(DataError, match=re.escape(needle)):
        read_sample(tmp_path / "t.csv", rows=10)


def test_a_sample_reads_carriage_return_line_ends(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes(b"city,y\rNancy,1\rMetz,0\r")
    sample, _ = read_sample(tmp_path / "t.csv", rows=10)
    assert sample.to_dict("list") == {"city": ["Nancy", "Metz"], "y": ["1", "0"]}
