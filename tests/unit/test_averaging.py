"""Weight averaging (``TrainConfig.ema_epochs``, ``model.averaging``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from synthetic import BINARY_ROLES, TINY_CONFIG

from embedding_core.model.averaging import step_decay, weight_averager
from embedding_core.model.config import TrainConfig
from embedding_core.model.train import train


def test_step_decay_has_the_time_constant_in_epochs() -> None:
    assert step_decay(0.0, 50) == 0.0
    assert step_decay(2.0, 50) == pytest.approx(math.exp(-1 / 100))
    # After one time constant the start weighs 1/e, whatever the steps per epoch.
    for batches in (3, 40, 1000):
        assert step_decay(0.5, batches) ** (batches / 2) == pytest.approx(math.exp(-1))


@pytest.mark.parametrize("steps_per_execution", [1, 3])
def test_the_model_ends_with_the_debiased_average_and_trains_on_the_raw_weights(
    steps_per_execution: int,
) -> None:
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5]) + 0.3).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(
        optimizer=keras.optimizers.SGD(0.05), loss="mse", steps_per_execution=steps_per_execution
    )
    batches = 8  # 64 rows, batch 8
    averager = weight_averager(0.5, batches)
    after_batch: list[list[np.ndarray]] = []  # the raw weights whenever Keras reports
    steps: list[int] = []  # and the optimiser's step count then
    at_epoch_start: list[list[np.ndarray]] = []

    class Recorder(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            after_batch.append([w.copy() for w in self.model.get_weights()])
            steps.append(int(self.model.optimizer.iterations))

        def on_epoch_begin(self, epoch, logs=None):
            at_epoch_start.append([w.copy() for w in self.model.get_weights()])

    model.fit(
        x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[averager, Recorder()]
    )

    # The average as the callback folds it in: every report, with the decay of its steps.
    d = step_decay(0.5, batches)
    average = [np.zeros_like(w) for w in after_batch[0]]
    kept = 1.0
    for weights, ran in zip(after_batch, np.diff([0, *steps]), strict=True):
        for a, w in zip(average, weights, strict=True):
            a *= d**ran
            a += (1 - d**ran) * w
        kept *= d**ran
    expected = [a / (1 - kept) for a in average]
    assert len(after_batch) == 2 * math.ceil(batches / steps_per_execution)
    for got, want in zip(model.get_weights(), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # The second epoch started from the raw weights of the first, not from the average.
    last_raw = after_batch[len(after_batch) // 2 - 1]
    for got, raw in zip(at_epoch_start[1], last_raw, strict=True):
        np.testing.assert_array_equal(got, raw)
    assert not np.allclose(model.get_weights()[0], after_batch[-1][0])


def test_training_with_averaging_validates_and_keeps_the_average(
    binary_frame: pd.DataFrame,
) -> None:
    plain = train(binary_frame, BINARY_ROLES, TINY_CONFIG.replace(ema_epochs=0.0))
    averaged = train(binary_frame, BINARY_ROLES, TINY_CONFIG.replace(ema_epochs=0.5))
    m = averaged.metrics
    assert m["refit"] is True and m["refit_epochs"] == m["best_epoch"]
    assert m["valid_auc"] > 0.6 and m["valid_logloss"] < m["baseline_logloss"]
    # Same seed, data and steps: the validation figures and the kept model differ.
    assert averaged.history[0]["val_loss"] != plain.history[0]["val_loss"]
    assert not np.allclose(averaged.predict(binary_frame), plain.predict(binary_frame))
    assert averaged.config.ema_epochs == 0.5
    assert TrainConfig.from_dict(averaged.config.to_dict()).ema_epochs == 0.5


@pytest.mark.parametrize("bad", [-0.1, float("nan"), True, "1", 1e9])
def test_bad_ema_epochs_is_refused_with_its_name(bad: object) -> None:
    with pytest.raises(ValueError, match="ema_epochs"):
        TrainConfig(ema_epochs=bad)  # type: ignore[arg-type]


def test_the_cli_flag_reaches_the_config() -> None:
    from embedding_core.cli import _config, build_parser

    argv = ["train", "--data", "d.csv", "--categorical", "a", "--target", "y", "--out", "o"]
    assert _config(build_parser().parse_args(argv)).ema_epochs == TrainConfig().ema_epochs
    args = build_parser().parse_args([*argv, "--ema-epochs", "0.25"])
    assert _config(args).ema_epochs == 0.25


def test_a_config_saved_before_the_option_reads_as_no_averaging() -> None:
    saved = TrainConfig().to_dict()
    del saved["ema_epochs"]
    assert TrainConfig.from_dict(saved).ema_epochs == 0.0
