"""Cached computations on a trained run (embedding tables, projections, clusters, ...).

Every cache is keyed by the run's unique id plus the parameters; the run and the
tables themselves are passed unhashed (leading underscore).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import streamlit as st

from ui.job_slots import wait_until_quiet

if TYPE_CHECKING:  # pragma: no cover
    from embedding_core.model.run import TrainedRun

__all__ = [
    "MAX_POINTS",
    "max_points",
    "field_table",
    "field_options",
    "field_option_label",
    "among_options",
    "all_tables",
    "projection_points",
    "cached_projection",
    "cached_clusters",
    "cached_interactions",
    "target_label",
    "count_steps",
    "class_shares",
    "rare_note",
    "distinct_count",
    "warm_up_umap",
    "umap_ready",
]

_STEPS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000)

MAX_POINTS = 5_000  # SVG scatter stays smooth in the browser up to a few thousand points


@st.cache_data(show_spinner=False, max_entries=64)
def field_table(run_id: str, field_name: str, _run: TrainedRun) -> pd.DataFrame:
    """``run.embeddings(field)``: one row per category with counts and vectors."""
    return _run.embeddings(field_name)


def field_options(run: TrainedRun) -> list[str]:
    """What the Explore and Neighbours pages offer: the categorical fields, then the
    numeric columns whose bins have vectors (``run.binned_columns``)."""
    return [*run.fields, *run.binned_columns]


def field_option_label(run: TrainedRun) -> Callable[[str], str]:
    """``format_func`` for ``field_options``: a binned column reads "age (numeric bins)"."""
    binned = set(run.binned_columns)
    return lambda name: f"{name} (numeric bins)" if name in binned else name


def among_options(run: TrainedRun, field_name: str) -> list[str]:
    """Where the Neighbours page may look for ``field_name``'s neighbours: the field
    itself first, then, for a DeepFM (whose FM term puts every field's vectors in one
    space), every other field and binned numeric column. An entity network reads each
    field in its own place, so its fields are not compared with each other."""
    if run.config.model != "deepfm":
        return [field_name]
    return [field_name, *(name for name in field_options(run) if name != field_name)]


def all_tables(run_id: str, run: TrainedRun) -> dict[str, pd.DataFrame]:
    """Embedding tables of every field of the run."""
    return {name: field_table(run_id, name, run) for name in run.fields}


@st.cache_data(show_spinner=False, max_entries=64)
def projection_points(
    run_id: str, field_name: str, method: str, _table: pd.DataFrame
) -> tuple[pd.DataFrame, str]:
    """The categories to map: the shared unknown row left out, capped per method.

    Returns
    -------
    (points, note)
        ``points`` holds at most ``max_points(method)`` rows, the most frequent
        categories; ``note`` says what was left out ("" if nothing).
    """
    from embedding_core.analysis.projection import sample_for_projection

    table = _table
    if "is_unknown" in table.columns:
        table = table[~table["is_unknown"].astype(bool)]
    points, note = sample_for_projection(
        table.reset_index(drop=True), max_points(method), method=method
    )
    return points.reset_index(drop=True), note


def max_points(method: str) -> int:
    """How many categories the map shows at most for ``method``."""
    from embedding_core.analysis.projection import DEFAULT_MAX_POINTS

    return min(DEFAULT_MAX_POINTS.get(method, MAX_POINTS), MAX_POINTS)


@st.cache_data(show_spinner=False, max_entries=128)
def cached_projection(
    run_id: str,
    field_name: str,
    method: str,
    dims: int,
    params: tuple[tuple[str, Any], ...],
    _points: pd.DataFrame,
) -> np.ndarray:
    """``project`` of the points' vectors, cached per (run, field, method, params)."""
    from embedding_core.analysis.projection import project
    from embedding_core.model.embeddings import vectors

    return project(vectors(_points), method, n_components=dims, seed=0, **dict(params))


@st.cache_data(show_spinner=False, max_entries=64)
def cached_clusters(
    run_id: str, field_name: str, method: str, k: int | None, _points: pd.DataFrame
) -> np.ndarray:
    """k-means cluster label per point on the original vectors (``k=None``: automatic)."""
    from embedding_core.analysis.clustering import cluster_labels
    from embedding_core.model.embeddings import vectors

    return np.asarray(cluster_labels(vectors(_points), n_clusters=k, seed=0))


@st.cache_data(show_spinner=False, max_entries=16)
def cached_interactions(run_id: str, _run: TrainedRun) -> tuple[pd.DataFrame, list[str]]:
    """Field x field interaction matrix and plain-language sentences on the top pairs."""
    from embedding_core.analysis.interactions import describe_top_pairs, field_interactions

    matrix = field_interactions(all_tables(run_id, _run), pair_weights=_run.fm_pair_weights())
    return matrix, list(describe_top_pairs(matrix, n=3))


def target_label(run: TrainedRun) -> str:
    """How the per-category target mean reads for this task."""
    task = run.roles.task
    if task == "binary":
        return "positive rate"
    if task == "regression":
        return "mean target"
    return "target mean (n/a for multiclass)"


@st.cache_data(show_spinner=False, max_entries=32)
def class_shares(
    run_id: str,
    data_key: str,
    field_name: str,
    target_class: str,
    _run: TrainedRun,
    _frame: pd.DataFrame,
) -> np.ndarray:
    """Share of rows of class ``target_class`` per embedding row of ``field_name``.

    Measured on ``_frame`` (the data the run was trained on, identified by
    ``data_key``); NaN for rows no category of the frame maps to.
    """
    rows = np.asarray(_run.category_rows(field_name, _frame[field_name]), dtype=np.int64)
    hit = (_frame[_run.roles.target].astype(str) == str(target_class)).to_numpy(dtype=float)
    size = int(rows.max()) + 1 if rows.size else 0
    size = max(size, int(_run.embeddings(field_name)["index"].max()) + 1)  # bins skip slots
    counts = np.bincount(rows, minlength=size).astype(float)
    sums = np.bincount(rows, weights=hit, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def count_steps(largest: int) -> list[int]:
    """Steps of the minimum-count slider, up to the field's largest count (at least two)."""
    steps = [s for s in _STEPS if s <= largest]
    return steps if len(steps) >= 2 else [0, max(1, largest)]


def rare_note(table: pd.DataFrame, min_count: int, n_distinct: int | None = None) -> str:
    """What the map leaves out: the one vector shared by rare and unseen categories.

    ``n_distinct`` (``distinct_count`` of the field's column in the training data, when
    at hand) lets the note count the distinct categories that were merged, not only
    their rows.
    """
    if "is_unknown" not in table.columns:
        return ""
    unknown = table["is_unknown"].astype(bool)
    rows = int(table.loc[unknown, "count"].sum())
    if rows == 0:
        return ""
    learned = int((~unknown).sum())
    merged = ""
    if n_distinct is not None:
        n_rare = n_distinct - learned
        if n_rare > 0:
            merged = f"{n_rare:,} categories "
    return (
        f"Not shown: {merged}seen fewer than {min_count} times ({rows:,} training rows) "
        "share one vector for rare or unseen values."
    )


@st.cache_data(show_spinner=False, max_entries=64)
def distinct_count(key: str, column: str, _values: pd.Series) -> int:
    """Distinct values of the column ``column`` of the dataset ``key`` (missing counts as
    one), once per dataset: a pass over every row (1M rows: a good part of a rerun)."""
    return int(_values.nunique(dropna=False))


# Process-wide warm-up state (not per user: compiled code is shared by every session).
_UMAP_LOCK = threading.Lock()
_umap_state = {"started": False, "ready": False}
_log = logging.getLogger(__name__)
_WAIT_FOR_TENSORFLOW_S = 90.0
#: UMAP compiles only after this many seconds with neither the TensorFlow warm-up nor a
#: job running: a user who clicks Train soon after the page (or trains again soon after
#: a run) does not share the CPU with the compiler.
_QUIET_S = 10.0


def umap_ready() -> bool:
    """Whether UMAP's compiled code is loaded in this server process."""
    return _umap_state["ready"]


def warm_up_umap() -> bool:
    """Compile UMAP's numba kernels in a daemon thread, once per server process.

    A first UMAP in a fresh process compiles for tens of seconds (68 s was measured on
    a busy 2-core machine); numba's on-disk cache (see ``analysis.projection``) makes
    later processes load the code instead (3-4 CPU-s still). The thread starts only once
    neither the TensorFlow warm-up nor a job (a training) has run for ``_QUIET_S``
    seconds (or after ``_WAIT_FOR_TENSORFLOW_S``), so it does not compete for the CPU
    with a training the user starts, nor with the pages they open right after one.
    Returns True if a thread was started.
    """
    with _UMAP_LOCK:
        if _umap_state["started"]:
            return False
        _umap_state["started"] = True
    threading.Thread(target=_warm_up_umap, name="umap-warm-up", daemon=True).start()
    return True


def _tensorflow_warming_up() -> bool:
    return any(t.name == "tensorflow-warm-up" and t.is_alive() for t in threading.enumerate())


def _warm_up_umap() -> None:
    # Compiling UMAP takes seconds of CPU and holds the GIL: a user who clicks Train, or
    # opens Explore after a training, would wait for it.
    wait_until_quiet(_QUIET_S, _WAIT_FOR_TENSORFLOW_S, busy=_tensorflow_warming_up)
    try:
        from embedding_core.analysis.projection import project

        rng = np.random.default_rng(0)
        project(rng.normal(size=(40, 8)), "umap", n_components=2, seed=0)
        project(rng.normal(size=(40, 8)), "umap", n_components=3, seed=0)
        _umap_state["ready"] = True
    except Exception:  # noqa: BLE001 - a failed warm-up only means the first UMAP compiles
        _log.exception("warming up UMAP failed")
