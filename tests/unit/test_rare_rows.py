"""RowAdam: per-row bias correction and count-aware row decay for rare categories."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from embedding_core.cli import main
from embedding_core.data.roles import Roles
from embedding_core.model.config import TrainConfig
from embedding_core.model.deepfm import LazyAdam
from embedding_core.model.rare_rows import RowAdam
from embedding_core.model.train import train
from tests.unit.test_optimiser import _run

DATA = Path(__file__).resolve().parents[1] / "data" / "small_churn.csv"


def _slices(values: np.ndarray, rows: list[int], shape: tuple[int, int]) -> tf.IndexedSlices:
    return tf.IndexedSlices(tf.constant(values, "float32"), tf.constant(rows), tf.constant(shape))


def test_a_rare_row_steps_learning_rate_sized_while_lazy_adam_overshoots() -> None:
    """Row 0 is updated 500 times, then row 1 ten times with one constant gradient:
    RowAdam moves row 1 by the learning rate per update (as Adam moves any weight
    under a constant gradient), LazyAdam by far more."""
    lr, shape = 1e-2, (3, 2)
    start = np.zeros(shape, "float32")
    warm = [_slices(np.array([[1.0, -1.0]]), [0], shape)] * 500
    rare = [_slices(np.array([[0.5, 0.5]]), [1], shape)] * 10
    ours = _run(RowAdam(lr), start, [*warm, *rare])
    lazy = _run(LazyAdam(lr), start, [*warm, *rare])
    np.testing.assert_allclose(ours[1], [-10 * lr, -10 * lr], rtol=1e-4)
    assert np.all(np.abs(lazy[1]) > 2 * 10 * lr)
    np.testing.assert_allclose(ours[0], lazy[0], rtol=1e-5)  # the frequent row: the same
    np.testing.assert_array_equal(ours[2], start[2])  # never used: untouched


def test_reset_forgets_the_row_counts_and_dense_steps_are_lazy_adams() -> None:
    shape = (3, 2)
    start = np.ones(shape, "float32")
    optimizer = RowAdam(1e-2)
    _run(optimizer, start, [_slices(np.ones((2, 2)), [1, 1], shape)] * 2)
    steps = next(iter(optimizer._row_steps.values()))
    np.testing.assert_array_equal(steps.numpy().ravel(), [0, 2, 0])  # one per step, not per use
    optimizer.reset()
    np.testing.assert_array_equal(steps.numpy(), 0)
    grads = [tf.constant(np.full(shape, 0.3, "float32"))] * 3
    np.testing.assert_allclose(
        _run(RowAdam(1e-2), start, grads), _run(LazyAdam(1e-2), start, grads)
    )
    with pytest.raises(ValueError, match="amsgrad"):
        RowAdam(1e-2, amsgrad=True)


def test_config_refuses_a_non_boolean_row_bias_correction() -> None:
    with pytest.raises(ValueError, match="row_bias_correction to be True or False"):
        TrainConfig(row_bias_correction="yes")


def test_train_with_row_options_updates_each_seen_row_by_its_own_count() -> None:
    rng = np.random.default_rng(0)
    n = 600
    city = np.where(rng.random(n) < 0.9, "big", rng.integers(0, 30, n).astype(str))
    frame = pd.DataFrame({"city": city, "shop": rng.integers(0, 4, n).astype(str)})
    frame["y"] = (rng.random(n) < 0.3).astype(int)
    config = TrainConfig(epochs=1, refit=False, row_bias_correction=True, min_count=1)
    run = train(frame, Roles(("city", "shop"), "y", task="binary"), config)
    optimizer = run.model.optimizer
    assert isinstance(optimizer, RowAdam)
    assert TrainConfig.from_dict(run.config.to_dict()) == config
    table = run.model.get_layer("embedding").embeddings
    steps = optimizer._row_steps[optimizer._get_variable_index(table)].numpy().ravel()
    sizes = run.features.field_sizes
    big = run.features.encoders_["city"].transform(pd.Series(["big"]))[0]
    batches = int(np.ceil(run.metrics["n_train"] / run.metrics["batch_size"]))
    # "big" is in every batch; a rare city in a few; no row more often than batches.
    assert steps[big] == batches
    assert 0 < np.median(steps[: sizes[0]][steps[: sizes[0]] > 0]) < batches
    assert steps.max() == batches


def test_cli_flag_trains_with_row_bias_correction(tmp_path: Path) -> None:
    out = tmp_path / "run"
    code = main(["train", "--data", str(DATA), "--target", "churned", "--categorical",
                 "customer_city,plan", "--epochs", "1", "--no-refit", "--quiet",
                 "--row-bias-correction", "--out", str(out)])  # fmt: skip
    assert code == 0
    assert json.loads((out / "config.json").read_text())["row_bias_correction"] is True
