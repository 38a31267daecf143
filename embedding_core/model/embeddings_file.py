"""The embeddings Parquet file: every field's table in one file, with a ``field`` column.

This is the one writer and the one reader of the format, used by ``TrainedRun.save`` /
``TrainedRun.load`` (``embeddings.parquet`` in a run directory), the export commands and
``load_embedding_tables``. The field order is kept in the file's metadata.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from embedding_core.errors import DataError
from embedding_core.model.embeddings import EMB_PREFIX

__all__ = ["FIELD_COLUMN", "tables_to_parquet", "tables_to_parquet_bytes", "read_parquet_tables"]

#: Name of the column that says which field a row belongs to.
FIELD_COLUMN = "field"

_FIELDS_KEY = b"embedding_core.fields"


def tables_to_parquet(tables: dict[str, pd.DataFrame], path: str | Path | BinaryIO) -> None:
    """Write all embedding tables to one Parquet file, with a ``field`` column first.

    The field order is stored in the file's metadata, so :func:`read_parquet_tables`
    gives back the same fields in the same order, even fields with no rows.

    Parameters
    ----------
    tables : dict of str to pd.DataFrame
        Embedding table per field.
    path : str, Path or binary file object
        Where to write.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    frames = []
    for field, table in tables.items():
        if FIELD_COLUMN in table.columns:
            raise DataError(f"The table of field '{field}' already has a '{FIELD_COLUMN}' column.")
        frame = table.reset_index(drop=True)
        frame.insert(0, FIELD_COLUMN, pd.array([str(field)] * len(frame), dtype="str"))
        frames.append(frame)
    if frames:
        combined = pd.concat(frames, ignore_index=True)
    else:
        combined = pd.DataFrame({FIELD_COLUMN: pd.array([], dtype="str")})
    arrow = pa.Table.from_pandas(combined, preserve_index=False)
    fields = json.dumps([str(f) for f in tables]).encode("utf-8")
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), _FIELDS_KEY: fields})
    pq.write_table(arrow, path)


def tables_to_parquet_bytes(tables: dict[str, pd.DataFrame]) -> bytes:
    """:func:`tables_to_parquet` into memory, for a download button."""
    buffer = io.BytesIO()
    tables_to_parquet(tables, buffer)
    return buffer.getvalue()


def read_parquet_tables(source: str | Path | BinaryIO | bytes) -> dict[str, pd.DataFrame]:
    """Read a file written by :func:`tables_to_parquet` back into tables per field.

    Parameters
    ----------
    source : str, Path, binary file object or bytes
        The Parquet file.

    Returns
    -------
    dict of str to pd.DataFrame
        Field -> table without the ``field`` column, index reset. Vector columns that
        are all missing for a field (fields of different sizes) are dropped.

    Raises
    ------
    DataError
        If the file cannot be read as Parquet or has no ``field`` column.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(source)
    try:
        arrow = pq.read_table(source)
    except (pa.ArrowException, OSError) as exc:
        raise DataError("That file could not be read as a Parquet export of embeddings.") from exc
    if FIELD_COLUMN not in arrow.column_names:
        raise DataError(f"The Parquet file has no '{FIELD_COLUMN}' column; is it an export?")
    meta = arrow.schema.metadata or {}
    frame = arrow.to_pandas()
    field_values = frame[FIELD_COLUMN].astype(str)
    if _FIELDS_KEY in meta:
        fields = [str(f) for f in json.loads(meta[_FIELDS_KEY])]
    else:
        fields = list(dict.fromkeys(field_values))
    out: dict[str, pd.DataFrame] = {}
    for field in fields:
        part = frame[field_values == field].drop(columns=FIELD_COLUMN).reset_index(drop=True)
        empty_emb = [
            c
            for c in part.columns
            if str(c).startswith(EMB_PREFIX) and len(part) and part[c].isna().all()
        ]
        out[field] = part.drop(columns=empty_emb)
    return out
