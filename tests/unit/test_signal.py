"""weak_signal: a warning exactly when the model barely beats the trivial baseline."""

from __future__ import annotations

import pytest

from embedding_core.analysis.signal import weak_signal


@pytest.mark.parametrize(
    ("metrics", "task", "weak"),
    [
        ({"valid_auc": 0.59, "baseline_auc": 0.5}, "binary", True),
        ({"valid_auc": 0.79, "baseline_auc": 0.5}, "binary", False),
        ({"valid_r2": 0.01}, "regression", True),
        ({"valid_r2": 0.4}, "regression", False),
        (
            {
                "valid_logloss": 1.08,
                "baseline_logloss": 1.09,
                "valid_accuracy": 0.4,
                "baseline_accuracy": 0.38,
            },
            "multiclass",
            True,
        ),  # fmt: skip
        ({"valid_logloss": 0.7, "baseline_logloss": 1.09}, "multiclass", False),
        ({}, "binary", False),
        ({"valid_auc": float("nan")}, "binary", False),
    ],
)
def test_weak_signal(metrics, task, weak):
    note = weak_signal(metrics, task)
    assert (note is not None) == weak
    if weak:
        assert "noise" in note
