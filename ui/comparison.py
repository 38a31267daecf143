"""The Train page's "compare with training from scratch" job, in a background thread."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import pandas as pd

from embedding_core.data.roles import Roles
from embedding_core.model.config import TrainConfig
from ui.jobs import WorkerJob

if TYPE_CHECKING:  # pragma: no cover
    from embedding_core.analysis.scratch import ScratchStep
    from embedding_core.model.run import TrainedRun

__all__ = ["ScratchJob"]


@dataclass(eq=False)
class ScratchJob(WorkerJob):
    """``compare_with_scratch`` for the current run, one seed (fast) or three (thorough).

    ``run_id`` says which run it compares; ``results`` holds one row per finished training.
    """

    frame: pd.DataFrame
    roles: Roles
    config: TrainConfig
    first: TrainedRun
    run_id: str
    seeds: tuple[int, ...] = (0,)
    step: ScratchStep | None = None
    results: pd.DataFrame | None = None
    _kind: ClassVar[str] = "scratch comparison"
    _cancelled_message: ClassVar[str] = "The comparison was stopped."
    _memory_message: ClassVar[str] = "The comparison ran out of memory."
    _failed_message: ClassVar[str] = "The comparison failed unexpectedly ({error})."

    def _on_step(self, step: ScratchStep) -> bool:
        self.step = step
        return not self.stop_event.is_set()

    def status_text(self) -> str:
        """One line for the progress bar."""
        if self.step is None:
            return "Preparing..."
        return (
            f"Training {self.step.done + 1} of {self.step.total}: {self.step.variant}, "
            f"seed {self.step.seed}"
        )

    def fraction_done(self) -> float:
        """Trainings finished / trainings planned."""
        return 0.0 if self.step is None else self.step.done / max(self.step.total, 1)

    def _run(self) -> None:
        from embedding_core.analysis.scratch import compare_with_scratch

        self.results = compare_with_scratch(
            self.frame,
            self.roles,
            self.config,
            seeds=self.seeds,
            first=self.first,
            on_step=self._on_step,
        )
