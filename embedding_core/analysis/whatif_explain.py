"""Why a what-if prediction moved, and what the row would get with a similar category.

* ``contributions``: for each value the user changed, how much of the move it explains,
  measured by resetting that one value to the starting row (``in context``) and by
  changing only that value on the starting row (``alone``). With interactions the
  two differ, and neither has to add up to the total: both are shown.
* ``neighbour_sweep``: the prediction with the row's category of one field replaced by
  each of its nearest neighbours in embedding space ("what if this customer's job were
  like X").
* ``default_class``: which class a multiclass page shows first: the most frequent one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from embedding_core.analysis.neighbours import nearest_neighbours
from embedding_core.analysis.whatif import (
    RELIABLE_COUNT,
    learned_categories,
    predict_rows,
    scalar_prediction,
)
from embedding_core.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    from embedding_core.model.run import TrainedRun

__all__ = ["contributions", "neighbour_sweep", "default_class"]


def _same(a: Any, b: Any) -> bool:
    missing_a = a is None or (isinstance(a, float) and np.isnan(a))
    missing_b = b is None or (isinstance(b, float) and np.isnan(b))
    if missing_a or missing_b:
        return missing_a and missing_b
    return str(a) == str(b) if not isinstance(a, int | float) else a == b


def contributions(
    run: TrainedRun,
    base: Mapping[str, Any],
    edited: Mapping[str, Any],
    *,
    target_class: str | None = None,
) -> pd.DataFrame:
    """Each changed value's share of the move from ``base`` to ``edited``.

    Parameters
    ----------
    run : TrainedRun
    base, edited : mapping
        The starting row and the edited row (feature column -> value).
    target_class : str, optional
        Multiclass: the class whose probability is explained (default: the most
        likely class of ``base``).

    Returns
    -------
    DataFrame
        One row per changed column, the largest ``in context`` effect first:
        ``column``, ``from``, ``to``, ``in context`` (prediction of ``edited`` minus
        the prediction of ``edited`` with this one value reset) and ``alone``
        (prediction of ``base`` with only this value changed, minus that of ``base``).
        Empty when nothing changed.
    """
    columns = [c for c in run.roles.features if not _same(base.get(c), edited.get(c))]
    out = pd.DataFrame(columns=["column", "from", "to", "in context", "alone"])
    if not columns:
        return out
    rows = [dict(base), dict(edited)]
    rows += [{**edited, c: base.get(c)} for c in columns]
    rows += [{**base, c: edited.get(c)} for c in columns]
    pred, _ = scalar_prediction(predict_rows(run, rows), run, target_class)
    n = len(columns)
    start, end = pred[0], pred[1]
    out = pd.DataFrame(
        {
            "column": columns,
            "from": [base.get(c) for c in columns],
            "to": [edited.get(c) for c in columns],
            "in context": end - pred[2 : 2 + n],
            "alone": pred[2 + n : 2 + 2 * n] - start,
        }
    )
    order = np.argsort(-np.abs(out["in context"].to_numpy()), kind="stable")
    return out.iloc[order].reset_index(drop=True)


def neighbour_sweep(
    run: TrainedRun,
    row: Mapping[str, Any],
    field: str,
    k: int = 8,
    *,
    target_class: str | None = None,
    min_count: int = RELIABLE_COUNT,
) -> pd.DataFrame:
    """The prediction with ``field`` set to each nearest neighbour of the row's category.

    Parameters
    ----------
    run : TrainedRun
    row : mapping
        The row to vary; its value of ``field`` must be a category the model learned.
    field : str
        A categorical column of the run.
    k : int, default=8
        How many neighbours (cosine similarity of the embeddings).
    target_class : str, optional
        Multiclass: the class whose probability is shown (default: the most likely
        class of ``row``).
    min_count : int, default=30
        Neighbours seen fewer times in training are marked unreliable.

    Returns
    -------
    DataFrame
        ``category``, ``similarity``, ``prediction``, ``change`` (from the row's own
        prediction), ``count`` and ``reliable``, nearest first.

    Raises
    ------
    DataError
        ``field`` is not categorical, or the row's value is not a learned category.
    """
    if field not in run.roles.categorical:
        raise DataError(
            f"'{field}' is not a categorical field of this model; choose one of "
            f"{', '.join(run.roles.categorical)}."
        )
    current = row.get(field)
    learned = learned_categories(run, field)
    if current is None or str(current) not in set(learned["category"].astype(str)):
        raise DataError(
            f"The row's {field} ({current!r}) is not a category the model learned, so it has "
            "no neighbours: pick a learned one first."
        )
    near = nearest_neighbours(
        learned.reset_index(drop=True), str(current), k=k, metric="cosine", field=field
    )
    categories = [str(c) for c in near["category"]]
    rows: Sequence[Mapping[str, Any]] = [dict(row), *({**row, field: c} for c in categories)]
    pred, _ = scalar_prediction(predict_rows(run, rows), run, target_class)
    counts = near["count"].astype(int).to_numpy()
    return pd.DataFrame(
        {
            "category": categories,
            "similarity": near["similarity"].to_numpy(dtype=float),
            "prediction": pred[1:],
            "change": pred[1:] - pred[0],
            "count": counts,
            "reliable": counts >= min_count,
        }
    )


def default_class(run: TrainedRun, target: pd.Series | None = None) -> str | None:
    """The class a multiclass page shows first: the most frequent one in ``target``.

    Parameters
    ----------
    run : TrainedRun
    target : pandas.Series, optional
        The target column of the data the run was trained on, when at hand.

    Returns
    -------
    str or None
        None for a task that is not multiclass or without ``target``; the caller then
        falls back to the class the model finds most likely for the starting row.
    """
    if run.roles.task != "multiclass" or target is None:
        return None
    classes = run.classes
    counts = target.dropna().astype(str).value_counts()
    counts = counts[counts.index.isin(classes)]
    return str(counts.index[0]) if len(counts) else None
