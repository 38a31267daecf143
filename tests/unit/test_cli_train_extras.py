"""``train`` options and output added after the contract: notes on stderr, numeric encoding."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from embedding_core.cli import main


def test_train_notes_an_inferred_task_and_takes_a_numeric_encoding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(0)
    shop = rng.choice(["s1", "s2", "s3", "s4"], size=200)
    stars = np.where(np.isin(shop, ["s1", "s2"]), 4, 2) + rng.integers(-1, 2, size=200)
    path = tmp_path / "ratings.csv"
    price = rng.uniform(1, 50, size=200).round(2)
    pd.DataFrame({"shop": shop, "price": price, "stars": stars}).to_csv(path, index=False)
    code = main(
        ["train", "--data", str(path), "--categorical", "shop", "--numeric", "price",
         "--target", "stars", "--numeric-encoding", "ple", "--numeric-bins", "1",
         "--epochs", "1", "--no-refit",
         "--out", str(tmp_path / "run"), "--quiet"]
    )  # fmt: skip
    assert code == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["task"] == "multiclass"
    notes = [line for line in err.splitlines() if line.startswith("note: ")]
    assert any(
        "'stars' has 5 numeric values (1, 2, 3, 4, 5): treated as classes" in line
        and "choose regression to predict the value" in line
        for line in notes
    ), err
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["numeric_encoding"] == "ple"
    assert config["numeric_bins"] == 1
    features = json.loads((tmp_path / "run" / "features.json").read_text())
    assert list(features["numeric_encoder"]["edges"]) == ["price"]
    assert len(features["numeric_encoder"]["edges"]["price"]) == 2  # one bin: its two edges
