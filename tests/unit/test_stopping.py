"""Early stopping with a tolerance: of the epochs tied with the best, the one with the
highest validation AUC (accuracy for classes) is kept, and the final fit trains that many."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from synthetic import BINARY_ROLES, TINY_CONFIG

from embedding_core.cli import main
from embedding_core.model.config import TrainConfig
from embedding_core.model.stopping import early_stopper
from embedding_core.model.train import train

DATA = Path(__file__).resolve().parents[1] / "data" / "small_churn.csv"


def _feed(stopper, epochs: list[tuple[float, float]], metric: str = "val_auc") -> list[float]:
    """Drive ``stopper`` through epochs of (validation loss, ``metric``); the model's one
    weight is set to the epoch number first. Returns the weight left at the end."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    model.stop_training = False  # what fit() sets
    stopper.set_model(model)
    stopper.on_train_begin()
    for epoch, (loss, auc) in enumerate(epochs):
        model.set_weights([np.full((1, 1), float(epoch), dtype="float32")])
        stopper.on_epoch_end(epoch, {"val_loss": loss, metric: auc})
        if model.stop_training:
            break
    stopper.on_train_end()
    return [float(w.ravel()[0]) for w in model.get_weights()]


def test_the_tied_epoch_with_the_highest_auc_is_kept_with_its_weights() -> None:
    stopper = early_stopper(patience=2, tolerance=0.01, task="binary")
    epochs = [(1.0, 0.6), (0.5, 0.7), (0.504, 0.71), (0.5049, 0.71), (0.6, 0.8), (0.7, 0.8)]
    weights = _feed(stopper, epochs)
    assert stopper.best_epoch == 3 and weights == [3.0]  # equal AUC: the later epoch
    assert stopper.stopped_epoch == 3  # stopping still counts from the lowest loss


@pytest.mark.parametrize(
    ("epochs", "kept"),
    [
        ([(1.0, 0.6), (0.5, 0.7), (0.504, 0.71), (0.5049, 0.705), (0.6, 0.8)], 2),
        ([(1.0, 0.6), (0.5, 0.7), (0.504, 0.69), (0.5049, 0.699), (0.6, 0.8)], 1),
    ],
)
def test_a_tie_must_not_lose_auc(epochs: list[tuple[float, float]], kept: int) -> None:
    stopper = early_stopper(patience=2, tolerance=0.01, task="binary")
    assert _feed(stopper, epochs) == [float(kept)] and stopper.best_epoch == kept


def test_classes_tie_on_accuracy() -> None:
    epochs = [(1.0, 0.6), (0.5, 0.7), (0.504, 0.7), (0.6, 0.8)]
    stopper = early_stopper(patience=1, tolerance=0.01, task="multiclass")
    assert _feed(stopper, epochs, "val_accuracy") == [2.0] and stopper.best_epoch == 2
    stopper = early_stopper(patience=1, tolerance=0.01, task="multiclass")
    assert _feed(stopper, epochs, "val_auc") == [1.0]  # no accuracy figure: no tie


def test_the_default_ties_and_saved_runs_keep_the_lowest_epoch() -> None:
    assert TrainConfig().epoch_tolerance > 0
    saved = {k: v for k, v in TrainConfig().to_dict().items() if k != "epoch_tolerance"}
    assert TrainConfig.from_dict(saved).epoch_tolerance == 0


def test_a_tie_with_an_older_best_does_not_outlive_a_new_best() -> None:
    stopper = early_stopper(patience=3, tolerance=0.01, task="binary")
    epochs = [(1.0, 0.6), (0.5, 0.7), (0.503, 0.71), (0.45, 0.72), (0.46, 0.71), (0.47, 0.7)]
    weights = _feed(stopper, [*epochs, (0.48, 0.7)])
    assert stopper.best_epoch == 3 and weights == [3.0]


@pytest.mark.parametrize(
    ("tolerance", "task"), [(0.0, "binary"), (0.001, "binary"), (0.01, "regression"), (0.01, None)]
)
def test_without_a_tie_the_lowest_epoch_is_kept(tolerance: float, task: str | None) -> None:
    stopper = early_stopper(patience=1, tolerance=tolerance, task=task)
    weights = _feed(stopper, [(1.0, 0.6), (0.5, 0.7), (0.504, 0.71), (0.6, 0.72)])
    assert stopper.best_epoch == 1 and weights == [1.0]


def test_train_refits_for_the_tied_epoch_count(binary_frame: pd.DataFrame) -> None:
    config = TINY_CONFIG.replace(
        epochs=12, patience=3, learning_rate=0.01, batch_size=16, hidden_units=(64, 64), dropout=0
    )
    plain = train(binary_frame, BINARY_ROLES, config)
    losses = [h["val_loss"] for h in plain.history]
    aucs = [h["val_auc"] for h in plain.history]
    best = int(np.argmin(losses))
    assert best + 1 < len(losses), "the plain run must stop after its best epoch"
    tolerance = 1.0  # every epoch's loss ties: the AUC alone decides
    later = range(best, len(losses))
    kept = max(later, key=lambda e: (aucs[e], e))  # the highest AUC, then the latest
    assert kept > best, "some later epoch must beat the best epoch's AUC"
    tied = train(binary_frame, BINARY_ROLES, config.replace(epoch_tolerance=tolerance))
    m = tied.metrics
    assert [h["val_loss"] for h in tied.history] == pytest.approx(losses)  # same stopping
    assert m["best_epoch"] == kept + 1 > plain.metrics["best_epoch"]
    assert m["refit_epochs"] == m["best_epoch"]
    assert m["valid_logloss"] == pytest.approx(losses[kept], rel=1e-6)


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan"), "0.1", True])
def test_epoch_tolerance_is_checked(value: object) -> None:
    with pytest.raises(ValueError, match="epoch_tolerance"):
        TrainConfig(epoch_tolerance=value)


def test_cli_flag_reaches_the_saved_config(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "run"
    code = main(["train", "--data", str(DATA), "--target", "churned", "--categorical",
                 "customer_city,plan", "--epochs", "2", "--quiet",
                 "--epoch-tolerance", "0.5", "--out", str(out)])  # fmt: skip
    assert code == 0
    assert json.loads((out / "config.json").read_text())["epoch_tolerance"] == 0.5
    metrics = json.loads((out / "metrics.json").read_text())
    assert (
        metrics["best_epoch"] == metrics["epochs_run"] == 2
    )  # better than the first, or tied with it
    code = main(["train", "--data", str(DATA), "--target", "churned", "--categorical",
                 "plan", "--epochs", "1", "--quiet", "--epoch-tolerance", "2",
                 "--out", str(tmp_path / "bad")])  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and "epoch_tolerance" in err and "Traceback" not in err
