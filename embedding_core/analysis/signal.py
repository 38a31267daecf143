"""Is there enough signal for the embeddings to mean something?

When a model barely beats a predictor that ignores every input (the training prior or
mean), its category vectors are mostly noise: neighbours and clusters then say little.
``weak_signal`` turns a run's validation metrics into a plain warning in that case.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from embedding_core import formatting as fmt

__all__ = ["weak_signal", "MIN_AUC", "MIN_R2", "MIN_LOGLOSS_GAIN"]

MIN_AUC = 0.65  # binary: below this AUC the ranking is weak
MIN_R2 = 0.05  # regression: below this share of variance explained
MIN_LOGLOSS_GAIN = 0.03  # multiclass: relative log-loss gain over the class shares


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
