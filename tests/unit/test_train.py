"""train(): tasks end to end, metrics, determinism, progress, cancellation, early stopping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic import (
    BINARY_ROLES,
    PLANTED_ROLES,
    TINY_CONFIG,
    make_planted_frame,
)

from embedding_core.data.roles import Roles
from embedding_core.errors import DataError, TrainingCancelled
from embedding_core.model.embeddings import vectors
from embedding_core.model.train import MAX_BATCH_EVENTS, Progress, train

COMMON_METRICS = {
    "task",
    "n_train",
    "n_valid",
    "epochs_run",
    "best_epoch",
    "train_seconds",
    "rows_per_second",
    "steady_rows_per_second",
    "time_to_first_epoch_seconds",
    "stopped_by_user",
}


def test_binary_end_to_end(tiny_binary_run, binary_frame: pd.DataFrame) -> None:
    run = tiny_binary_run
    m = run.metrics
    assert COMMON_METRICS | {"valid_auc", "valid_logloss", "baseline_logloss"} <= set(m)
    assert m["task"] == "binary" and run.roles.task == "binary"
    assert m["n_train"] + m["n_valid"] == len(binary_frame)
    assert m["n_valid"] == pytest.approx(0.2 * len(binary_frame), abs=2)
    assert m["epochs_run"] == 2 and len(run.history) == 2
    assert m["rows_per_second"] > 0 and m["steady_rows_per_second"] > 0
    assert m["time_to_first_epoch_seconds"] > 0
    assert m["stopped_by_user"] is False
    # A planted signal: better than chance and than the prior after 2 short epochs.
    assert m["valid_auc"] > 0.6
    assert m["valid_logloss"] < m["baseline_logloss"]
    assert m["baseline_auc"] == 0.5
    assert {"epoch", "loss", "val_loss", "val_auc", "seconds"} <= set(run.history[0])
    assert run.features.positive_label_ == "yes"


def test_regression_end_to_end(tiny_regression_run, regression_frame: pd.DataFrame) -> None:
    m = tiny_regression_run.metrics
    assert {"valid_rmse", "valid_mae", "valid_r2", "baseline_rmse", "baseline_r2"} <= set(m)
    assert m["task"] == "regression"
    assert m["valid_rmse"] < m["baseline_rmse"]
    # Predictions come back in the target's scale (hundreds), not standardised.
    pred = tiny_regression_run.predict(regression_frame)
    assert 200 < float(np.mean(pred)) < 450


def test_multiclass_end_to_end(tiny_multiclass_run, multiclass_frame: pd.DataFrame) -> None:
    run = tiny_multiclass_run
    m = run.metrics
    assert {"valid_accuracy", "valid_logloss", "baseline_accuracy"} <= set(m)
    assert run.features.classes_ == ["a", "b", "c"]
    assert m["valid_logloss"] < m["baseline_logloss"]
    proba = run.predict(multiclass_frame.head(10))
    assert proba.shape == (10, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_same_seed_same_embeddings_other_seed_different(
    tiny_binary_run, binary_frame: pd.DataFrame
) -> None:
    again = train(binary_frame, BINARY_ROLES, TINY_CONFIG)
    for field in again.fields:
        np.testing.assert_array_equal(
            vectors(again.embeddings(field)), vectors(tiny_binary_run.embeddings(field))
        )
    assert again.metrics["valid_logloss"] == tiny_binary_run.metrics["valid_logloss"]
    other = train(binary_frame, BINARY_ROLES, TINY_CONFIG.replace(seed=1))
    assert not np.allclose(
        vectors(other.embeddings("colour")), vectors(tiny_binary_run.embeddings("colour"))
    )


def test_bad_roles_raise_data_error(binary_frame: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="not in the data"):
        train(binary_frame, Roles(("nope",), "y"), TINY_CONFIG)
    with pytest.raises(DataError, match="also chosen as a feature"):
        train(binary_frame, Roles(("shop", "y"), "y"), TINY_CONFIG)


def test_cancel_at_start_or_before_first_epoch_raises(binary_frame: pd.DataFrame) -> None:
    with pytest.raises(TrainingCancelled):
        train(binary_frame, BINARY_ROLES, TINY_CONFIG, on_progress=lambda p: p.kind != "start")
    seen: list[Progress] = []

    def stop_at_first_batch(p: Progress) -> bool:
        seen.append(p)
        return p.kind != "batch"

    with pytest.raises(TrainingCancelled, match="before the first epoch"):
        train(binary_frame, BINARY_ROLES, TINY_CONFIG, on_progress=stop_at_first_batch)
    assert [p.kind for p in seen] == ["start", "batch"]


def test_cancel_after_an_epoch_keeps_the_run_and_batch_events_are_throttled(
    binary_frame: pd.DataFrame,
) -> None:
    seen: list[Progress] = []

    def stop_after_epoch_one(p: Progress) -> bool:
        seen.append(p)
        return not (p.kind == "epoch" and p.epoch == 1)

    config = TINY_CONFIG.replace(epochs=5, batch_size=8)  # 40 batches per epoch
    run = train(binary_frame, BINARY_ROLES, config, on_progress=stop_after_epoch_one)
    assert run.metrics["stopped_by_user"] is True
    assert run.metrics["epochs_run"] == 1 and run.metrics["best_epoch"] == 1
    batches = [p for p in seen if p.kind == "batch"]
    assert batches and batches[0].batches == 40
    assert len(batches) <= MAX_BATCH_EVENTS + 1
    assert batches[-1].batch == 40 and 0 < batches[0].fraction < batches[-1].fraction <= 0.2
    assert "loss" in batches[0].logs
    kinds = [p.kind for p in seen]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("epoch") == 1
    assert {"val_loss", "val_auc"} <= set(seen[kinds.index("epoch")].logs)
    assert seen[-1].logs["valid_auc"] == run.metrics["valid_auc"]
    assert run.predict(binary_frame.head(3)).shape == (3,)


def test_early_stopping_restores_the_best_epoch(binary_frame: pd.DataFrame) -> None:
    # A large learning rate on 400 rows overfits within a few epochs.
    config = TINY_CONFIG.replace(
        epochs=12, patience=1, learning_rate=0.05, batch_size=16, hidden_units=(64, 64),
        dropout=0, epoch_tolerance=0,
    )  # fmt: skip
    run = train(binary_frame, BINARY_ROLES, config)
    m = run.metrics
    assert m["epochs_run"] < 12 and m["best_epoch"] < m["epochs_run"]
    val_losses = [h["val_loss"] for h in run.history]
    assert m["best_epoch"] == int(np.argmin(val_losses)) + 1
    # The returned weights are the best epoch's, not the last one's.
    assert m["valid_logloss"] == pytest.approx(min(val_losses), rel=1e-6)
    assert m["valid_logloss"] < val_losses[-1]


def test_early_stopping_works_for_multiclass_and_the_final_fit_uses_the_best_count(
    multiclass_frame: pd.DataFrame,
) -> None:
    from synthetic import MULTICLASS_ROLES

    config = TINY_CONFIG.replace(
        epochs=12, patience=1, learning_rate=0.05, batch_size=16, hidden_units=(64, 64),
        dropout=0, refit=True, epoch_tolerance=0,
    )  # fmt: skip
    run = train(multiclass_frame, MULTICLASS_ROLES, config)
    m = run.metrics
    assert m["task"] == "multiclass"
    assert m["epochs_run"] < 12, [h["val_loss"] for h in run.history]
    assert m["best_epoch"] == int(np.argmin([h["val_loss"] for h in run.history])) + 1
    assert m["refit_epochs"] == m["best_epoch"]


def test_vectors_of_planted_groups_are_closer_within_than_across() -> None:
    frame = make_planted_frame()
    # lr 3e-3, 3 epochs: every seed in 0..4 gave a margin >= 0.7 and >= 2/3 right neighbours.
    config = TINY_CONFIG.replace(
        embedding_dim=8, hidden_units=(32, 16), batch_size=128, epochs=3, learning_rate=3e-3
    )
    run = train(frame, PLANTED_ROLES, config)
    table = run.embeddings("item")
    table = table[~table["is_unknown"] & ~table["is_missing"]]
    assert len(table) == 12
    v = vectors(table).astype(np.float64)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    cosine = v @ v.T
    group = np.array([int(c[1:]) % 3 for c in table["category"]])
    same = (group[:, None] == group[None, :]) & ~np.eye(len(group), dtype=bool)
    across = group[:, None] != group[None, :]
    assert cosine[same].mean() > cosine[across].mean() + 0.3
    # The nearest neighbour of at least half of the items is in their own group.
    np.fill_diagonal(cosine, -np.inf)
    assert np.mean(group[cosine.argmax(axis=1)] == group) >= 0.5


def test_refit_trains_a_fresh_model_on_all_rows_for_the_best_epoch_count(
    tiny_binary_run, binary_frame: pd.DataFrame
) -> None:
    m = tiny_binary_run.metrics
    assert m["refit"] is True and m["refit_rows"] == len(binary_frame)
    assert m["refit_epochs"] == m["best_epoch"] and m["refit_seconds"] > 0
    assert m["train_seconds"] >= m["refit_seconds"]
    # The optimiser started again: its step count covers the final fit only.
    steps = m["refit_epochs"] * int(np.ceil(len(binary_frame) / m["batch_size"]))
    assert int(tiny_binary_run.model.optimizer.iterations) == steps
    kept_early_stopped = train(binary_frame, BINARY_ROLES, TINY_CONFIG.replace(refit=False))
    assert kept_early_stopped.metrics["refit"] is False
    assert kept_early_stopped.metrics["refit_epochs"] == 0
    # Same validation figures (measured before the refit), different final weights.
    assert kept_early_stopped.metrics["valid_auc"] == m["valid_auc"]
    assert not np.allclose(
        kept_early_stopped.predict(binary_frame), tiny_binary_run.predict(binary_frame)
    )


def test_refit_reports_progress_and_a_cancelled_refit_keeps_the_early_stopped_model(
    binary_frame: pd.DataFrame,
) -> None:
    seen: list[Progress] = []

    def stop_in_refit(p: Progress) -> bool:
        seen.append(p)
        return p.kind != "refit"

    config = TINY_CONFIG.replace(epochs=1)
    run = train(binary_frame, BINARY_ROLES, config, on_progress=stop_in_refit)
    refits = [p for p in seen if p.kind == "refit"]
    assert len(refits) == 1 and refits[0].epochs == 1 and 0 < refits[0].fraction <= 1
    assert refits[0].batches >= refits[0].batch > 0 and "loss" in refits[0].logs
    assert refits[0].final_fit == "refit"  # 400 rows: "auto" refits small tables
    assert run.metrics["refit"] is False and run.metrics["stopped_by_user"] is True
    early_stopped = train(binary_frame, BINARY_ROLES, config.replace(refit=False))
    np.testing.assert_array_equal(run.predict(binary_frame), early_stopped.predict(binary_frame))


def test_optimiser_slots_exist_before_the_first_traced_step(monkeypatch, binary_frame) -> None:
    # Slots created inside the first traced step make TensorFlow trace the step twice.
    import keras

    seen: list[bool] = []
    fit = keras.Model.fit

    def checked_fit(self, *args, **kwargs):
        seen.append(bool(self.optimizer.built))
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", checked_fit)
    train(binary_frame, BINARY_ROLES, TINY_CONFIG.replace(epochs=1))
    assert seen and all(seen)


def test_holdout_final_fit_continues_the_early_stopped_model_on_the_validation_rows(
    binary_frame: pd.DataFrame,
) -> None:
    seen: list[Progress] = []
    config = TINY_CONFIG.replace(final_fit="holdout")
    run = train(binary_frame, BINARY_ROLES, config, on_progress=seen.append)
    m = run.metrics
    assert m["refit"] is True and m["final_fit"] == "holdout"
    assert m["refit_rows"] == len(binary_frame) and m["refit_epochs"] == 1
    # Continued, not restarted: the optimiser's steps cover both fits.
    per_epoch = int(np.ceil(m["n_train"] / m["batch_size"]))
    holdout_steps = int(np.ceil(m["n_valid"] / m["batch_size"]))
    assert int(run.model.optimizer.iterations) == m["epochs_run"] * per_epoch + holdout_steps
    refits = [p for p in seen if p.kind == "refit"]
    assert refits and all(p.final_fit == "holdout" and p.batches == holdout_steps for p in refits)
    early_stopped = train(binary_frame, BINARY_ROLES, config.replace(refit=False))
    assert early_stopped.metrics["final_fit"] is None
    assert early_stopped.metrics["valid_auc"] == m["valid_auc"]
    assert not np.allclose(early_stopped.predict(binary_frame), run.predict(binary_frame))


def test_auto_final_fit_refits_small_tables_and_takes_the_holdout_pass_on_large_ones() -> None:
    from embedding_core.model.config import TrainConfig
    from embedding_core.model.final_fit import BIG_TABLE_ROWS, resolve_final_fit

    auto = TrainConfig()
    assert auto.final_fit == "auto" and auto.refit is True
    assert resolve_final_fit(auto, BIG_TABLE_ROWS - 1) == "refit"
    assert resolve_final_fit(auto, BIG_TABLE_ROWS) == "holdout"
    assert resolve_final_fit(auto, BIG_TABLE_ROWS, "binary") == "holdout"
    assert resolve_final_fit(auto, 10**7, "regression") == "refit"
    for mode in ("refit", "holdout"):
        for rows in (10, 10**7):
            assert resolve_final_fit(auto.replace(final_fit=mode), rows) == mode
            assert resolve_final_fit(auto.replace(final_fit=mode, refit=False), rows) is None
    with pytest.raises(ValueError, match="final_fit"):
        auto.replace(final_fit="later")


def test_big_tables_stop_after_big_table_patience_and_smaller_ones_after_patience() -> None:
    from embedding_core.model.config import TrainConfig
    from embedding_core.model.final_fit import BIG_TABLE_ROWS, resolve_patience

    config = TrainConfig()
    assert (config.patience, config.big_table_patience) == (2, 1)
    assert resolve_patience(config, BIG_TABLE_ROWS - 1) == 2
    assert resolve_patience(config, BIG_TABLE_ROWS) == 1
    assert resolve_patience(config.replace(big_table_patience=None), 10**7) == 2
    assert resolve_patience(config.replace(patience=5, big_table_patience=3), 10**7) == 3
    with pytest.raises(ValueError, match="big_table_patience"):
        config.replace(big_table_patience=-1)


def test_a_training_call_traces_its_step_and_its_validation_predict_once(
    monkeypatch, binary_frame: pd.DataFrame
) -> None:
    # Tracing is the first epoch's extra cost (about 2 CPU-s on the default sample): the
    # final fit on all rows (a new pipeline of another length) and every epoch's
    # validation (chunks of one shape) must reuse the functions traced in epoch 1.
    import keras

    traced: list[str] = []
    for name in ("train_step", "predict_step"):
        step = getattr(keras.Model, name)

        def counted(self, data, _step=step, _name=name):
            traced.append(_name)  # runs only while TensorFlow traces the step
            return _step(self, data)

        monkeypatch.setattr(keras.Model, name, counted)
    run = train(binary_frame, BINARY_ROLES, TINY_CONFIG.replace(epochs=3, ema_epochs=0.5))
    assert run.metrics["refit"] is True and run.metrics["epochs_run"] == 3
    assert sorted(traced) == ["predict_step", "train_step"]
