"""The Train page's status line names the final step that is running (no training here)."""

from __future__ import annotations

import pandas as pd

from embedding_core.data.roles import Roles
from embedding_core.model.config import TrainConfig
from embedding_core.model.train import Progress
from ui.training import TrainingJob


def _status(progress: Progress) -> str:
    job = TrainingJob(frame=pd.DataFrame(), roles=Roles(("shop",), "y"), config=TrainConfig())
    job.last = progress
    return job.status_text()


def test_status_names_the_refit_or_the_pass_over_the_validation_rows() -> None:
    refit = _status(Progress("refit", 2, 5, 3, 40, {}, 300, "refit"))
    assert refit == (
        "Step 2 of 2, final fit on all rows for the best epoch count: epoch 2/5 - batch 3/40"
    )
    holdout = _status(Progress("refit", 1, 1, 3, 8, {}, 300, "holdout"))
    assert holdout == "Step 2 of 2, final fit: one pass over the validation rows - batch 3/8"
