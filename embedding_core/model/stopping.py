"""Early stopping that keeps, among the epochs tied with the best, the one the task's
metric prefers.

Keras's ``EarlyStopping`` keeps the epoch with the lowest validation loss. When the
loss curve is flat around its minimum, which epoch that is comes down to noise, yet the
epoch count matters for the vectors: the final refit trains for that many epochs, and a
category seen 30-100 times moves its vector only a little per epoch. With
``TrainConfig.epoch_tolerance`` > 0 every epoch whose validation loss is within that
fraction of the lowest (``loss <= best * (1 + tolerance)``) ties with it, and of the tied
epochs the one with the highest headline validation metric (``TIE_METRICS``: AUC for a
binary target, accuracy for classes) is kept, the later one on equal metrics. A
regression's validation loss and RMSE rank epochs alike, so there the lowest loss is
kept. Stopping itself (``patience``) still counts epochs without a new lowest loss, so no
run trains longer.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TIE_METRICS", "early_stopper"]

#: Per task, the validation metric (higher is better) a tied epoch must not lose on.
TIE_METRICS = {"binary": "val_auc", "multiclass": "val_accuracy"}


def early_stopper(patience: int, tolerance: float = 0.0, task: str | None = None) -> Any:
    """A Keras ``EarlyStopping`` on ``val_loss`` with ``restore_best_weights``, whose
    ``best_epoch`` (0-based) is, of the epochs tied with the lowest loss, the one with
    the highest ``TIE_METRICS[task]`` (the later one on equal figures).

    Parameters
    ----------
    patience : int
        Epochs without a new lowest validation loss before training stops.
    tolerance : float, default=0.0
        An epoch after the lowest-loss one ties with it when its loss is at most
        ``best * (1 + tolerance)``. 0, or a task without a tie metric: the lowest-loss
        epoch is kept.
    task : {"binary", "multiclass", "regression"}, optional
        The run's task; it names the tie metric.
    """
    import keras

    metric = TIE_METRICS.get(task or "")

    class TolerantEarlyStopping(keras.callbacks.EarlyStopping):
        def __init__(self) -> None:
            super().__init__(
                monitor="val_loss", mode="min", patience=patience, restore_best_weights=True
            )
            self.tolerance = float(tolerance) if metric else 0.0
            self.kept_metric = float("nan")  # the metric of the epoch kept so far

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            lowest = self.best
            super().on_epoch_end(epoch, logs)
            logs = logs or {}
            current, score = logs.get(self.monitor), logs.get(metric or "")
            if self.tolerance <= 0 or current is None or score is None:
                return
            if self.best != lowest:  # a new lowest loss, kept by Keras: ties start from it
                self.kept_metric = float(score)
            elif float(current) <= float(self.best) + self.tolerance * abs(float(self.best)) and (
                float(score) >= self.kept_metric
            ):
                # Kept instead of the lowest-loss epoch (which a later tie or a new lowest
                # loss would replace anyway), so one copy of the weights is held, as before.
                self.best_epoch, self.best_weights = epoch, self.model.get_weights()
                self.kept_metric = float(score)

    return TolerantEarlyStopping()
