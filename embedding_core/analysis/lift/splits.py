"""Which rows train and which rows score, and the target in the run's own coding.

``encode_target`` codes the target exactly as a trained run does
(``model.features.target_classes``): binary 1 is the run's positive class, multiclass
codes index the run's sorted classes. DeepFM's predictions and the scikit-learn models'
then speak the same coding (see ``deepfm_probabilities``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from embedding_core.data.split import train_valid_split
from embedding_core.model.features import target_classes, target_text

if TYPE_CHECKING:  # pragma: no cover - typing only
    from embedding_core.model.run import TrainedRun

__all__ = ["encode_target", "label_strata", "lift_splits", "deepfm_predictions"]


def encode_target(series: pd.Series, task: str) -> tuple[np.ndarray, list[str]]:
    """The target as model-ready numbers, in the coding of a trained run.

    Returns
    -------
    (y, classes)
        Binary: 0/1 with 1 = ``classes[1]`` (the positive class); multiclass: class
        codes into ``classes``; regression: floats and ``[]``.
    """
    if task == "regression":
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64), []
    labels = target_text(series)
    classes = target_classes(labels.value_counts(), task)  # type: ignore[arg-type]
    codes = labels.map({c: i for i, c in enumerate(classes)})
    return codes.to_numpy(dtype=np.int64), classes


def label_strata(series: pd.Series) -> np.ndarray:
    """Each row's rank among the sorted target labels: the stratification key of the splits.

    It depends only on the labels, not on which class is positive, so the rows of a
    split stay the same whatever the coding.
    """
    labels = target_text(series)
    ranks = {c: i for i, c in enumerate(target_classes(labels.value_counts(), "multiclass"))}
    return labels.map(ranks).to_numpy(dtype=np.int64)


def lift_splits(
    y: np.ndarray,
    task: str,
    *,
    folds: int | None = None,
    holdout_fraction: float = 0.2,
    seed: int = 0,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) row positions ``run_lift`` uses.

    Parameters
    ----------
    y : ndarray of shape (n,)
        Stratification key (``label_strata``) or the regression target.
    task : {"binary", "regression", "multiclass"}
    folds : int or None
        ``None``: one holdout split (``train_valid_split``); else k-fold.
    holdout_fraction : float, default=0.2
    seed : int, default=0

    Returns
    -------
    list of (train_idx, test_idx)
        Sorted int64 arrays; stratified by class for classification.
    """
    n = len(y)
    classification = task != "regression"
    if folds is None:
        return [
            train_valid_split(
                n,
                valid_fraction=holdout_fraction,
                seed=seed,
                stratify=y if classification else None,
            )
        ]
    from sklearn.model_selection import KFold, StratifiedKFold

    if classification:
        splitter: Any = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    else:
        splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    return [
        (np.sort(tr).astype(np.int64), np.sort(te).astype(np.int64))
        for tr, te in splitter.split(np.zeros(n), y if classification else None)
    ]


def deepfm_predictions(
    run: TrainedRun, test: pd.DataFrame, task: str, classes: list[str]
) -> np.ndarray:
    """DeepFM's predictions on the test rows, in the coding of ``encode_target``.

    Binary: P(``classes[1]``); multiclass: probabilities in ``classes`` order (a class
    absent from the run's training rows gets 0); regression: the predicted values.
    Both codings come from ``target_classes``, so the columns match one to one; they are
    still matched by label, which also covers a split whose class counts tie
    differently.
    """
    pred = np.asarray(run.predict(test[list(run.roles.features)]), dtype=np.float64)
    if task == "regression":
        return pred.reshape(-1)
    by_class = np.column_stack([1.0 - pred, pred]) if task == "binary" else pred
    full = np.zeros((by_class.shape[0], len(classes)))
    column = {c: j for j, c in enumerate(classes)}
    for j, c in enumerate(run.classes):
        full[:, column[c]] = by_class[:, j]
    return full[:, 1] if task == "binary" else full
