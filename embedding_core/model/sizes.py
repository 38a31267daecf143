"""Vector size per field for entity-embedding networks (no TensorFlow needed).

DeepFM needs one shared size k: its FM term takes dot products between the vectors of
different fields. An entity network (``model="entity"``) only concatenates the field
vectors into an MLP, so each field gets a size that fits its number of categories:
``min(50, ceil(categories / 2))``, the rule of thumb of the fast.ai tabular models
after Guo & Berkhahn (2016), counting only the categories kept after ``min_count``.

Examples
--------
>>> default_embedding_dim(7), default_embedding_dim(2), default_embedding_dim(6708)
(4, 1, 50)
>>> resolve_embedding_dims({"job": 11, "month": 12}, {"month": 3})
{'job': 6, 'month': 3}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from embedding_core.errors import DataError

__all__ = [
    "MAX_EMBEDDING_DIM",
    "default_embedding_dim",
    "resolve_embedding_dims",
    "planned_embedding_dims",
    "parse_embedding_dims",
]

#: Largest default size of an entity embedding (a field's own override may be larger).
MAX_EMBEDDING_DIM = 50


def default_embedding_dim(n_categories: int) -> int:
    """``min(50, ceil(n_categories / 2))``, at least 1."""
    return int(max(1, min(MAX_EMBEDDING_DIM, math.ceil(int(n_categories) / 2))))


def resolve_embedding_dims(
    categories: Mapping[str, int],
    overrides: Mapping[str, int] | None = None,
    fixed: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """The size of every field: a fixed size, else an override, else the default.

    Parameters
    ----------
    categories : mapping of str to int
        Field -> number of categories kept after ``min_count`` (reserved rows excluded).
    overrides : mapping of str to int, optional
        The user's sizes (``TrainConfig.embedding_dims``).
    fixed : mapping of str to int, optional
        Sizes that cannot change, e.g. of tables loaded from an earlier run.

    Raises
    ------
    DataError
        An override names a field that is not categorical, or contradicts a fixed size.
    """
    overrides = dict(overrides or {})
    fixed = dict(fixed or {})
    unknown = [f for f in overrides if f not in categories]
    if unknown:
        raise DataError(
            f"embedding sizes were given for {', '.join(repr(f) for f in unknown)}, which "
            f"{'is' if len(unknown) == 1 else 'are'} not among the categorical columns "
            f"({', '.join(repr(f) for f in categories)})."
        )
    clash = [f for f in overrides if f in fixed and overrides[f] != fixed[f]]
    if clash:
        f = clash[0]
        raise DataError(
            f"'{f}' starts from the earlier run's vectors, which have {fixed[f]} dimensions, "
            f"but its size was set to {overrides[f]}: drop that size or set it to {fixed[f]}."
        )
    return {
        f: int(fixed.get(f, overrides.get(f, default_embedding_dim(n))))
        for f, n in categories.items()
    }


def planned_embedding_dims(
    frame: pd.DataFrame,
    categorical: Sequence[str],
    min_count: int,
    overrides: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """The sizes an entity network would use on ``frame`` (before training).

    Counts categories on all of ``frame``; training counts them on its training split
    only, so a field near a size boundary can come out one smaller.
    """
    from embedding_core.data.encoding import as_category_text

    counts = {}
    for col in categorical:
        values = as_category_text(frame[col]).value_counts(dropna=True)
        counts[col] = int((values >= min_count).sum())
    return resolve_embedding_dims(counts, overrides)


def parse_embedding_dims(text: str) -> dict[str, int]:
    """``"a=12,b=4"`` -> ``{"a": 12, "b": 4}`` (the CLI's ``--embedding-dims``).

    Raises
    ------
    DataError
        A part is not ``name=positive integer``.
    """
    dims: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, value = part.rpartition("=")
        if not sep or not name.strip() or not value.strip().isdigit() or int(value) < 1:
            raise DataError(
                f"--embedding-dims expects name=size pairs such as job=12,month=4 "
                f"(sizes >= 1); '{part}' is not one."
            )
        dims[name.strip()] = int(value)
    if not dims:
        raise DataError("--embedding-dims expects name=size pairs such as job=12,month=4.")
    return dims
