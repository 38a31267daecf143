"""Lift metrics on held-out rows, weighted by bootstrap counts (unit weights: plain).

``score`` equals scikit-learn's ``roc_auc_score``, ``log_loss``,
``root_mean_squared_error`` and ``r2_score`` with unit weights, and computes one value
per bootstrap resample in one vectorised pass otherwise.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TASK_METRICS", "score", "bootstrap_weights"]

#: Metrics of a lift run per task, the primary one first.
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "binary": ("auc", "logloss"),
    "regression": ("rmse", "r2"),
    "multiclass": ("auc_ovr", "logloss"),
}


def _weighted_auc(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """ROC AUC per row of ``w`` (shape (B, n)); ties count one half."""
    order = np.argsort(s, kind="mergesort")
    s_sorted = s[order]
    pos_mask = y[order].astype(bool)
    ws = w[:, order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    pos = np.add.reduceat(np.where(pos_mask, ws, 0.0), starts, axis=1)
    neg = np.add.reduceat(np.where(pos_mask, 0.0, ws), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    num = (pos * (below + 0.5 * neg)).sum(axis=1)
    den = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _clip_proba(p: np.ndarray) -> np.ndarray:
    eps = np.finfo(np.float64).eps
    return np.clip(p.astype(np.float64), eps, 1 - eps)


def score(
    metric: str, y: np.ndarray, pred: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """A metric, once per row of ``weights``.

    Parameters
    ----------
    metric : {"auc", "auc_ovr", "logloss", "rmse", "r2"}
    y : ndarray of shape (n,)
        Binary 0/1, class codes 0..C-1 (multiclass) or numbers (regression).
    pred : ndarray of shape (n,) or (n, C)
        P(positive), class probabilities, or predicted values.
    weights : ndarray of shape (B, n), optional
        Row weights (bootstrap counts). ``None`` means one row of ones.

    Returns
    -------
    ndarray of shape (B,)
        With unit weights these equal scikit-learn's ``roc_auc_score``, ``log_loss``,
        ``root_mean_squared_error`` and ``r2_score``.
    """
    y = np.asarray(y)
    pred = np.asarray(pred, dtype=np.float64)
    w = np.ones((1, y.shape[0])) if weights is None else np.asarray(weights, dtype=np.float64)
    wsum = w.sum(axis=1)
    if metric == "auc":
        return _weighted_auc(y, pred, w)
    if metric == "auc_ovr":
        per_class = [_weighted_auc(y == c, pred[:, c], w) for c in range(pred.shape[1])]
        return np.nanmean(np.vstack(per_class), axis=0)
    if metric == "logloss":
        if pred.ndim == 1:
            p = _clip_proba(pred)
            loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        else:
            p = pred / pred.sum(axis=1, keepdims=True)
            loss = -np.log(_clip_proba(p[np.arange(len(y)), y.astype(int)]))
        return (w @ loss) / wsum
    if metric in ("rmse", "r2"):
        yf = y.astype(np.float64)
        sse = w @ (yf - pred) ** 2
        if metric == "rmse":
            return np.sqrt(sse / wsum)
        mean = (w @ yf) / wsum
        sst = w @ (yf**2) - wsum * mean**2
        with np.errstate(invalid="ignore", divide="ignore"):
            return 1.0 - sse / sst
    raise ValueError(f"Unknown metric {metric!r}.")


def bootstrap_weights(n: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples, n) matrix of bootstrap counts (each row sums to n)."""
    rng = np.random.default_rng([seed, 20240611])
    draws = rng.integers(0, n, size=(resamples, n))
    flat = (draws + np.arange(resamples)[:, None] * n).ravel()
    return np.bincount(flat, minlength=resamples * n).reshape(resamples, n).astype(np.float64)
