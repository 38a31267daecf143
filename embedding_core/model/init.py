"""Start a new model's embedding tables from an earlier run's vectors (no TensorFlow).

``TrainConfig(init_embeddings=..., freeze_embeddings=...)`` names the earlier run: a
saved run directory, a zip of one (as the app's Export page gives), or a
``TrainedRun``. For every categorical field of the new model that the earlier run
also has, the new table starts from the earlier vectors with rows matched by category
**name**, so a reordered vocabulary or categories missing on either side are fine:
a category the earlier run did not keep starts from its ``<unknown>`` vector, and the
earlier run's categories the new data lacks are dropped. ``<unknown>`` and
``<missing>`` map to their namesakes (``<missing>`` falls back to ``<unknown>``).

Examples
--------
>>> import pandas as pd
>>> from embedding_core.data.encoding import CategoryEncoder
>>> old = pd.DataFrame({"category": ["<unknown>", "b", "a"], "is_unknown": [True, False, False],
...                     "is_missing": [False] * 3, "emb_0": [0.0, 2.0, 1.0]})
>>> matrix, matched = align_table("f", CategoryEncoder().fit(["a", "c"]), old)
>>> matrix[:, 0].tolist(), matched.tolist()
([0.0, 1.0, 0.0], [True, True, False])
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from embedding_core.errors import DataError, ModelFormatError

if TYPE_CHECKING:
    from embedding_core.data.encoding import CategoryEncoder
    from embedding_core.model.features import FeatureEncoder

__all__ = [
    "InitPlan",
    "source_label",
    "load_source_tables",
    "align_table",
    "plan_init",
    "check_widths",
]

#: Largest ``embeddings.parquet`` read out of a zip (bytes, uncompressed).
MAX_ZIPPED_TABLES_BYTES = 512 * 1024 * 1024
TABLES_FILE = "embeddings.parquet"


@dataclass(frozen=True)
class InitPlan:
    """Initial tables for a new model, in its vocabulary order.

    Attributes
    ----------
    source : str
        Where the vectors came from (``source_label``).
    tables : dict of str to ndarray
        Field -> ``(vocabulary size, width)`` float32 starting table, for the fields the
        earlier run knows (in the new model's field order).
    matched : dict of str to float
        Field -> share of the new vocabulary's categories (reserved rows excluded)
        found by name in the earlier run.
    frozen : tuple of str
        Fields whose tables stay fixed in training.
    """

    source: str
    tables: dict[str, np.ndarray]
    matched: dict[str, float]
    frozen: tuple[str, ...]

    @property
    def widths(self) -> dict[str, int]:
        """Field -> vector size of the loaded table."""
        return {f: int(t.shape[1]) for f, t in self.tables.items()}


def source_label(source: Any) -> str:
    """A short description of an ``init_embeddings`` source, for metrics and config."""
    if isinstance(source, str | Path):
        return str(source)
    return "a run in memory"


def load_source_tables(source: Any) -> dict[str, pd.DataFrame]:
    """The earlier run's embedding tables, field -> table (``category``, ``is_unknown``,
    ``is_missing``, ``emb_*``).

    Parameters
    ----------
    source : str, Path or TrainedRun
        A saved run directory (only its ``embeddings.parquet`` is read), a zip holding
        one, or a trained run.

    Raises
    ------
    ModelFormatError
        The path is neither a saved run directory nor a zip of one, or its tables are
        unreadable.
    """
    if not isinstance(source, str | Path):
        if not hasattr(source, "embeddings") or not hasattr(source, "fields"):
            raise DataError(
                "init_embeddings must be a saved run directory, a zip of one or a TrainedRun; "
                f"got {type(source).__name__}."
            )
        return {f: source.embeddings(f) for f in source.fields}
    from embedding_core.model.embeddings_file import read_parquet_tables

    path = Path(source)
    if path.is_dir():
        file = path / TABLES_FILE
        if not file.is_file():
            raise ModelFormatError(
                f"'{path}' has no {TABLES_FILE}: point to a directory written by `train` "
                "(or TrainedRun.save)."
            )
        data: Any = file
    elif path.is_file() and zipfile.is_zipfile(path):
        try:
            data = _zipped_tables(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
            raise ModelFormatError(f"The zip '{path.name}' could not be read ({exc}).") from None
    else:
        raise ModelFormatError(
            f"No saved run at '{path}': give a directory written by `train` or a zip of one."
        )
    try:
        return read_parquet_tables(data)
    except DataError as exc:
        raise ModelFormatError(f"The embeddings of '{path}' could not be read: {exc}") from None


def _zipped_tables(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        members = [
            m
            for m in archive.infolist()
            if not m.is_dir() and m.filename.rsplit("/", 1)[-1] == TABLES_FILE
        ]
        if not members:
            raise ModelFormatError(
                f"The zip '{path.name}' holds no {TABLES_FILE}: is it a saved run "
                "(the Export page's 'saved run' download)?"
            )
        member = min(members, key=lambda m: m.filename.count("/"))
        if member.file_size > MAX_ZIPPED_TABLES_BYTES:
            raise ModelFormatError(
                f"The {TABLES_FILE} in '{path.name}' is larger than "
                f"{MAX_ZIPPED_TABLES_BYTES // 2**20} MB once unpacked: refusing to read it."
            )
        return archive.read(member)


def align_table(
    field: str, encoder: CategoryEncoder, table: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``table`` for the vocabulary of ``encoder``, matched by category name.

    Parameters
    ----------
    field : str
        The field's name (for messages).
    encoder : CategoryEncoder
        The new model's vocabulary of that field.
    table : DataFrame
        The earlier run's table of that field.

    Returns
    -------
    (ndarray, ndarray)
        ``(encoder.size, width)`` float32 vectors, and a bool array saying which rows
        were found in ``table`` (the others got its unknown vector). The reserved rows
        map to their namesakes, told apart by position and flags, not by label.
    """
    from embedding_core.data.encoding import UNKNOWN_INDEX
    from embedding_core.model.table_lookup import TableLookup

    lookup = TableLookup(field, table)
    rows = np.full(encoder.size, lookup.unknown_row, dtype=np.int64)
    matched = np.zeros(encoder.size, dtype=bool)
    real = np.arange(encoder.n_reserved_, encoder.size)
    pos = lookup.known.get_indexer(pd.Index(encoder.categories, dtype="str"))
    found = pos >= 0
    rows[real[found]] = lookup.known_rows[pos[found]]
    matched[real[found]] = True
    matched[UNKNOWN_INDEX] = True
    if encoder.missing_index_ is not None:
        rows[encoder.missing_index_] = lookup.missing_row
        matched[encoder.missing_index_] = lookup.missing_row != lookup.unknown_row
    return lookup.vectors[rows].astype(np.float32), matched


def plan_init(features: FeatureEncoder, source: Any, *, freeze: bool) -> InitPlan:
    """Starting tables for the fields of ``features`` that the earlier run knows.

    Raises
    ------
    DataError
        The earlier run shares no categorical column with this one.
    ModelFormatError
        The source cannot be read (see ``load_source_tables``).
    """
    old = load_source_tables(source)
    shared = [f for f in features.fields if f in old]
    if not shared:
        raise DataError(
            f"The run to start from ({source_label(source)}) has none of these categorical "
            f"columns ({', '.join(repr(f) for f in features.fields)}); it has "
            f"{', '.join(repr(f) for f in old) or 'no fields'}."
        )
    tables: dict[str, np.ndarray] = {}
    matched: dict[str, float] = {}
    for field in shared:
        enc = features.encoders_[field]
        matrix, found = align_table(field, enc, old[field])
        tables[field] = matrix
        real = found[enc.n_reserved_ :]
        matched[field] = round(float(real.mean()), 4) if len(real) else 1.0
    return InitPlan(
        source=source_label(source),
        tables=tables,
        matched=matched,
        frozen=tuple(shared) if freeze else (),
    )


def check_widths(plan: InitPlan, embedding_dim: int) -> None:
    """DeepFM: every loaded table must have the model's single size ``embedding_dim``.

    Raises
    ------
    DataError
        A loaded table has another width.
    """
    wrong: Mapping[str, int] = {f: w for f, w in plan.widths.items() if w != embedding_dim}
    if wrong:
        f, w = next(iter(wrong.items()))
        raise DataError(
            f"The run to start from has vectors of {w} for '{f}', but this DeepFM uses "
            f"vectors of {embedding_dim} (embedding_dim): set the embedding dimension to {w}, "
            "or train an entity-embedding network (model='entity'), whose fields each keep "
            "their own size."
        )
