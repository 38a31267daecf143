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
from embedding_core.errors import DataError
from embedding_core.model.features import target_classes, target_text
from embedding_core.text import NAME_LIMIT, printable

if TYPE_CHECKING:  # pragma: no cover - typing only
    from embedding_core.model.run import TrainedRun

__all__ = [
    "encode_target",
    "label_strata",
    "lift_splits",
    "deepfm_predictions",
    "rows_per_class_needed",
    "check_class_counts",
]


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


def rows_per_class_needed(folds: int | None, holdout_fraction: float = 0.2) -> int:
    """Fewest rows of a class that put it in every split's training and held-out rows.

    k folds (stratified): k, one held out per fold. Holdout: the fewest rows of which
    ``train_valid_split`` holds out at least one and keeps at least one.
    """
    if folds is not None:
        return int(folds)
    if not 0.0 < holdout_fraction < 1.0:
        raise ValueError(f"Expected 0 < holdout_fraction < 1. Received: {holdout_fraction}")
    n = 2
    while not 1 <= round(holdout_fraction * n) < n:
        n += 1
    return n


def check_class_counts(
    series: pd.Series, target: str, folds: int | None, holdout_fraction: float = 0.2
) -> None:
    """Refuse a class too rare to be trained on and scored in every split.

    A class missing from a split's training rows leaves a model that cannot predict it
    (or, in a binary task, a single class to fit); one missing from its held-out rows
    leaves the split's score undefined.

    Raises
    ------
    DataError
        Names the rarest such class, its row count, what the splits need and what to do.
    """
    needed = rows_per_class_needed(folds, holdout_fraction)
    counts = target_text(series).value_counts()
    rare = counts[counts < needed]
    if rare.empty:
        return
    label, n = str(rare.index[-1]), int(rare.iloc[-1])
    rows = "1 row" if n == 1 else f"{n} rows"
    more = len(rare) - 1
    others = f" (and {more} more class{'es' if more > 1 else ''} too)" if more else ""
    if folds is not None:
        need = (
            f"{folds} folds need at least {needed} rows of every class, so that each fold "
            "trains and scores on it"
        )
    else:
        need = (
            f"a {holdout_fraction:.0%} holdout needs at least {needed} rows of every class, "
            "so that the training and the held-out rows both have one"
        )
    fixes = ["merge that class into another or drop its rows" if len(counts) > 2 else ""]
    fixes.append("add rows of that class")
    if folds is not None and n >= 2:
        fixes.append(f"use at most {n} folds")
    raise DataError(
        f"The target '{printable(target, NAME_LIMIT)}' has only {rows} of class "
        f"'{printable(label, NAME_LIMIT)}'{others}, but {need}: "
        f"{', or '.join(f for f in fixes if f)}."
    )


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
