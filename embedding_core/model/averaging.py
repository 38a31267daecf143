"""Weight averaging: an exponential moving average (EMA) of the weights during training.

``TrainConfig.ema_epochs`` > 0 turns it on. The average has a time constant of
``ema_epochs`` epochs (per-step decay ``exp(-1 / (ema_epochs * batches))``) and is
debiased, so early in a fit it is the mean of the weights seen so far rather than a
mix with zeros. Validation (and so early stopping and the best weights kept) reads the
averaged weights; the optimiser keeps stepping the raw ones. Each fit (the
early-stopped one and the final fit on all rows) averages its own trajectory, and the
final fit keeps its average. Averaging the weights along the trajectory smooths out the
noise of the last steps, which tabular deep-learning papers report as a cheap, steady
gain (e.g. Gorishniy et al. 2022; Holzmüller et al. 2024, "Better by default").

The update runs at Keras's batch hooks (every ``steps_per_execution`` steps, up to 8),
with the decay of the steps since the last one, as one traced function: a few dense
assignments per call, not per step. The Keras optimiser's own ``use_ema`` would rewrite
every row of every embedding table at every step, which the lazy optimiser
(``deepfm.LazyAdam``) exists to avoid.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["weight_averager", "step_decay"]


def step_decay(ema_epochs: float, batches: int) -> float:
    """Per-step decay of an average with a time constant of ``ema_epochs`` epochs of
    ``batches`` steps (0 for ``ema_epochs == 0``: the average is the current weights)."""
    if ema_epochs <= 0:
        return 0.0
    return math.exp(-1.0 / (ema_epochs * max(1, batches)))


def weight_averager(ema_epochs: float, batches: int) -> Any:
    """A Keras callback that keeps a debiased EMA of the trainable weights.

    Put it first in ``callbacks``: at each epoch end it swaps the averaged weights into
    the model (so the callbacks after it, validation and ``EarlyStopping``, see them),
    and at the next epoch's start it puts the raw weights back. At the end of a fit the
    model holds the average of the last epoch (``EarlyStopping`` with
    ``restore_best_weights`` then restores the best epoch's average).

    Parameters
    ----------
    ema_epochs : float
        Time constant of the average, in epochs (> 0).
    batches : int
        Optimiser steps per epoch.
    """
    import keras
    import tensorflow as tf

    decay = step_decay(ema_epochs, batches)

    class WeightAverager(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.averages: list[Any] = []
            self.raw: list[Any] = []
            self.kept = 1.0  # the decay of the whole fit so far (for debiasing)
            self.done = 0  # steps of this epoch already folded into the average
            self.swapped = False
            self._update: Any = None
            self._swap: Any = None

        def on_train_begin(self, logs: dict | None = None) -> None:
            variables = self.model.trainable_variables
            if not self.averages:
                self.averages = [tf.Variable(tf.zeros_like(v.value)) for v in variables]
                self.raw = [tf.Variable(tf.zeros_like(v.value)) for v in variables]

                @tf.function(autograph=False)  # plain Python loops: nothing to convert
                def update(w: Any) -> None:
                    for a, v in zip(self.averages, variables, strict=True):
                        a.assign_add(w * (v.value - a))

                @tf.function(autograph=False)  # plain Python loops: nothing to convert
                def swap_in() -> None:
                    for a, r, v in zip(self.averages, self.raw, variables, strict=True):
                        r.assign(v.value)
                        v.assign(a)

                self._update, self._swap = update, swap_in
            self.kept, self.done, self.swapped = 1.0, 0, False

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            if self.swapped:
                for r, v in zip(self.raw, self.model.trainable_variables, strict=True):
                    v.assign(r)
                self.swapped = False
            self.done = 0

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            # Keras passes the 0-based index of the last batch run (one past the epoch's
            # end after a short last execution)
            done = min(batch + 1, (self.params or {}).get("steps") or batch + 1)
            if done <= self.done:
                return
            d = decay ** (done - self.done)
            # The debiased average m = a / (1 - kept) moves by w (v - m): the first update
            # sets it to the weights, and a weight that does not move (a frozen row)
            # stays bit for bit what it was.
            w = (1.0 - d) / (1.0 - self.kept * d)
            self._update(tf.constant(w, tf.float32))
            self.kept *= d
            self.done = done

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if self.kept < 1.0:
                self._swap()
                self.swapped = True

    return WeightAverager()
