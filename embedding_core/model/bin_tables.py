"""Numeric columns' bins as categories: one table per binned column, like a field's.

With ``numeric_encoding="bins"`` every bin of a numeric column has its own vector in the
same space as the category vectors (the FM term pairs them), so a bin can be explored
like a category: "which age band behaves like which job". A bin table has the columns of
a field's embedding table (``model.embeddings``): ``index`` is the bin's slot,
``category`` its label (``"[25, 31)"``, or ``"<missing>"`` for the missing-value slot,
listed when training rows had missing values),
``count`` and ``target_mean`` are measured on the rows the model was fitted on,
``first_order`` is the bin's first-order weight, and ``emb_*`` the vector the model uses
for it (the bin's row of the ``numeric_embedding`` kernel plus the column's bias).
``is_unknown`` is always false: every value falls in a bin.

``TrainedRun.embeddings(column)`` gives them for the run's binned numeric columns
(``TrainedRun.binned_columns``); runs trained with scaled or PLE numerics have none.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from embedding_core.model.embeddings import EMB_PREFIX, category_statistics
from embedding_core.model.numeric import NumericEncoder

__all__ = ["MISSING_BIN", "bin_statistics", "bin_weights", "build_bin_tables"]

#: Label of the slot that holds missing values.
MISSING_BIN = "<missing>"


def bin_statistics(
    encoder: NumericEncoder, slots: np.ndarray, target: np.ndarray, *, multiclass: bool
) -> dict[str, dict[str, np.ndarray]]:
    """Count and target mean of every slot of every column, from encoded rows.

    Parameters
    ----------
    encoder : NumericEncoder
        Fitted, with ``as_index`` (``"bins"``).
    slots : ndarray of shape (n, n_columns)
        ``encoder.transform`` of the rows to count (the rows the model was fitted on).
    target : ndarray of shape (n,)
        The target of the same rows (as ``embeddings.field_statistics`` takes it).
    multiclass : bool
        The mean is NaN for multiclass targets.
    """
    y = np.asarray(target, dtype=np.float64)
    stats = {}
    for j, col in enumerate(encoder.columns):
        index = np.asarray(slots[:, j], dtype=np.int64)
        count = np.bincount(index, minlength=encoder.n_slots).astype(np.int64)
        sums = np.bincount(index, weights=y, minlength=encoder.n_slots)
        stats[col] = category_statistics(count, sums, multiclass=multiclass)
    return stats


def bin_weights(model: Any, encoder: NumericEncoder) -> dict[str, dict[str, Any]]:
    """Each binned column's slot vectors ``(n_slots, k)`` and first-order weights.

    Read from the network's ``numeric_embedding`` and ``numeric_linear`` layers (kernel
    row plus the column's bias, as the model adds them); empty when the network has no
    bin vectors (an entity network feeds the encoding straight into its MLP).
    """
    from embedding_core.model.deepfm import NUMERIC_EMBEDDING_LAYER, NUMERIC_LINEAR_LAYER

    names = {layer.name for layer in model.layers}
    if NUMERIC_EMBEDDING_LAYER not in names:
        return {}
    vectors_layer = model.get_layer(NUMERIC_EMBEDDING_LAYER)
    kernel, bias = (np.asarray(w) for w in vectors_layer.get_weights())
    linear = None
    if NUMERIC_LINEAR_LAYER in names:
        lin_kernel, lin_bias = (
            np.asarray(w) for w in model.get_layer(NUMERIC_LINEAR_LAYER).get_weights()
        )
        if lin_kernel.shape[-1] == 1:  # one first-order weight (not multiclass)
            linear = lin_kernel[..., 0] + lin_bias[:, None, 0]
    return {
        col: {
            "embedding": kernel[j] + bias[j][None, :],
            "linear": None if linear is None else linear[j],
        }
        for j, col in enumerate(encoder.columns)
    }


def build_bin_tables(
    encoder: NumericEncoder,
    weights: dict[str, dict[str, Any]],
    stats: dict[str, dict[str, np.ndarray]],
) -> dict[str, pd.DataFrame]:
    """One table per binned column: its own bins, then the missing-value slot if training
    rows used it (an untrained vector is noise, not a category)."""
    tables = {}
    for col, w in weights.items():
        labels = encoder.bin_labels(col)
        slots = np.arange(len(labels), dtype=np.int64)
        missing = encoder.n_slots - 1
        if stats[col]["count"][missing] > 0:
            labels = [*labels, MISSING_BIN]
            slots = np.append(slots, missing)
        emb = np.asarray(w["embedding"], dtype=np.float32)[slots]
        first = (
            np.full(len(slots), np.nan)
            if w["linear"] is None
            else np.asarray(w["linear"], dtype=np.float64)[slots]
        )
        data: dict[str, Any] = {
            "index": slots,
            "category": pd.Series(labels, dtype="str"),
            "count": np.asarray(stats[col]["count"], dtype=np.int64)[slots],
            "target_mean": np.asarray(stats[col]["target_mean"], dtype=np.float64)[slots],
            "first_order": first,
            "is_unknown": np.zeros(len(slots), dtype=bool),
            "is_missing": slots == missing,
        }
        for d in range(emb.shape[1]):
            data[f"{EMB_PREFIX}{d}"] = emb[:, d]
        tables[col] = pd.DataFrame(data)
    return tables
