"""The scores every training reports (``embedding_core.model.metrics``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from embedding_core.model.metrics import auc


@pytest.mark.parametrize("seed", range(5))
def test_auc_is_scikit_learns_with_ties_and_any_two_labels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 2_000)
    scores = np.round(rng.normal(y * 0.7, 1.0), 1)  # many ties
    assert auc(y, scores) == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    labels = np.where(y == 1, 7.0, -3.0)  # the larger label is the positive class
    assert auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_auc_of_perfect_reversed_and_constant_scores() -> None:
    y = np.array([0, 0, 1, 1])
    assert auc(y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert auc(y, [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert auc(y, [0.5, 0.5, 0.5, 0.5]) == 0.5


def test_auc_needs_two_classes() -> None:
    assert math.isnan(auc([1, 1, 1], [0.2, 0.4, 0.9]))
    with pytest.raises(ValueError, match="two classes"):
        auc([0, 1, 2], [0.1, 0.5, 0.9])
