"""Learning-rate decay on plateau, and its replay in the final fit.

``TrainConfig.lr_decay`` < 1 turns it on: after an epoch whose validation loss is no
better than the best so far, the learning rate is multiplied by ``lr_decay`` (early
stopping still counts the epoch, so with ``patience`` 2 the model gets one more epoch at
the lower rate before it stops). The final fit on all rows (``final_fit="refit"``) runs
the best epoch count again, each epoch at the rate the early-stopped fit used for it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["plateau_decay", "replay_rates"]


def plateau_decay(factor: float, learning_rate: float) -> Any:
    """A Keras callback that multiplies the learning rate by ``factor`` after an epoch
    without a better ``val_loss``; ``rates`` lists the rate each epoch ran at.

    Put it after the callback that writes ``val_loss`` into the epoch's logs.
    """
    import keras

    class PlateauDecay(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.rates: list[float] = []
            self.best = float("inf")
            self.rate = float(learning_rate)

        def on_train_begin(self, logs: dict | None = None) -> None:
            self.model.optimizer.learning_rate = self.rate

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.rates.append(self.rate)
            loss = float((logs or {}).get("val_loss", float("inf")))
            if loss < self.best:
                self.best = loss
            else:
                self.rate *= factor
                self.model.optimizer.learning_rate = self.rate

    return PlateauDecay()


def replay_rates(rates: list[float]) -> Any:
    """A Keras callback that runs epoch ``i`` at ``rates[i]`` (the last rate after the
    list ends)."""
    import keras

    class ReplayRates(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.model.optimizer.learning_rate = rates[min(epoch, len(rates) - 1)]

    return ReplayRates()
