"""2D/3D projections of category vectors (PCA, t-SNE, UMAP) for plotting.

:func:`project` is pure (same input and parameters give the same output), so the app
can cache it. It copes with the small and odd inputs real fields produce: one to three
categories, identical vectors, fewer dimensions than requested, a perplexity or a
neighbour count larger than the data allows.

t-SNE and UMAP get slow on many points (t-SNE: 10-45 s for 2,000 points on 2 CPU
cores, depending on load), so :func:`sample_for_projection` keeps the most frequent
categories of a table and returns a note to show next to the chart.
:data:`DEFAULT_MAX_POINTS` holds sensible caps per method.

Examples
--------
>>> import numpy as np
>>> xy = project(np.eye(4, 8), "pca", 2)
>>> xy.shape
(4, 2)
"""

from __future__ import annotations

import sys
import threading
import warnings
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Literal

import numpy as np
import pandas as pd

from embedding_core.errors import DataError

__all__ = [
    "Method",
    "METHODS",
    "DEFAULT_MAX_POINTS",
    "DEFAULT_TSNE_MAX_ITER",
    "project",
    "sample_for_projection",
    "few_points_note",
    "FEW_POINTS",
]

Method = Literal["pca", "tsne", "umap"]
METHODS: tuple[Method, ...] = ("pca", "tsne", "umap")

#: Suggested caps on the number of points per method, to keep the app responsive.
#: t-SNE on 1,000 points: ~2 s on 2 idle cores, ~7 s on busy ones (2,000 points: 10-45 s).
DEFAULT_MAX_POINTS: dict[str, int] = {"pca": 20_000, "tsne": 1_000, "umap": 3_000}

#: t-SNE iterations. scikit-learn's default is 1,000; 500 is ~1/3 faster and, after the
#: 250 early-exaggeration steps, already gives a settled layout for a few thousand points.
DEFAULT_TSNE_MAX_ITER = 500

_TSNE_MIN_ITER = 250  # scikit-learn refuses fewer
_THREADED_FROM = 2_000  # below this many points, run t-SNE on one thread
_MIN_POINTS_MANIFOLD = 4  # below this t-SNE/UMAP are meaningless: use PCA instead

_METHOD_TITLES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}


def project(
    vectors: np.ndarray,
    method: Method = "pca",
    n_components: Literal[2, 3] = 2,
    *,
    seed: int = 0,
    perplexity: float = 30.0,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    max_iter: int = DEFAULT_TSNE_MAX_ITER,
) -> np.ndarray:
    """Project category vectors to 2 or 3 dimensions.

    Parameters
    ----------
    vectors : np.ndarray of shape (n, k)
        One row per category (e.g. ``vectors(table)`` of an embedding table).
    method : {"pca", "tsne", "umap"}, default="pca"
        PCA is instant and exact on distances along its axes; t-SNE and UMAP show local
        groupings better but are slower and their axes carry no meaning.
    n_components : {2, 3}, default=2
        Output dimensions.
    seed : int, default=0
        Random seed (t-SNE, UMAP); the result is reproducible for a given seed.
    perplexity : float, default=30.0
        t-SNE only: roughly how many neighbours each point attends to. Clamped to
        ``(n - 1) / 3`` for small ``n``.
    n_neighbors : int, default=15
        UMAP only: size of the local neighbourhood. Clamped to ``n - 1``.
    min_dist : float, default=0.1
        UMAP only: how tightly points may be packed together.
    max_iter : int, default=500
        t-SNE only: optimisation iterations (at least 250).

    Returns
    -------
    np.ndarray of shape (n, n_components), float64
        Coordinates. Columns beyond the rank of the data are zero; one point, or all
        points identical, give all zeros. t-SNE and UMAP fall back to PCA for fewer
        than four points.

    Raises
    ------
    DataError
        If ``vectors`` is not a 2-D array of finite numbers, or a parameter is invalid.
    """
    x = _check_vectors(vectors)
    if method not in METHODS:
        raise DataError(
            f"Unknown projection method {method!r}; choose one of {', '.join(METHODS)}."
        )
    if n_components not in (2, 3):
        raise DataError(f"A projection has 2 or 3 dimensions, not {n_components!r}.")
    n = x.shape[0]
    out = np.zeros((n, n_components), dtype=np.float64)
    if n <= 1 or _is_constant(x):
        return out
    if method == "pca" or n < _MIN_POINTS_MANIFOLD:
        return _pca(x, n_components)
    if method == "tsne":
        return _tsne(x, n_components, seed=seed, perplexity=perplexity, max_iter=max_iter)
    return _umap(x, n_components, seed=seed, n_neighbors=n_neighbors, min_dist=min_dist)


#: Below this many categories a t-SNE or UMAP map says more about its settings than the
#: vectors (each point's neighbourhood is most of the field); PCA is then the honest map.
FEW_POINTS = 20


def few_points_note(method: str, n_points: int) -> str | None:
    """A sentence when ``method`` is t-SNE or UMAP on fewer than ``FEW_POINTS`` points.

    >>> few_points_note("pca", 5) is None and few_points_note("umap", 500) is None
    True
    """
    if method == "pca" or n_points >= FEW_POINTS:
        return None
    title = _METHOD_TITLES.get(method, method)
    return (
        f"With only {n_points} categories, {title} has little to arrange: its layout "
        "depends more on its settings and seed than on the vectors. PCA shows them as "
        "they are."
    )


def sample_for_projection(
    table: pd.DataFrame, max_points: int | None, seed: int = 0, *, method: str | None = None
) -> tuple[pd.DataFrame, str]:
    """Keep at most ``max_points`` rows of an embedding table, the most frequent first.

    The unknown row (``is_unknown``) is always kept, since it stands for all the rare
    categories together. Ties in ``count`` are broken at random with ``seed``. Rows keep
    their original order.

    Parameters
    ----------
    table : pd.DataFrame
        An embedding table with at least ``category`` and ``count`` columns.
    max_points : int or None
        Largest number of rows to keep; ``None`` keeps everything.
    seed : int, default=0
        Seed for breaking ties between equally frequent categories.
    method : str, optional
        Projection method, only used to name it in the note.

    Returns
    -------
    (pd.DataFrame, str)
        The kept rows, and a plain-language note to show next to the chart ("" when
        nothing was left out).

    Examples
    --------
    >>> t = pd.DataFrame({"category": list("abc"), "count": [5, 9, 1]})
    >>> kept, note = sample_for_projection(t, 2)
    >>> kept["category"].tolist()
    ['a', 'b']
    """
    if "count" not in table.columns:
        raise DataError(
            "The embedding table has no 'count' column: pass a table from run.tables()."
        )
    n = len(table)
    if max_points is None or n <= max_points:
        return table, ""
    if max_points < 1:
        raise DataError(f"max_points must be at least 1, not {max_points}.")

    counts = pd.to_numeric(table["count"], errors="coerce").fillna(0).to_numpy(np.float64)
    is_unknown = (
        table["is_unknown"].to_numpy(bool) if "is_unknown" in table.columns else np.zeros(n, bool)
    )
    tiebreak = np.random.default_rng(seed).permutation(n)
    # lexsort: last key is primary -> unknown first, then count descending, then random.
    order = np.lexsort((tiebreak, -counts, ~is_unknown))
    keep = np.sort(order[:max_points])
    kept = table.iloc[keep]

    total = counts.sum()
    left_share = 1.0 - counts[keep].sum() / total if total > 0 else 0.0
    how = f" ({_METHOD_TITLES.get(method or '', method)} is slow on more)" if method else ""
    note = (
        f"Showing the {max_points:,} most frequent of {n:,} categories{how}; "
        f"the {n - max_points:,} left out cover {left_share:.1%} of the training rows."
    )
    return kept, note


# --------------------------------------------------------------------------- helpers


def _check_vectors(vectors: Any) -> np.ndarray:
    try:
        x = np.asarray(vectors, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError("The vectors to project must be numbers.") from exc
    if x.ndim != 2:
        raise DataError(f"Expected a 2-D array of vectors (one row per category), got {x.ndim}-D.")
    if x.shape[0] and x.shape[1] == 0:
        raise DataError("The vectors to project have no dimensions.")
    if not np.isfinite(x).all():
        raise DataError("The vectors to project contain missing or infinite values.")
    return x


def _is_constant(x: np.ndarray) -> bool:
    spread = np.ptp(x, axis=0).max()
    return bool(spread <= 1e-12 * max(1.0, float(np.abs(x).max())))


def _pad(y: np.ndarray, n_components: int) -> np.ndarray:
    out = np.zeros((y.shape[0], n_components), dtype=np.float64)
    out[:, : y.shape[1]] = y
    return out


def _pca(x: np.ndarray, n_components: int) -> np.ndarray:
    """Principal components via SVD, with a deterministic sign per axis."""
    centred = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    r = min(n_components, len(s))
    scores = u[:, :r] * s[:r]
    # Drop axes with no variance (rank below n_components) so they come out as exact 0.
    tol = s[0] * max(x.shape) * np.finfo(np.float64).eps if len(s) else 0.0
    scores[:, s[:r] <= tol] = 0.0
    # Sign convention: the largest |score| on each axis is positive.
    idx = np.abs(scores).argmax(axis=0)
    signs = np.sign(scores[idx, np.arange(r)])
    signs[signs == 0] = 1.0
    return _pad(scores * signs, n_components)


def _tsne(
    x: np.ndarray, n_components: int, *, seed: int, perplexity: float, max_iter: int
) -> np.ndarray:
    from sklearn.manifold import TSNE

    n, k = x.shape
    if perplexity <= 0:
        raise DataError(f"Perplexity must be positive, not {perplexity}.")
    perplexity = float(min(perplexity, max(1.0, (n - 1) / 3.0)))
    # PCA initialisation is more stable but needs at least n_components input dimensions.
    init = "pca" if k >= n_components else "random"
    model = TSNE(
        n_components=n_components,
        perplexity=perplexity,
        max_iter=max(int(max_iter), _TSNE_MIN_ITER),
        init=init,
        learning_rate="auto",
        random_state=seed,
    )
    with warnings.catch_warnings(), _thread_limit(n):
        warnings.simplefilter("ignore")
        y = model.fit_transform(x)
    return np.asarray(y, dtype=np.float64)


def _thread_limit(n: int) -> AbstractContextManager[object]:
    """One OpenMP/BLAS thread for small inputs, where threads only cost.

    Measured on 2 busy cores: t-SNE of 60 points took 4.4 s with the default threads
    and 0.3 s with one (the threads spin waiting for each other); from ~2,000 points on
    the threads start to pay off.
    """
    if n >= _THREADED_FROM:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


_UMAP_IMPORT_LOCK = threading.Lock()


def _import_umap() -> Any:
    """``import umap`` without pulling in TensorFlow when it is not loaded yet.

    umap-learn imports its optional ParametricUMAP (and with it TensorFlow, 6-10 s and
    ~700 MB) from ``umap/__init__.py``. We never use it, so when TensorFlow is not
    already imported we make that one optional import fail, which umap handles by
    defining a placeholder.
    """
    with _UMAP_IMPORT_LOCK:  # another thread may be half-way through the import
        return _import_umap_locked()


def _import_umap_locked() -> Any:
    if "umap" in sys.modules:
        return sys.modules["umap"]
    blocked = "tensorflow" not in sys.modules and "umap.parametric_umap" not in sys.modules
    if blocked:
        sys.modules["umap.parametric_umap"] = None  # type: ignore[assignment]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import umap
    finally:
        if blocked:
            sys.modules.pop("umap.parametric_umap", None)
    _enable_numba_cache("umap")
    return umap


def _enable_numba_cache(package: str) -> None:
    """Turn on numba's on-disk cache for the compiled functions of ``package``.

    umap-learn compiles its parallel numba kernels (``smooth_knn_dist``,
    ``compute_membership_strengths``, the layout optimiser ...) without ``cache=True``,
    so every new process pays 15-30 s of compilation on its first UMAP. Cached, a later
    process's first UMAP of 45 points took 0.2 s instead of 30 s. Best effort: a
    function that cannot be cached (no writable cache folder) just compiles as before.
    """
    try:
        from numba.core.caching import NullCache
        from numba.core.dispatcher import Dispatcher
    except ImportError:  # pragma: no cover - numba internals moved
        return
    for name, module in list(sys.modules.items()):
        if module is None or not (name == package or name.startswith(package + ".")):
            continue
        for obj in list(vars(module).values()):
            if (
                isinstance(obj, Dispatcher)
                and isinstance(getattr(obj, "_cache", None), NullCache)
                and not obj.overloads
            ):
                try:
                    obj.enable_caching()
                except Exception:  # caching is an optimisation only
                    pass


def _umap(
    x: np.ndarray, n_components: int, *, seed: int, n_neighbors: int, min_dist: float
) -> np.ndarray:
    umap = _import_umap()
    n = x.shape[0]
    if n_neighbors < 2:
        raise DataError(f"UMAP needs at least 2 neighbours, not {n_neighbors}.")
    if not 0.0 <= min_dist <= 1.0:
        raise DataError(f"UMAP's minimum distance must be between 0 and 1, not {min_dist}.")
    model = umap.UMAP(
        n_components=n_components,
        n_neighbors=int(min(n_neighbors, n - 1)),
        min_dist=float(min_dist),
        random_state=seed,
        n_jobs=1,  # a seed makes UMAP single-threaded anyway; saying so avoids a warning
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = model.fit_transform(x)
    y = np.asarray(y, dtype=np.float64)
    if not np.isfinite(y).all():  # can happen on pathological graphs; PCA is a safe answer
        return _pca(x, n_components)
    return y
