"""``train`` tells the user on stderr how it read the data (here: an inferred task)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from embedding_core.cli import main


def test_train_says_a_few_whole_numbers_were_treated_as_classes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(0)
    shop = rng.choice(["s1", "s2", "s3", "s4"], size=200)
    stars = np.where(np.isin(shop, ["s1", "s2"]), 4, 2) + rng.integers(-1, 2, size=200)
    path = tmp_path / "ratings.csv"
    pd.DataFrame({"shop": shop, "stars": stars}).to_csv(path, index=False)
    code = main(
        ["train", "--data", str(path), "--categorical", "shop", "--target", "stars",
         "--epochs", "1", "--no-refit", "--out", str(tmp_path / "run"), "--quiet"]
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
