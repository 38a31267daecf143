"""embedding_lr_factor: the category tables' learning rate, from config, CLI and a saved run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from embedding_core.cli import main
from embedding_core.model.config import TrainConfig
from embedding_core.model.rare_rows import RowAdam
from embedding_core.model.run import TrainedRun
from tests.unit.test_optimiser import _run

DATA = Path(__file__).resolve().parents[1] / "data" / "small_churn.csv"


def test_row_adam_honours_the_factor() -> None:
    start = np.random.default_rng(3).normal(size=(5, 2)).astype("float32")
    grad = tf.IndexedSlices(tf.constant([[0.5, -1.0]]), tf.constant([2]), tf.constant([5, 2]))
    plain = _run(RowAdam(1e-2), start, [grad]) - start
    faster = _run(RowAdam(1e-2, embedding_lr_factor=2.0), start, [grad]) - start
    assert np.abs(plain[2]).min() > 0
    np.testing.assert_allclose(faster, 2 * plain, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("bad", [0, -1.0, float("inf"), 101, "3", True])
def test_config_refuses_bad_factors(bad: object) -> None:
    with pytest.raises(ValueError, match="embedding_lr_factor"):
        TrainConfig(embedding_lr_factor=bad)  # type: ignore[arg-type]


def test_cli_flag_trains_saves_and_reloads(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "run"
    code = main(["train", "--data", str(DATA), "--target", "churned", "--categorical",
                 "customer_city,plan", "--epochs", "1", "--no-refit", "--quiet",
                 "--embedding-lr-factor", "3", "--out", str(out)])  # fmt: skip
    assert code == 0
    assert json.loads((out / "config.json").read_text())["embedding_lr_factor"] == 3.0
    run = TrainedRun.load(out)
    assert run.config.embedding_lr_factor == 3.0
    assert np.isfinite(run.predict(pd.read_csv(DATA).head(20))).all()
    code = main(["train", "--data", str(DATA), "--target", "churned", "--categorical",
                 "plan", "--epochs", "1", "--quiet", "--embedding-lr-factor", "0",
                 "--out", str(tmp_path / "bad")])  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and "embedding_lr_factor" in err and "Traceback" not in err
