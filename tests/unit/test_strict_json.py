"""Every JSON the CLI prints or writes is strict JSON: a missing figure is null, and said."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from embedding_core.cli import main
from embedding_core.data.split import train_valid_split
from embedding_core.strict_json import dumps


def _strict(text: str):
    """Parse as a strict JSON parser would: NaN, Infinity and -Infinity are refused."""

    def refuse(constant: str):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), -math.inf, np.float32("nan"), np.float64("inf")],
    ids=["nan", "inf", "-inf", "float32-nan", "float64-inf"],
)
def test_dumps_writes_null_for_a_figure_that_is_not_a_finite_number(value):
    text = dumps({"m": value, "nested": [1, {"x": value}], "n": np.int64(3)}, indent=2)
    assert _strict(text) == {"m": None, "nested": [1, {"x": None}], "n": 3}


def _binary_one_positive(n: int = 60) -> pd.DataFrame:
    """A single positive: the stratified split keeps it in training, so AUC is undefined."""
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.choice(["p", "q", "r"], n), "y": (np.arange(n) == 0).astype(int)})


def _regression_flat_validation(n: int = 60) -> pd.DataFrame:
    """A numeric target that varies on the training rows only: R² is undefined."""
    rng = np.random.default_rng(0)
    y = rng.normal(size=n).round(3)
    y[train_valid_split(n, valid_fraction=0.2, seed=0)[1]] = 1.5
    return pd.DataFrame({"a": rng.choice(["p", "q", "r"], n), "y": y})


@pytest.mark.parametrize(
    ("frame", "task", "metric"),
    [(_binary_one_positive(), "auto", "valid_auc"),
     (_regression_flat_validation(), "regression", "valid_r2")],
    ids=["binary-auc", "regression-r2"],
)  # fmt: skip
def test_train_prints_null_for_a_missing_metric_and_says_why(frame, task, metric, tmp_path, capsys):
    data = tmp_path / "d.csv"
    frame.to_csv(data, index=False)
    argv = ["train", "--data", str(data), "--categorical", "a", "--target", "y", "--task", task,
            "--epochs", "1", "--out", str(tmp_path / "run"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    printed = _strict(captured.out)
    assert printed[metric] is None
    saved = _strict((tmp_path / "run" / "metrics.json").read_text())
    assert saved[metric] is None
    notes = [line for line in captured.err.splitlines() if line.startswith(f"note: {metric}")]
    assert len(notes) == 1 and "is null" in notes[0] and "use more data" in notes[0]
    assert main(["info", "--model", str(tmp_path / "run"), "--json"]) == 0
    assert _strict(capsys.readouterr().out)["metrics"][metric] is None
