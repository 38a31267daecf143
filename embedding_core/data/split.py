"""Deterministic train/validation splits from a seed."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["train_valid_split"]


def train_valid_split(
    n_rows: int,
    *,
    valid_fraction: float = 0.2,
    seed: int = 0,
    stratify: npt.ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Split row positions ``0..n_rows-1`` into sorted train and validation indices.

    Parameters
    ----------
    n_rows : int
        Number of rows (at least 2).
    valid_fraction : float, default=0.2
        Share of rows in the validation part, strictly between 0 and 1.
    seed : int, default=0
        The same seed always gives the same split.
    stratify : array-like of shape (n_rows,), optional
        Labels whose proportions each part keeps (use it for classification).

    Returns
    -------
    train_idx, valid_idx : ndarray of int64
        Disjoint, sorted, and together covering every row. Both are non-empty.
    """
    if n_rows < 2:
        raise ValueError(f"Expected n_rows >= 2. Received: n_rows={n_rows}")
    if not 0.0 < valid_fraction < 1.0:
        raise ValueError(
            f"Expected 0 < valid_fraction < 1. Received: valid_fraction={valid_fraction}"
        )
    rng = np.random.default_rng(seed)
    if stratify is None:
        groups = [np.arange(n_rows)]
    else:
        labels = np.asarray(stratify)
        if labels.shape[0] != n_rows:
            raise ValueError(
                f"Expected stratify of length {n_rows}. Received: length {labels.shape[0]}"
            )
        _, inverse = np.unique(labels.astype(str), return_inverse=True)
        groups = [np.flatnonzero(inverse == g) for g in range(inverse.max() + 1)]
    valid_parts = []
    for rows in groups:
        rows = rng.permutation(rows)
        valid_parts.append(rows[: int(round(valid_fraction * len(rows)))])
    valid = np.concatenate(valid_parts) if valid_parts else np.empty(0, dtype=np.int64)
    if valid.size == 0:
        valid = rng.permutation(n_rows)[:1]
    if valid.size == n_rows:
        valid = valid[1:]
    mask = np.zeros(n_rows, dtype=bool)
    mask[valid] = True
    return np.flatnonzero(~mask).astype(np.int64), np.flatnonzero(mask).astype(np.int64)
