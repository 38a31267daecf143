"""Is there enough signal for the embeddings to mean something?

When a model barely beats a predictor that ignores every input (the training prior or
mean), its category vectors are mostly noise: neighbours and clusters then say little.
``weak_signal`` turns a run's validation metrics into a plain warning in that case.

The other end is as telling: a model that is almost perfect on rows it never saw is rare
in real data, and usually means an input gives the target away (recorded after the
outcome, or derived from the target); then the vectors describe that input, not the
categories. ``too_good`` says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from embedding_core import formatting as fmt

__all__ = ["weak_signal", "too_good", "MIN_AUC", "MIN_R2", "MIN_LOGLOSS_GAIN", "MAX_SCORE"]

MIN_AUC = 0.65  # binary: below this AUC the ranking is weak
MIN_R2 = 0.05  # regression: below this share of variance explained
MIN_LOGLOSS_GAIN = 0.03  # multiclass: relative log-loss gain over the class shares
MAX_SCORE = 0.999  # validation AUC, R² or accuracy at or above this is too good to trust


def _get(metrics: Mapping[str, Any], key: str) -> float | None:
    value = metrics.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(float(value)) else float(value)


def weak_signal(metrics: Mapping[str, Any], task: str) -> str | None:
    """A warning when the model barely beats the trivial baseline, else None.

    Parameters
    ----------
    metrics : mapping
        A run's ``metrics`` (``valid_*`` and ``baseline_*`` figures).
    task : {"binary", "regression", "multiclass"}

    Returns
    -------
    str or None

    Examples
    --------
    >>> weak_signal({"valid_auc": 0.59}, "binary")[:40]
    'The model barely beats guessing (AUC 0.5'
    >>> weak_signal({"valid_auc": 0.8}, "binary") is None
    True
    """
    tail = (
        " The inputs say little about the target here, so the vectors may be mostly noise: "
        "read neighbours and clusters with care."
    )
    if task == "binary":
        auc = _get(metrics, "valid_auc")
        if auc is not None and auc < MIN_AUC:
            shown = fmt.metric("auc", auc)
            return f"The model barely beats guessing (AUC {shown}; 0.5 is a coin flip).{tail}"
    elif task == "regression":
        r2 = _get(metrics, "valid_r2")
        if r2 is not None and r2 < MIN_R2:
            shown = fmt.metric("r2", r2)
            return (
                f"The model explains little of the target (R² {shown}; 0 is predicting "
                f"the average).{tail}"
            )
    elif task == "multiclass":
        model, base = _get(metrics, "valid_logloss"), _get(metrics, "baseline_logloss")
        if model is not None and base and (base - model) / base < MIN_LOGLOSS_GAIN:
            acc = _get(metrics, "valid_accuracy")
            base_acc = _get(metrics, "baseline_accuracy")
            return (
                f"The model barely beats predicting the class shares (accuracy "
                f"{fmt.metric('accuracy', acc)} vs {fmt.metric('accuracy', base_acc)}).{tail}"
            )
    return None


def too_good(metrics: Mapping[str, Any], task: str) -> str | None:
    """A warning when the model is almost perfect on its validation rows, else None.

    Binary: AUC at least ``MAX_SCORE``; regression: R² at least ``MAX_SCORE``;
    multiclass: accuracy at least ``MAX_SCORE`` where predicting the largest class is
    not (``baseline_accuracy`` below it).

    Examples
    --------
    >>> too_good({"valid_auc": 1.0}, "binary")[:41]
    'The model is almost perfect on rows it di'
    >>> too_good({"valid_auc": 0.97}, "binary") is None
    True
    """
    if task == "binary":
        name, score = "auc", _get(metrics, "valid_auc")
    elif task == "regression":
        name, score = "r2", _get(metrics, "valid_r2")
    elif task == "multiclass":
        name, score = "accuracy", _get(metrics, "valid_accuracy")
        base = _get(metrics, "baseline_accuracy")
        if base is not None and base >= MAX_SCORE:
            return None
    else:
        return None
    if score is None or score < MAX_SCORE:
        return None
    label = {"auc": "AUC", "r2": "R²", "accuracy": "accuracy"}[name]
    return (
        f"The model is almost perfect on rows it did not see ({label} "
        f"{fmt.metric(name, score)}). That is rare in real data: usually an input gives the "
        "target away (recorded after the outcome, or derived from the target), and the "
        "vectors then describe that input. Check the inputs: a column that does it alone is "
        "named on the Data page and by the `profile` command."
    )
