"""Nearest categories of a category, measured in the original embedding space.

Distances are computed on the full k-dimensional vectors, never on a 2D projection
(projections distort distances). Categories seen only a few times in training have
barely-trained vectors, so each neighbour is flagged ``reliable`` or not by its count.

Examples
--------
>>> import numpy as np, pandas as pd
>>> t = pd.DataFrame({"category": ["a", "b", "c"], "count": [50, 40, 3],
...                   "target_mean": [0.1, 0.2, 0.9],
...                   "emb_0": [1.0, 0.9, -1.0], "emb_1": [0.0, 0.1, 0.0]})
>>> nearest_neighbours(t, "a", k=2)[["category", "reliable"]].to_dict("list")
{'category': ['b', 'c'], 'reliable': [True, False]}
"""

from __future__ import annotations

import difflib
from typing import Literal

import numpy as np
import pandas as pd

from embedding_core.errors import DataError
from embedding_core.model.embeddings import vectors

__all__ = [
    "categories_by_count",
    "Metric",
    "METRICS",
    "RELIABLE_MIN_COUNT",
    "nearest_neighbours",
    "similarity_matrix",
]

Metric = Literal["cosine", "euclidean"]
METRICS: tuple[Metric, ...] = ("cosine", "euclidean")

#: Categories seen fewer times than this in training are flagged as unreliable.
RELIABLE_MIN_COUNT = 30

_COLUMNS = ["category", "similarity", "distance", "count", "target_mean", "reliable"]


def categories_by_count(table: pd.DataFrame) -> list[str]:
    """A table's category names, most frequent first, the unknown row left out: the
    queries the Neighbours page offers (and the CLI's default, the first)."""
    rows = table
    if "is_unknown" in rows.columns:
        rows = rows[~rows["is_unknown"].astype(bool)]
    rows = rows.sort_values("count", ascending=False, kind="stable")
    return rows["category"].astype(str).tolist()


def nearest_neighbours(
    table: pd.DataFrame,
    category: str,
    k: int = 10,
    metric: Metric = "cosine",
    reliable_min_count: int = RELIABLE_MIN_COUNT,
    *,
    include_reserved: bool = True,
    field: str | None = None,
    among: pd.DataFrame | None = None,
    include_unused: bool = True,
) -> pd.DataFrame:
    """The ``k`` categories whose vectors are closest to ``category``'s.

    Parameters
    ----------
    table : pd.DataFrame
        Embedding table of one field (``category``, ``count``, ``target_mean`` and
        ``emb_0 .. emb_{k-1}`` columns, as from ``run.embeddings(field)``).
    category : str
        The category to start from (exact name as in ``table["category"]``).
    k : int, default=10
        Number of neighbours; fewer are returned when the field has fewer categories.
    metric : {"cosine", "euclidean"}, default="cosine"
        ``"cosine"`` compares directions (what the FM inner products mostly use);
        ``"euclidean"`` compares positions.
    reliable_min_count : int, default=30
        Neighbours with fewer training rows than this get ``reliable=False``.
    include_reserved : bool, default=True
        Whether the reserved rows (``<unknown>``, which stands for all rare categories,
        and ``<missing>``) may appear as neighbours.
    field : str, optional
        Name of the field, only used in error messages.
    among : pd.DataFrame, optional
        Look for the neighbours among the rows of this table instead of ``table``'s:
        another field, or a numeric column's bins (``run.embeddings(column)``). A DeepFM
        puts every field's vectors in one space (the FM term pairs them), so "which age
        band is closest to this job" is a fair question; the vectors must have the same
        size.
    include_unused : bool, default=True
        Whether a reserved row that no training row used (``count`` 0) may appear:
        its vector never moved from its random start, so it is noise, not a neighbour.

    Returns
    -------
    pd.DataFrame
        One row per neighbour, closest first, the query itself excluded, columns:

        - ``category``
        - ``similarity``: higher is closer. Cosine: the cosine similarity in [-1, 1]
          (0 when either vector is all zeros). Euclidean: ``1 / (1 + distance)`` in
          (0, 1], so the column can always be sorted and charted the same way.
        - ``distance``: lower is closer. Cosine: ``1 - similarity``. Euclidean: the
          euclidean distance.
        - ``count``: training rows of the neighbour (0 if the table has no counts).
        - ``target_mean``: as in the table (NaN if absent).
        - ``reliable``: ``count >= reliable_min_count``.

    Raises
    ------
    DataError
        If ``category`` is not in the table (the message suggests close names), or the
        table has no embedding columns.
    """
    if metric not in METRICS:
        raise DataError(f"Unknown metric {metric!r}; choose 'cosine' or 'euclidean'.")
    if k < 1:
        raise DataError(f"The number of neighbours must be at least 1, not {k}.")
    if "category" not in table.columns:
        raise DataError(
            "The embedding table has no 'category' column: pass a table from run.tables()."
        )
    names = table["category"].astype(str).to_numpy(dtype=object)
    query = _find(names, category, field)
    q = vectors(table, dtype=np.float64, field=field)[query : query + 1]
    if among is not None:  # the query's vector, compared with another table's rows
        if "category" not in among.columns:
            raise DataError("The table to search has no 'category' column: pass run.embeddings().")
        table = among
        names = table["category"].astype(str).to_numpy(dtype=object)
    candidate = np.ones(len(table), dtype=bool)
    if among is None:
        candidate[query] = False
    x = vectors(table, dtype=np.float64)
    if x.shape[1] != q.shape[1]:
        raise DataError(
            f"The vectors have different sizes ({q.shape[1]} and {x.shape[1]}): only tables "
            "of one model with one vector size can be compared."
        )

    if metric == "cosine":
        sim = _cosine(x, q)[:, 0]
        dist = 1.0 - sim
    else:
        dist = np.linalg.norm(x - q, axis=1)
        sim = 1.0 / (1.0 + dist)

    counts = _column(table, "count", 0).astype(np.int64)
    for flag in ("is_unknown", "is_missing"):
        if flag in table.columns:
            reserved = table[flag].to_numpy(dtype=bool)
            if not include_reserved:
                candidate &= ~reserved
            elif not include_unused:
                candidate &= ~(reserved & (counts == 0))
    target = _column(table, "target_mean", np.nan)

    idx = np.flatnonzero(candidate)
    # closest first; ties: more frequent first, then by name (stable and readable)
    order = np.lexsort((names[idx], -counts[idx], dist[idx]))
    idx = idx[order[:k]]
    out = pd.DataFrame(
        {
            "category": pd.array(names[idx].tolist(), dtype="str"),
            "similarity": sim[idx],
            "distance": dist[idx],
            "count": counts[idx],
            "target_mean": target[idx],
            "reliable": counts[idx] >= reliable_min_count,
        },
        columns=_COLUMNS,
    )
    return out


def similarity_matrix(vectors: np.ndarray, metric: Metric = "cosine") -> np.ndarray:
    """All pairwise similarities of a set of vectors.

    Parameters
    ----------
    vectors : np.ndarray of shape (n, k)
    metric : {"cosine", "euclidean"}, default="cosine"
        Same definitions as the ``similarity`` column of :func:`nearest_neighbours`.

    Returns
    -------
    np.ndarray of shape (n, n)
        Symmetric; the diagonal is 1.
    """
    x = np.asarray(vectors, dtype=np.float64)
    if metric not in METRICS:
        raise DataError(f"Unknown metric {metric!r}; choose 'cosine' or 'euclidean'.")
    if metric == "cosine":
        sim = _cosine(x, x)
    else:
        sq = (x * x).sum(axis=1)
        d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (x @ x.T), 0.0)
        sim = 1.0 / (1.0 + np.sqrt(d2))
    np.fill_diagonal(sim, 1.0)
    return sim


# --------------------------------------------------------------------------- helpers


def _column(table: pd.DataFrame, name: str, default: float) -> np.ndarray:
    if name not in table.columns:
        return np.full(len(table), default, dtype=np.float64)
    return pd.to_numeric(table[name], errors="coerce").fillna(default).to_numpy(np.float64)


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``a`` with every row of ``b``; 0 for zero rows."""
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    denom = np.outer(na, nb)
    dot = a @ b.T
    sim = np.divide(dot, denom, out=np.zeros_like(dot), where=denom > 0)
    return np.clip(sim, -1.0, 1.0)


def _find(names: np.ndarray, category: str, field: str | None) -> int:
    hits = np.flatnonzero(names == str(category))
    if len(hits):
        return int(hits[0])
    where = f" in field '{field}'" if field else ""
    pool = [str(n) for n in names]
    close = difflib.get_close_matches(str(category), pool, n=5, cutoff=0.6)
    lowered = str(category).strip().lower()
    if lowered:
        close += [n for n in pool if lowered in n.lower() and n not in close][: 5 - len(close)]
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise DataError(f"There is no category {str(category)!r}{where}.{hint}")
