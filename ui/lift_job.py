"""The Lift page's job: one ``run_lift`` call in a background thread (its DeepFM in the
server's training process when that is free, ``ui.training.train_anywhere``).

It keeps the cells finished so far, so the page can show them while the run goes on.
The page stores it with ``state.set_lift_job`` and polls it from ``ui.job_progress``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from embedding_core.data.roles import Roles
from embedding_core.model.config import TrainConfig
from ui.jobs import WorkerJob

if TYPE_CHECKING:  # pragma: no cover
    from embedding_core.analysis.lift import LiftProgress, LiftResult

__all__ = ["LiftJob", "link_key", "remember", "job_for"]

#: The latest lift job of each link (``link_key``), so that a page reloaded while the job
#: runs takes it back. Bounded: a finished job holds its data until a newer one replaces it.
_BY_LINK: OrderedDict[str, LiftJob] = OrderedDict()
_MAX_LINKS = 8
_LOCK = threading.Lock()


def link_key(run_id: str | None, dataset_key: str) -> str | None:
    """What a reloaded page has in common with the one that started a job: the stored
    run in its URL (96 random bits: only who has the link) and the data; None without a
    stored run (a bundled sample alone is shared by every visitor)."""
    return f"{run_id}|{dataset_key}" if run_id else None


def remember(key: str | None, job: LiftJob) -> None:
    """Register ``job`` as the latest of ``key`` (nothing without a key)."""
    if key is None:
        return
    with _LOCK:
        _BY_LINK.pop(key, None)
        _BY_LINK[key] = job
        while len(_BY_LINK) > _MAX_LINKS:
            _BY_LINK.popitem(last=False)


def job_for(key: str | None) -> LiftJob | None:
    """The latest lift job started on ``key``'s link, or None."""
    if key is None:
        return None
    with _LOCK:
        return _BY_LINK.get(key)


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
