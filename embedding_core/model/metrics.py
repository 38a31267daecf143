"""Validation metrics computed with numpy (and scikit-learn for AUC), no TensorFlow.

``task_metrics`` gives the figures a run reports for its task; ``baseline_metrics``
gives the same figures for a trivial predictor (the training prior or mean), so a
number can always be shown next to what "knowing nothing" scores.

This module is also the one home of metric names, directions and display labels
(``METRIC_LABELS``, ``HIGHER_IS_BETTER``), used by training, lift and the app.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "auc",
    "logloss",
    "multiclass_logloss",
    "accuracy",
    "rmse",
    "mae",
    "r2",
    "task_metrics",
    "baseline_metrics",
    "METRIC_LABELS",
    "METRIC_HELP",
    "LIFT_HELP",
    "metric_help",
    "HIGHER_IS_BETTER",
    "metric_label",
    "UNDEFINED_WHEN",
    "missing_metric_note",
]

_EPS = 1e-7

#: Display label of every metric the library reports (run metrics and lift).
METRIC_LABELS: dict[str, str] = {
    "auc": "AUC",
    "auc_ovr": "macro AUC",
    "logloss": "log loss",
    "accuracy": "accuracy",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
}
#: Direction of every metric: True when a higher value is better.
HIGHER_IS_BETTER: dict[str, bool] = {
    "auc": True,
    "auc_ovr": True,
    "logloss": False,
    "accuracy": True,
    "rmse": False,
    "mae": False,
    "r2": True,
}


#: What each metric means, for someone who has never trained a model (tooltips).
METRIC_HELP: dict[str, str] = {
    "auc": "AUC: the chance that the model ranks a random positive row above a random "
    "negative one. 0.5 is a coin flip, 1 is perfect; 0.7-0.8 is useful, above 0.8 good.",
    "auc_ovr": "Macro AUC: the AUC of each class against all others, averaged. 0.5 is a "
    "coin flip, 1 is perfect.",
    "logloss": "Log loss: how surprised the model is by the true answers, on average. "
    "Lower is better; it punishes confident mistakes hard. Compare it with the trivial "
    "baseline, which knows only how common each answer is.",
    "accuracy": "Accuracy: the share of rows whose most likely class is the right one.",
    "rmse": "RMSE: the typical size of a prediction error, in the target's own unit "
    "(large errors count more). Lower is better.",
    "mae": "MAE: the average size of a prediction error, in the target's own unit. "
    "Lower is better.",
    "r2": "R²: the share of the target's ups and downs the model explains. 0 is no "
    "better than always predicting the average, 1 is perfect.",
}
#: What "lift" means on the Lift page.
LIFT_HELP = (
    "Lift: how much better a plain model scores when it is given the learned embeddings "
    "instead of the best classic way of turning categories into numbers (one-hot, "
    "ordinal or target encoding). Positive means the embeddings help."
)


def metric_help(name: str) -> str:
    """Plain-language tooltip of a metric (``""`` for an unknown name)."""
    return METRIC_HELP.get(name, "")


def metric_label(name: str) -> str:
    """Display label of a metric (``"auc"`` -> ``"AUC"``); unknown names pass through."""
    return METRIC_LABELS.get(name, name)


#: Why a metric has no value on the validation rows (NaN here, ``null`` in JSON).
UNDEFINED_WHEN: dict[str, str] = {
    "auc": "the validation rows hold only one class of the target",
    "r2": "the target has the same value in every validation row",
}


def missing_metric_note(name: str) -> str:
    """One sentence on why metric ``name`` (``valid_auc``...) has no value, and what to do.

    Examples
    --------
    >>> missing_metric_note("valid_r2")[:35]
    'valid_r2 is null: the target has th'
    """
    base = name.removeprefix("valid_").removeprefix("baseline_")
    why = UNDEFINED_WHEN.get(base, "it could not be computed on the validation rows")
    return (
        f"{name} is null: {why}, so {metric_label(base)} is undefined; use more data, or "
        "more rows of the rarer values, for a figure."
    )


def auc(y_true: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Area under the ROC curve (NaN when only one class is present).

    The larger label is the positive class. Computed from the scores' ranks (ties share
    their mean rank), which equals scikit-learn's ``roc_auc_score`` without importing
    it: the training process, which scores every epoch, never loads scikit-learn.
    """
    y = np.asarray(y_true).ravel()
    labels = np.unique(y)
    if labels.size < 2:
        return float("nan")
    if labels.size > 2:
        raise ValueError(f"auc needs two classes, got {labels.size}.")
    _, tie_group, tie_size = np.unique(
        np.asarray(p, dtype=np.float64).ravel(), return_inverse=True, return_counts=True
    )
    ranks = (np.cumsum(tie_size) - (tie_size - 1) / 2.0)[tie_group]
    positive = y == labels[1]
    n_pos = float(positive.sum())
    n_neg = float(y.size) - n_pos
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def logloss(y_true: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Mean binary log loss of probabilities ``p`` of the positive class."""
    y = np.asarray(y_true, dtype=np.float64).ravel()
    q = np.clip(np.asarray(p, dtype=np.float64).ravel(), _EPS, 1 - _EPS)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def multiclass_logloss(y_true: npt.ArrayLike, proba: npt.ArrayLike) -> float:
    """Mean cross-entropy of class probabilities ``proba`` (n, C) for class indices ``y_true``."""
    y = np.asarray(y_true, dtype=np.int64).ravel()
    p = np.asarray(proba, dtype=np.float64)
    picked = np.clip(p[np.arange(len(y)), y], _EPS, 1.0)
    return float(-np.mean(np.log(picked)))


def accuracy(y_true: npt.ArrayLike, proba: npt.ArrayLike) -> float:
    """Share of rows whose most probable class is the true class index."""
    y = np.asarray(y_true, dtype=np.int64).ravel()
    return float(np.mean(np.asarray(proba).argmax(axis=1) == y))


def rmse(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Root mean squared error."""
    d = np.asarray(y_true, dtype=np.float64).ravel() - np.asarray(y_pred, np.float64).ravel()
    return float(np.sqrt(np.mean(d**2)))


def mae(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Mean absolute error."""
    d = np.asarray(y_true, dtype=np.float64).ravel() - np.asarray(y_pred, np.float64).ravel()
    return float(np.mean(np.abs(d)))


def r2(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Coefficient of determination (1 is perfect, 0 is the mean; NaN for a constant target)."""
    y = np.asarray(y_true, dtype=np.float64).ravel()
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot == 0:
        return float("nan")
    ss_res = float(np.sum((y - np.asarray(y_pred, dtype=np.float64).ravel()) ** 2))
    return 1.0 - ss_res / ss_tot


def task_metrics(task: str, y_true: npt.ArrayLike, pred: npt.ArrayLike) -> dict[str, float]:
    """The metrics reported for ``task`` (names without a ``valid_`` prefix).

    Parameters
    ----------
    task : {"binary", "regression", "multiclass"}
    y_true : array-like
        0/1 labels (binary), numbers in user scale (regression) or class indices.
    pred : array-like
        P(positive) (binary), predictions in user scale (regression) or (n, C)
        class probabilities (multiclass).

    Returns
    -------
    dict of str to float
        binary: ``auc``, ``logloss``; regression: ``rmse``, ``mae``, ``r2``;
        multiclass: ``accuracy``, ``logloss``.
    """
    if task == "binary":
        return {"auc": auc(y_true, pred), "logloss": logloss(y_true, pred)}
    if task == "regression":
        return {"rmse": rmse(y_true, pred), "mae": mae(y_true, pred), "r2": r2(y_true, pred)}
    if task == "multiclass":
        return {"accuracy": accuracy(y_true, pred), "logloss": multiclass_logloss(y_true, pred)}
    raise ValueError(f"Expected task in binary, regression, multiclass. Received: task={task!r}")


def baseline_metrics(
    task: str, y_train: npt.ArrayLike, y_valid: npt.ArrayLike, n_classes: int | None = None
) -> dict[str, float]:
    """``task_metrics`` of a predictor that ignores the features.

    It predicts the training positive rate (binary), the training mean (regression)
    or the training class shares (multiclass) for every validation row.
    """
    y_tr = np.asarray(y_train)
    n = len(np.asarray(y_valid))
    if task == "binary":
        pred: np.ndarray = np.full(n, float(np.mean(y_tr)))
    elif task == "regression":
        pred = np.full(n, float(np.mean(y_tr.astype(np.float64))))
    else:
        c = int(n_classes or (int(y_tr.max()) + 1))
        shares = np.bincount(y_tr.astype(np.int64), minlength=c) / max(len(y_tr), 1)
        pred = np.tile(shares, (n, 1))
    return task_metrics(task, y_valid, pred)
