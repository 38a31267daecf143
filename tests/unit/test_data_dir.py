"""The server's data folder: listing, refusing paths outside it, reading a sample."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

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
    assert total is None and len(sample) == 30 and list(sample.columns) == ["city", "n"]
