"""Progress reports of a lift run (``LiftProgress``), handed to ``on_progress``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from embedding_core.model.metrics import metric_label

__all__ = ["LiftProgress", "Stage"]

Stage = Literal["start", "deepfm", "fit", "done"]


@dataclass(frozen=True)
class LiftProgress:
    """One step of a lift run, handed to ``on_progress``.

    Attributes
    ----------
    stage : {"start", "deepfm", "fit", "done"}
        ``deepfm``: DeepFM training for the split (``epoch``/``epochs`` filled);
        ``fit``: one (model, encoding) finished; ``done``: every step finished.
    step, steps : int
        Completed steps and total steps (one DeepFM training per split + one step per
        model and encoding per split).
    fold, folds : int
        1-based split number and number of splits (1 in holdout mode).
    model, encoding : str or None
        The cell just finished (``fit``).
    message : str
        A short, human-readable description of the step.
    epoch, epochs : int or None
        DeepFM epoch progress during ``deepfm``.
    metric, score, fit_seconds : str, float or None
        For ``fit``: the cell's primary metric (``"auc"``, ``"rmse"``, ...), its value on
        this split's held-out rows (no error bar yet) and the cell's fit time, so a caller
        can show results as they come. Filled only when there is a callback to read them.
    """

    stage: Stage
    step: int
    steps: int
    fold: int
    folds: int
    message: str
    model: str | None = None
    encoding: str | None = None
    epoch: int | None = None
    epochs: int | None = None
    metric: str | None = None
    score: float | None = None
    fit_seconds: float | None = None

    @property
    def metric_label(self) -> str | None:
        """Human name of ``metric`` ("AUC", "RMSE", ...), or None."""
        return None if self.metric is None else metric_label(self.metric)

    @property
    def fraction(self) -> float:
        """Share of the work done, in [0, 1] (DeepFM epochs count as part of a step)."""
        if self.steps <= 0:
            return 0.0
        partial = 0.0
        if self.stage == "deepfm" and self.epoch and self.epochs:
            partial = min(1.0, self.epoch / self.epochs)
        return min(1.0, (self.step + partial) / self.steps)
