"""The Train page's status line names the final step that is running, and when a training
is nearly done (no training here)."""

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


def _nearly_done(progress: Progress | None) -> bool:
    job = TrainingJob(frame=pd.DataFrame(), roles=Roles(("shop",), "y"), config=TrainConfig())
    job.last = progress
    return job.nearly_done()


def test_nearly_done_is_the_second_half_of_the_final_fits_last_epoch_or_later() -> None:
    assert not _nearly_done(None)
    assert not _nearly_done(Progress("start", 0, 20))
    assert not _nearly_done(Progress("batch", 20, 20, 39, 40))  # early stopping goes on?
    assert not _nearly_done(Progress("epoch", 5, 20, 0, 40))
    assert not _nearly_done(Progress("refit", 3, 4, 39, 40, {}, 0, "refit"))  # not the last
    assert not _nearly_done(Progress("refit", 4, 4, 19, 40, {}, 0, "refit"))  # first half
    assert _nearly_done(Progress("refit", 4, 4, 20, 40, {}, 0, "refit"))
    assert _nearly_done(Progress("refit", 1, 1, 5, 8, {}, 0, "holdout"))
    assert _nearly_done(Progress("end", 5, 20, 0, 40))
