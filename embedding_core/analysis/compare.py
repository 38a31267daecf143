"""Compare one field's embeddings across two runs: align, measure movement and overlap.

Two trainings (another seed, next month's data, a fine-tuned copy) learn vectors that
mean the same thing only up to a rotation: the FM and the MLP see inner products, which
a rotation leaves unchanged. So the second run's vectors are first rotated onto the
first's with orthogonal Procrustes (``scipy.linalg.orthogonal_procrustes``), fitted on
the categories both runs learned and weighted by how often they occur, and only then
compared.

>>> table = compare_runs(run_a, run_b, "job", k=10)   # doctest: +SKIP
>>> table.head()  # the categories that moved most, weighted by frequency
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from embedding_core.analysis.neighbours import similarity_matrix
from embedding_core.errors import DataError
from embedding_core.model.embeddings import vectors

if TYPE_CHECKING:
    from embedding_core.model.run import TrainedRun

__all__ = [
    "procrustes_rotation",
    "top_k_sets",
    "overlap_at_k",
    "AlignedField",
    "align_field",
    "compare_runs",
    "chance_overlap",
    "chance_note",
    "learned_rows",
    "table_of",
]


def procrustes_rotation(
    source: np.ndarray, target: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """The orthogonal matrix R minimising ``sum_i w_i * ||source_i @ R - target_i||^2``.

    Parameters
    ----------
    source, target : ndarray of shape (n, k)
        Paired rows (the same category in both).
    weights : ndarray of shape (n,), optional
        Non-negative row weights (e.g. counts); equal weights by default.

    Returns
    -------
    ndarray of shape (k, k)
        Orthogonal (``R @ R.T == I``): a rotation, possibly with a reflection.
    """
    from scipy.linalg import orthogonal_procrustes

    a = np.asarray(source, dtype=np.float64)
    b = np.asarray(target, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise DataError(f"Cannot align arrays of shapes {a.shape} and {b.shape}.")
    if weights is not None:
        w = np.sqrt(np.clip(np.asarray(weights, dtype=np.float64), 0.0, None))[:, None]
        a, b = a * w, b * w
    rotation, _ = orthogonal_procrustes(a, b)
    return rotation


def top_k_sets(matrix: np.ndarray, k: int, metric: str = "cosine") -> np.ndarray:
    """Row indices of each row's ``k`` nearest other rows, shape ``(n, k)``.

    Ties are broken by index, so the result is deterministic.
    """
    sim = similarity_matrix(matrix, metric)  # type: ignore[arg-type]
    np.fill_diagonal(sim, -np.inf)
    order = np.argsort(-sim, axis=1, kind="stable")
    return order[:, :k]


def overlap_at_k(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Share of each row's neighbours (index arrays of shape (n, k)) found in both."""
    k = first.shape[1]
    if k == 0:
        return np.full(len(first), np.nan)
    return np.array(
        [len(set(a.tolist()) & set(b.tolist())) / k for a, b in zip(first, second, strict=True)]
    )


def learned_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of an embedding table that hold a learned category (no shared
    ``<unknown>`` row, nothing with a zero count)."""
    keep = table["count"].to_numpy() > 0 if "count" in table.columns else np.ones(len(table), bool)
    if "is_unknown" in table.columns:
        keep &= ~table["is_unknown"].to_numpy(dtype=bool)
    return table[keep].reset_index(drop=True)


def table_of(run: TrainedRun | pd.DataFrame, field: str) -> pd.DataFrame:
    """The embedding table of ``field`` (a run's, or ``run`` itself when it is one)."""
    if isinstance(run, pd.DataFrame):
        return run
    return run.embeddings(field)


@dataclass
class AlignedField:
    """One field of two runs after alignment.

    Attributes
    ----------
    categories : list of str
        Categories both runs learned (the rows of ``a`` and ``b``).
    a : ndarray (n, k)
        Run A's vectors rotated onto run B's (``a_raw @ rotation``).
    b : ndarray (n, k)
        Run B's vectors.
    count_a, count_b : ndarray (n,)
        Training counts in each run.
    rotation : ndarray (k, k)
    table_a, table_b : DataFrame
        The learned rows of each run's table (for categories in one run only).
    """

    categories: list[str]
    a: np.ndarray
    b: np.ndarray
    count_a: np.ndarray
    count_b: np.ndarray
    rotation: np.ndarray
    table_a: pd.DataFrame
    table_b: pd.DataFrame


def align_field(
    a: TrainedRun | pd.DataFrame, b: TrainedRun | pd.DataFrame, field: str
) -> AlignedField:
    """Rotate run A's vectors of ``field`` onto run B's (count-weighted Procrustes).

    ``a`` and ``b`` are runs (or embedding tables of the field).

    Raises
    ------
    DataError
        The field is missing from a run, the vector sizes differ, or the runs share
        fewer than two learned categories.
    """
    ta, tb = learned_rows(table_of(a, field)), learned_rows(table_of(b, field))
    va, vb = vectors(ta).astype(np.float64), vectors(tb).astype(np.float64)
    if va.shape[1] != vb.shape[1]:
        raise DataError(
            f"The runs use different vector sizes for '{field}' ({va.shape[1]} and "
            f"{vb.shape[1]}): only runs with the same embedding dimension can be aligned."
        )
    names_a = ta["category"].astype(str).tolist()
    pos_b = {c: i for i, c in enumerate(tb["category"].astype(str))}
    shared = [(i, pos_b[c]) for i, c in enumerate(names_a) if c in pos_b]
    if len(shared) < 2:
        raise DataError(
            f"The two runs share {len(shared)} learned categories of '{field}'; at least 2 "
            "are needed to compare them."
        )
    ia = np.array([i for i, _ in shared])
    ib = np.array([j for _, j in shared])
    count_a = ta["count"].to_numpy(dtype=np.float64)[ia]
    count_b = tb["count"].to_numpy(dtype=np.float64)[ib]
    rotation = procrustes_rotation(va[ia], vb[ib], count_a + count_b)
    return AlignedField(
        categories=[names_a[i] for i in ia],
        a=va[ia] @ rotation,
        b=vb[ib],
        count_a=count_a,
        count_b=count_b,
        rotation=rotation,
        table_a=ta,
        table_b=tb,
    )


def compare_runs(
    a: TrainedRun | pd.DataFrame,
    b: TrainedRun | pd.DataFrame,
    field: str,
    k: int = 10,
    metric: str = "cosine",
) -> pd.DataFrame:
    """How one field's categories differ between run A and run B, per category.

    Parameters
    ----------
    a, b : TrainedRun or DataFrame
        The runs (or the field's embedding tables). A is rotated onto B.
    field : str
    k : int, default=10
        Neighbours compared per category (capped at the shared categories minus one).
    metric : {"cosine", "euclidean"}, default="cosine"

    Returns
    -------
    DataFrame
        One row per category learned by either run, sorted by ``moved_weighted``
        (largest first; categories of one run only at the end), columns:

        - ``category``, ``count_a``, ``count_b`` (0 when absent), ``in_a``, ``in_b``;
        - ``moved``: distance between the category's aligned vector in A and its vector
          in B (NaN unless in both);
        - ``moved_relative``: ``moved`` divided by the RMS vector length in B;
        - ``moved_weighted``: ``moved_relative`` times ``share``: what moved most where
          it matters most;
        - ``overlap``: share of its ``k`` nearest neighbours (among shared categories)
          that are the same in both runs;
        - ``share``: the category's share of the shared categories' rows (both runs
          together; NaN unless in both).

        ``attrs["k"]`` is the ``k`` used; ``attrs["shared"]`` the shared count;
        ``attrs["chance"]`` the overlap random vectors would give (``chance_overlap``).
    """
    if k < 1:
        raise DataError(f"k must be at least 1, not {k}.")
    aligned = align_field(a, b, field)
    n = len(aligned.categories)
    k_used = min(int(k), n - 1)
    moved = np.linalg.norm(aligned.a - aligned.b, axis=1)
    scale = float(np.sqrt(np.mean(np.sum(aligned.b**2, axis=1)))) or 1.0
    weights = aligned.count_a + aligned.count_b
    share = weights / weights.sum() if weights.sum() > 0 else np.full(n, 1.0 / n)
    overlap = overlap_at_k(
        top_k_sets(aligned.a, k_used, metric), top_k_sets(aligned.b, k_used, metric)
    )
    shared = pd.DataFrame(
        {
            "category": aligned.categories,
            "count_a": aligned.count_a.astype(np.int64),
            "count_b": aligned.count_b.astype(np.int64),
            "in_a": True,
            "in_b": True,
            "moved": moved,
            "moved_relative": moved / scale,
            "moved_weighted": moved / scale * share,
            "overlap": overlap,
            "share": share,  # last: an added column, after those scripts already read
        }
    )
    only = [
        _only_rows(aligned.table_a, set(aligned.categories), in_a=True),
        _only_rows(aligned.table_b, set(aligned.categories), in_a=False),
    ]
    parts = [shared.sort_values("moved_weighted", ascending=False, kind="stable")]
    parts += [p for p in only if len(p)]
    out = pd.concat(parts, ignore_index=True)
    out.attrs.update(k=k_used, shared=n, field=field, chance=chance_overlap(k_used, n))
    return out


def chance_overlap(k: int, n: int) -> float:
    """The overlap@k two random neighbour lists share on average among ``n`` categories:
    each list holds ``k`` of the ``n - 1`` others, so ``k / (n - 1)``.

    >>> chance_overlap(10, 12)
    0.9090909090909091
    >>> chance_overlap(10, 1001)
    0.01
    """
    return min(1.0, k / (n - 1)) if n > 1 else 1.0


#: From this chance overlap up, an agreement figure says little and the pages say so.
HIGH_CHANCE = 0.3


def chance_note(k: int, n: int) -> str | None:
    """A sentence when ``k`` neighbours are so large a share of ``n`` categories that
    random vectors would already agree a lot (``HIGH_CHANCE``); else None."""
    chance = chance_overlap(k, n)
    if chance < HIGH_CHANCE:
        return None
    said = f"With {n:,} categories, {k} neighbours are {chance:.0%} of the others: even random "
    if chance < 2 * HIGH_CHANCE:
        return f"{said}vectors would share {chance:.0%} of them: read the agreement against that."
    return (
        f"{said}vectors would share {chance:.0%} of them, so a high agreement means little "
        "here. Choose a smaller k."
    )


def _only_rows(table: pd.DataFrame, shared: set[str], *, in_a: bool) -> pd.DataFrame:
    rows = table[~table["category"].astype(str).isin(shared)]
    counts = rows["count"].to_numpy(dtype=np.int64)
    zeros = np.zeros(len(rows), dtype=np.int64)
    data: dict[str, Any] = {
        "category": rows["category"].astype(str).to_numpy(),
        "count_a": counts if in_a else zeros,
        "count_b": zeros if in_a else counts,
        "in_a": in_a,
        "in_b": not in_a,
    }
    for col in ("moved", "moved_relative", "moved_weighted", "overlap", "share"):
        data[col] = np.nan
    return pd.DataFrame(data).sort_values(
        "count_a" if in_a else "count_b", ascending=False, kind="stable"
    )
