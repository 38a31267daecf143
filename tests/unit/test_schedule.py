"""Learning-rate decay on plateau (``TrainConfig.lr_decay``, ``model.schedule``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic import BINARY_ROLES, TINY_CONFIG

from embedding_core.model.config import TrainConfig
from embedding_core.model.schedule import plateau_decay, replay_rates
from embedding_core.model.train import train


def _rates_from(losses: list[float], lr: float, factor: float) -> list[float]:
    rates, best = [], float("inf")
    for loss in losses:
        rates.append(lr)
        best, lr = (loss, lr) if loss < best else (best, lr * factor)
    return rates


def test_the_rate_drops_after_each_epoch_without_a_better_loss_and_replays() -> None:
    import keras

    losses = [1.0, 1.2, 0.9, 0.95, 0.95]
    seen: list[float] = []

    class FakeValidation(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(float(self.model.optimizer.learning_rate))

        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = losses[epoch]

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    x, y = np.zeros((8, 2), "float32"), np.zeros(8, "float32")
    decay = plateau_decay(0.5, 0.1)
    model.fit(x, y, epochs=5, verbose=0, callbacks=[decay, FakeValidation()][::-1])
    assert decay.rates == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert seen[1:] == pytest.approx(decay.rates[1:])  # the rate each epoch really ran at
    seen.clear()
    model.fit(x, y, epochs=4, verbose=0, callbacks=[replay_rates([0.1, 0.05]), FakeValidation()])
    assert seen == pytest.approx([0.1, 0.05, 0.05, 0.05])


def test_the_final_fit_runs_each_epoch_at_the_rate_the_first_fit_used(
    binary_frame: pd.DataFrame,
) -> None:
    config = TINY_CONFIG.replace(epochs=8, learning_rate=0.05, lr_decay=0.5, patience=3)
    run = train(binary_frame, BINARY_ROLES, config)
    m = run.metrics
    rates = _rates_from([h["val_loss"] for h in run.history], 0.05, 0.5)
    assert m["refit"] is True and m["refit_epochs"] == m["best_epoch"]
    # The refit's last epoch ran at the rate of the first fit's best epoch.
    assert float(run.model.optimizer.learning_rate) == pytest.approx(rates[m["best_epoch"] - 1])
    assert len(set(rates)) > 1, "the planted data should plateau at this rate"
    assert TrainConfig.from_dict(run.config.to_dict()).lr_decay == 0.5


@pytest.mark.parametrize("bad", [0.0, -0.5, 1.5, float("nan"), False])
def test_bad_lr_decay_is_refused_with_its_name(bad: object) -> None:
    with pytest.raises(ValueError, match="lr_decay"):
        TrainConfig(lr_decay=bad)  # type: ignore[arg-type]
