"""The Lift page's job: one ``run_lift`` call in a background thread (its DeepFM in the
server's training process when that is free, ``ui.training.train_anywhere``).

It keeps the cells finished so far, so the page can show them while the run goes on.
The page stores it with ``state.set_lift_job`` and polls it from ``ui.job_progress``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from embedding_core.data.roles import Roles
from embedding_core.model.config import TrainConfig
from ui.jobs import WorkerJob

if TYPE_CHECKING:  # pragma: no cover
    from embedding_core.analysis.lift import LiftProgress, LiftResult

__all__ = ["LiftJob"]


@dataclass(eq=False)
class LiftJob(WorkerJob):
    """One ``run_lift`` call in a worker thread (the Lift page's Run lift button).

    ``request_stop`` stops the run at its next step; the finished cells are kept as a
    partial ``LiftResult``. ``cells`` lists the (model, encoding) scores finished so far
    (one entry per split), for a live table.
    """

    frame: pd.DataFrame
    roles: Roles
    config: TrainConfig
    models: tuple[str, ...]
    folds: int | None = None
    dataset_label: str = ""
    dataset_key: str = ""
    last: LiftProgress | None = None
    cells: list[dict[str, Any]] = field(default_factory=list)
    result: LiftResult | None = None

    _kind: ClassVar[str] = "lift"
    _cancelled_message: ClassVar[str] = (
        "Stopped before any result was ready; the previous results are kept."
    )
    _memory_message: ClassVar[str] = (
        "The lift run ran out of memory: use fewer rows or fewer columns."
    )
    _failed_message: ClassVar[str] = "The lift run failed unexpectedly ({error})."

    # ------------------------------------------------------------------ status
    def fraction_done(self) -> float:
        """Progress in [0, 1] from the latest step report."""
        return self.last.fraction if self.last is not None else 0.0

    def status_text(self) -> str:
        """One line for the progress bar."""
        elapsed = time.perf_counter() - self.clicked_at
        if self.stop_event.is_set():
            return f"Stopping after the current step... ({elapsed:.0f} s)"
        if self.last is None:
            return f"Preparing the data... ({elapsed:.0f} s)"
        if self.last.stage == "deepfm" and self.last.epoch is None:
            return f"{self.last.message} Loading TensorFlow the first time... ({elapsed:.0f} s)"
        return f"{self.last.message} ({elapsed:.0f} s)"

    def partial_frame(self) -> pd.DataFrame:
        """The cells finished so far: one row per (model, encoding), in finishing order.

        Columns: model, encoding, metric (its label), score (mean over the splits done),
        splits (how many are done), fit_seconds (mean). Empty before the first cell.
        """
        columns = ["model", "encoding", "metric", "score", "splits", "fit_seconds"]
        cells = self.cells
        if not cells:
            return pd.DataFrame(columns=columns)
        return (
            pd.DataFrame(cells)
            .groupby(["model", "encoding", "metric"], sort=False)
            .agg(
                score=("score", "mean"),
                splits=("score", "size"),
                fit_seconds=("fit_seconds", "mean"),
            )
            .reset_index()[columns]
        )

    # ------------------------------------------------------------------ worker
    def _on_progress(self, progress: LiftProgress) -> bool:
        if progress.stage == "fit" and progress.score is not None:
            cell = {
                "model": progress.model,
                "encoding": progress.encoding,
                "metric": progress.metric_label,
                "score": progress.score,
                "fit_seconds": progress.fit_seconds,
            }
            self.cells = [*self.cells, cell]
        self.last = progress
        return not self.stop_event.is_set()

    def _run(self) -> None:
        from embedding_core.analysis.lift import run_lift
        from ui.training import train_anywhere

        self.result = run_lift(
            self.frame,
            self.roles,
            folds=self.folds,
            models=self.models,
            config=self.config,
            seed=self.config.seed,
            on_progress=self._on_progress,
            train=train_anywhere,  # in the training process when it is free
        )
