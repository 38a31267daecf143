"""Are a field's neighbours stable? Compare the same training over several seeds.

Retraining with another seed changes the vectors; a neighbour list worth acting on
stays (mostly) the same. ``stability`` measures, per category, how much its ``k``
nearest neighbours agree across runs and gives a badge:

- ``"too rare"``: seen fewer than ``reliable_min_count`` times (in the first run): its
  vector is learned from few rows, whatever the seeds say;
- ``"stable"``: on average its neighbours agree between two runs at least
  ``stable_overlap`` of the way from chance (the share random vectors would give,
  ``compare.chance_overlap``) to full agreement;
- ``"unstable"``: otherwise.

On a field of few categories the verdict uses at most half of the other categories as
neighbours (``verdict_k``): with 10 of 11, even random vectors agree on 91%.

>>> stability([run_seed0, run_seed1, run_seed2], "job", k=10)   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from embedding_core.analysis.compare import (
    chance_overlap,
    learned_rows,
    overlap_at_k,
    table_of,
    top_k_sets,
)
from embedding_core.analysis.neighbours import RELIABLE_MIN_COUNT, nearest_neighbours
from embedding_core.errors import DataError
from embedding_core.model.embeddings import vectors

if TYPE_CHECKING:
    from embedding_core.model.run import TrainedRun

__all__ = [
    "stability",
    "neighbour_votes",
    "stability_all_fields",
    "STABLE_OVERLAP",
    "RELIABILITY",
    "verdict_k",
    "stable_line",
]

STABLE_OVERLAP = 0.5
RELIABILITY = ("stable", "unstable", "too rare")


def verdict_k(k: int, n: int) -> int:
    """The neighbours a verdict on ``n`` categories uses: ``k``, at most half of the
    ``n - 1`` others (at least one), so that chance stays at or below one half."""
    return max(1, min(int(k), n - 1, (n - 1) // 2))


def stable_line(chance: float, stable_overlap: float = STABLE_OVERLAP) -> float:
    """The overlap from which a category is "stable": ``stable_overlap`` of the way from
    ``chance`` to full agreement (``stable_overlap`` itself when chance is nil)."""
    return chance + stable_overlap * (1.0 - chance)


def _tables(runs: Sequence[TrainedRun | pd.DataFrame], field: str) -> list[pd.DataFrame]:
    if len(runs) < 2:
        raise DataError("Stability needs at least two runs (the same settings, other seeds).")
    return [table_of(r, field) for r in runs]


def stability(
    runs: Sequence[TrainedRun | pd.DataFrame],
    field: str,
    k: int = 10,
    *,
    metric: str = "cosine",
    reliable_min_count: int = RELIABLE_MIN_COUNT,
    stable_overlap: float = STABLE_OVERLAP,
) -> pd.DataFrame:
    """Per category of ``field``: how much its neighbours agree across ``runs``.

    Parameters
    ----------
    runs : sequence of TrainedRun or DataFrame
        Two or more runs of the same settings (or the field's embedding tables). The
        first one's counts decide "too rare".
    field : str
    k : int, default=10
        Neighbours per category (capped by ``verdict_k``: at most half of the others).
    metric : {"cosine", "euclidean"}, default="cosine"
    reliable_min_count : int, default=30
    stable_overlap : float, default=0.5
        How far from chance to full agreement a stable category's overlap goes
        (``stable_line``).

    Returns
    -------
    DataFrame
        One row per category learned by every run, most frequent first: ``category``,
        ``count``, ``overlap`` (mean share of common neighbours over all pairs of runs),
        ``min_overlap`` (the worst pair), ``reliability`` (see module docstring).
        ``attrs["k"]`` and ``attrs["runs"]`` say what was used; ``attrs["chance"]`` is the
        overlap random vectors would give (``compare.chance_overlap``), ``attrs["line"]``
        the overlap from which a category is stable, ``attrs["asked_k"]`` the ``k`` asked.
    """
    if k < 1:
        raise DataError(f"k must be at least 1, not {k}.")
    tables = [learned_rows(t) for t in _tables(runs, field)]
    shared = set(tables[0]["category"].astype(str))
    for t in tables[1:]:
        shared &= set(t["category"].astype(str))
    first = tables[0][tables[0]["category"].astype(str).isin(shared)]
    names = first["category"].astype(str).tolist()
    if len(names) < 2:
        raise DataError(
            f"The runs share {len(names)} learned categories of '{field}': nothing to compare."
        )
    k_used = verdict_k(k, len(names))
    chance = chance_overlap(k_used, len(names))
    line = stable_line(chance, stable_overlap)
    neighbour_sets = []
    for t in tables:
        ordered = t.set_index(t["category"].astype(str)).loc[names]
        neighbour_sets.append(top_k_sets(vectors(ordered).astype(np.float64), k_used, metric))
    pairs = [overlap_at_k(a, b) for a, b in combinations(neighbour_sets, 2)]
    overlap = np.mean(pairs, axis=0)
    counts = first["count"].to_numpy(dtype=np.int64)
    badge = np.where(
        counts < reliable_min_count,
        "too rare",
        np.where(overlap >= line - 1e-12, "stable", "unstable"),
    )
    out = pd.DataFrame(
        {
            "category": names,
            "count": counts,
            "overlap": overlap,
            "min_overlap": np.min(pairs, axis=0),
            "reliability": badge,
        }
    ).sort_values("count", ascending=False, kind="stable", ignore_index=True)
    out.attrs.update(
        k=k_used, runs=len(tables), field=field, chance=chance, line=line, asked_k=int(k)
    )
    return out


def neighbour_votes(
    runs: Sequence[TrainedRun | pd.DataFrame],
    field: str,
    category: str,
    k: int = 10,
    *,
    metric: str = "cosine",
) -> dict[str, int]:
    """In how many of ``runs`` each category is among ``category``'s ``k`` nearest.

    Categories missing from a run (or rare there) simply get no vote from it; the
    reserved unknown vector counts only if training rows used it (as on the page).
    """
    votes: dict[str, int] = {}
    for table in _tables(runs, field):
        if "is_unknown" in table.columns and "count" in table.columns:
            # a reserved vector no training row used is noise, not a neighbour
            table = table[~(table["is_unknown"].astype(bool) & (table["count"] == 0))]
        if str(category) not in set(table["category"].astype(str)):
            continue
        top = nearest_neighbours(table, str(category), k=k, metric=metric)  # type: ignore[arg-type]
        for name in top["category"].astype(str):
            votes[name] = votes.get(name, 0) + 1
    return votes


def stability_all_fields(runs: Sequence[TrainedRun], k: int = 10, **kwargs: object) -> pd.DataFrame:
    """``stability`` of every field of the first run, stacked with a ``field`` column
    (fields the runs cannot compare are left out). What ``train --seeds`` writes."""
    parts = []
    for field in runs[0].fields:
        try:
            table = stability(runs, field, k, **kwargs)  # type: ignore[arg-type]
        except DataError:
            continue
        parts.append(table.assign(field=field, k=table.attrs["k"], chance=table.attrs["chance"]))
    if not parts:
        return pd.DataFrame(
            columns=[
                "field", "category", "count", "overlap", "min_overlap", "reliability", "k",
                "chance",
            ]
        )  # fmt: skip
    out = pd.concat(parts, ignore_index=True)
    return out[["field", *[c for c in out.columns if c != "field"]]]
