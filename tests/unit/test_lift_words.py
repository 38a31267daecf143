"""Lift in words: one name per model, the headline verdict, plain-language help."""

from __future__ import annotations

import pytest

from embedding_core.analysis.lift import model_label
from embedding_core.analysis.lift.verdict import headline, notes, verdict
from embedding_core.model.metrics import LIFT_HELP, METRIC_HELP, METRIC_LABELS


def test_the_linear_model_is_ridge_for_regression_everywhere():
    assert model_label("logistic", "binary") == "logistic regression"
    assert model_label("logistic", "regression") == "ridge regression"
    assert model_label("knn", "regression") == "k-nearest neighbours"
    assert verdict("logistic", "regression", "rmse", "target", 5.0, 1.0).startswith(
        "For ridge regression"
    )
    note = notes(["logistic"], ["onehot"], {"logistic": 100}, 3, True, "regression")[0]
    assert note.startswith("Ridge regression was fitted")


@pytest.mark.parametrize(
    ("lift", "text"),
    [
        (
            [{"model": "knn", "lift": 0.03, "std": 0.005},
             {"model": "hgb", "lift": 0.001, "std": 0.004}],
            "Embeddings help k-nearest neighbours by 0.030 AUC; elsewhere they are level "
            "with the best other encoding.",
        ),
        (
            [{"model": "knn", "lift": -0.03, "std": 0.005},
             {"model": "rf", "lift": 0.02, "std": 0.002}],
            "Embeddings help random forest by 0.020 AUC; they cost k-nearest neighbours "
            "0.030 AUC.",
        ),
        (
            [{"model": "hgb", "lift": 0.001, "std": 0.004}],
            "Embeddings are level with the best other encoding for every model (AUC).",
        ),
    ],
)  # fmt: skip
def test_headline(lift, text):
    assert headline(lift, "binary", "auc") == text


def test_every_metric_has_a_plain_language_tooltip():
    assert set(METRIC_HELP) == set(METRIC_LABELS)
    assert "coin flip" in METRIC_HELP["auc"] and "average" in METRIC_HELP["r2"]
    assert "Positive means the embeddings help" in LIFT_HELP
