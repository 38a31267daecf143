"""Per-field embedding tables: one row per category with its statistics and vector.

A table has the columns

``index`` (int), ``category`` (str), ``count`` (int), ``target_mean`` (float),
``first_order`` (float), ``is_unknown`` (bool), ``is_missing`` (bool),
``emb_0 .. emb_{k-1}`` (float32).

``count`` and ``target_mean`` are measured on the rows the model was fitted on: the
training split, i.e. the training rows *without* the validation rows held out for
early stopping (the vocabulary was learned on the same rows). ``target_mean`` is the
positive rate (binary), the mean target (regression) or NaN (multiclass).
Row 0 is the unknown row (``is_unknown``, labelled ``"<unknown>"``): categories unseen
in training or rarer than ``min_count``; its count is the number of training rows that
fell into it. Row 1 is the missing row (``is_missing``, ``"<missing>"``) when missing
values were frequent enough to get their own vector. Reserved rows are told apart by
these flags, not by their label (see ``data.encoding``). ``first_order`` is the
category's FM first-order weight (NaN for multiclass, where each class has its own
weight, and for entity networks, which have none).

This module does not import TensorFlow: ``build_tables`` takes the weights as arrays.
``TrainedRun.tables()`` gives a run's tables; ``reuse.export`` writes and reads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from embedding_core.data.encoding import UNKNOWN_INDEX
from embedding_core.errors import DataError

if TYPE_CHECKING:
    from embedding_core.model.features import FeatureEncoder

__all__ = [
    "EMB_PREFIX",
    "TABLE_COLUMNS",
    "vectors",
    "embedding_columns",
    "field_statistics",
    "category_statistics",
    "build_tables",
]

EMB_PREFIX = "emb_"
TABLE_COLUMNS = (
    "index",
    "category",
    "count",
    "target_mean",
    "first_order",
    "is_unknown",
    "is_missing",
)


def embedding_columns(table: pd.DataFrame) -> list[str]:
    """The ``emb_0 .. emb_{k-1}`` column names of a table, in order."""
    cols = [c for c in table.columns if str(c).startswith(EMB_PREFIX)]
    return sorted(cols, key=lambda c: int(str(c)[len(EMB_PREFIX) :]))


def vectors(
    table: pd.DataFrame, *, dtype: type = np.float32, field: str | None = None
) -> np.ndarray:
    """The vectors of a table as an array of shape ``(n_categories, k)``.

    Parameters
    ----------
    table : pandas.DataFrame
        An embedding table (``emb_0 .. emb_{k-1}`` columns).
    dtype : numpy dtype, default=numpy.float32
        ``numpy.float64`` for analyses that accumulate (distances, sums).
    field : str, optional
        Name of the field, only used in error messages.

    Raises
    ------
    DataError
        The table has no ``emb_*`` columns, or missing/infinite vector values.
    """
    of = f" of field '{field}'" if field else ""
    cols = embedding_columns(table)
    if not cols:
        raise DataError(
            f"The embedding table{of} has no emb_* columns: pass a table from "
            "run.embeddings(field) or run.tables()."
        )
    x = table[cols].to_numpy(dtype=dtype)
    if not np.isfinite(x).all():
        raise DataError(f"The embedding table{of} contains missing or infinite vector values.")
    return x


def field_statistics(
    features: FeatureEncoder, categorical: np.ndarray, target: np.ndarray
) -> dict[str, dict[str, np.ndarray]]:
    """Count and target mean of every vocabulary entry, from encoded rows.

    Parameters
    ----------
    features : FeatureEncoder
        Fitted.
    categorical : ndarray of shape (n, n_fields)
        ``features.transform_categorical`` of the rows to count (the training split).
    target : ndarray of shape (n,)
        ``features.target_values`` of the same rows.

    Returns
    -------
    dict
        ``{field: {"count": int64 (size,), "target_mean": float64 (size,)}}``;
        the target mean is NaN for unused entries and for multiclass.
    """
    stats: dict[str, dict[str, np.ndarray]] = {}
    y = np.asarray(target, dtype=np.float64)
    for j, col in enumerate(features.fields):
        size = features.encoders_[col].size
        idx = categorical[:, j]
        count = np.bincount(idx, minlength=size).astype(np.int64)
        sums = np.bincount(idx, weights=y, minlength=size)
        stats[col] = category_statistics(count, sums, multiclass=features.task == "multiclass")
    return stats


def category_statistics(
    count: np.ndarray, sums: np.ndarray, *, multiclass: bool
) -> dict[str, np.ndarray]:
    """``{"count", "target_mean"}`` of a vocabulary from row counts and target sums.

    The mean is NaN for unused entries and for multiclass targets.
    """
    if multiclass:
        mean = np.full(len(count), np.nan)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, sums / np.maximum(count, 1), np.nan)
    return {"count": count, "target_mean": mean}


def build_tables(
    features: FeatureEncoder,
    weights: dict[str, dict[str, np.ndarray]],
    stats: dict[str, dict[str, np.ndarray]],
) -> dict[str, pd.DataFrame]:
    """Assemble the per-field tables from weights (``deepfm.field_tables``) and statistics."""
    tables: dict[str, pd.DataFrame] = {}
    for col in features.fields:
        enc = features.encoders_[col]
        emb = np.asarray(weights[col]["embedding"], dtype=np.float32)
        lin = weights[col]["linear"]  # None for networks without first-order weights
        first = np.full(enc.size, np.nan)
        if lin is not None and np.shape(lin)[1] == 1:
            first = np.asarray(lin, dtype=np.float64)[:, 0]
        index = np.arange(enc.size, dtype=np.int64)
        data: dict[str, Any] = {
            "index": index,
            "category": pd.Series(enc.labels_, dtype="str"),
            "count": np.asarray(stats[col]["count"], dtype=np.int64),
            "target_mean": np.asarray(stats[col]["target_mean"], dtype=np.float64),
            "first_order": first,
            "is_unknown": index == UNKNOWN_INDEX,
            "is_missing": index == (-1 if enc.missing_index_ is None else enc.missing_index_),
        }
        for d in range(emb.shape[1]):
            data[f"{EMB_PREFIX}{d}"] = emb[:, d]
        tables[col] = pd.DataFrame(data)
    return tables
