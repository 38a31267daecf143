r"""Embedding tables out of the app: TensorFlow Embedding Projector TSV, Parquet, CSV.

The Embedding Projector (https://projector.tensorflow.org, "Load") takes two files per
field: the vectors, one tab-separated row per category and no header, and the
metadata, with a header row because it has several columns. ``write_projector_files``
also writes ``projector_config.pbtxt`` naming every field's files, so
``tensorboard --logdir DIR`` opens them all in its Projector plugin.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"category": ["a", "b"], "count": [3, 1], "target_mean": [0.5, 1.0],
...                   "emb_0": [0.25, -1.0], "emb_1": [2.0, 0.0]})
>>> vectors, metadata = to_projector_tsv(t)
>>> vectors.splitlines()
['0.25\t2', '-1\t0']
>>> metadata.splitlines()
['category\tcount\ttarget_mean', 'a\t3\t0.5', 'b\t1\t1']
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from embedding_core.errors import DataError
from embedding_core.model.embeddings import vectors
from embedding_core.model.embeddings_file import (
    FIELD_COLUMN,
    read_parquet_tables,
    tables_to_parquet,
    tables_to_parquet_bytes,
)
from embedding_core.reuse.formula_guard import guard_cell, guard_frame

__all__ = [
    "to_projector_tsv",
    "write_projector_files",
    "projector_zip",
    "tables_to_parquet",
    "tables_to_parquet_bytes",
    "read_parquet_tables",
    "to_csv_bytes",
    "projector_config",
    "write_csv_files",
    "csv_zip",
    "FIELD_COLUMN",
    "PROJECTOR_CONFIG",
    "CSV_MANIFEST",
    "MAX_STEM",
    "file_stem",
    "short_stem",
]

#: The file TensorBoard's Projector plugin reads in a log directory.
PROJECTOR_CONFIG = "projector_config.pbtxt"
#: Beside the CSV files: which field each file holds (``{"<file>": "<field>"}``).
CSV_MANIFEST = "fields.json"
#: Longest file-name stem an export writes. Stems are ASCII, so this is bytes too: with
#: "_metadata.tsv" and a "_2" it stays far below the usual limit of 255 bytes.
MAX_STEM = 100
_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_ESCAPE_RE = re.compile(r"[\\\t\n\r]")


def to_projector_tsv(table: pd.DataFrame) -> tuple[str, str]:
    """Vectors and metadata of one field in the Embedding Projector's TSV format.

    Parameters
    ----------
    table : pd.DataFrame
        Embedding table (``category``, ``count``, ``target_mean``, ``emb_*`` columns).

    Returns
    -------
    (str, str)
        ``(vectors_tsv, metadata_tsv)``. Vectors: one line per category, values
        separated by tabs, no header, float32-exact (``%.9g``). Metadata: header
        ``category\\tcount\\ttarget_mean`` then one line per category, in the same
        order. In category names a backslash, tab, newline or carriage return is
        written as ``\\\\``, ``\\t``, ``\\n``, ``\\r`` so every category stays on one
        line. A missing ``target_mean`` (multiclass) is an empty field.
    """
    x = vectors(table, dtype=np.float64)
    vec_lines = ["\t".join(f"{v:.9g}" for v in row) for row in x.astype(np.float32)]

    if "category" not in table.columns:
        raise DataError(
            "The embedding table has no 'category' column: pass a table from run.tables()."
        )
    names = [guard_cell(_escape(str(c))) for c in table["category"]]
    counts = _numeric(table, "count")
    target = _numeric(table, "target_mean")
    meta_lines = ["category\tcount\ttarget_mean"]
    for name, c, t in zip(names, counts, target, strict=True):
        count = "" if np.isnan(c) else f"{int(c)}"
        mean = "" if np.isnan(t) else f"{t:.6g}"
        meta_lines.append(f"{name}\t{count}\t{mean}")
    return _lines(vec_lines), _lines(meta_lines)


def write_projector_files(
    tables: dict[str, pd.DataFrame], out_dir: str | Path
) -> dict[str, tuple[Path, Path]]:
    """Write ``<field>_vectors.tsv`` and ``<field>_metadata.tsv`` for every field.

    Parameters
    ----------
    tables : dict of str to pd.DataFrame
        Embedding table per field.
    out_dir : str or Path
        Folder to write into (created if needed).

    Returns
    -------
    dict of str to (Path, Path)
        ``field -> (vectors_path, metadata_path)``. File names use the field name with
        characters other than letters, digits, ``.``, ``_``, ``-`` replaced by ``_``,
        shortened with a hash beyond ``MAX_STEM`` characters (``file_stem``) and made
        unique if two fields clash. ``projector_config.pbtxt`` names each file's field.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, tuple[Path, Path]] = {}
    for field, stem in zip(tables, _file_stems(tables), strict=True):
        vectors, metadata = to_projector_tsv(tables[field])
        vec_path = out / f"{stem}_vectors.tsv"
        meta_path = out / f"{stem}_metadata.tsv"
        vec_path.write_text(vectors, encoding="utf-8", newline="")
        meta_path.write_text(metadata, encoding="utf-8", newline="")
        written[field] = (vec_path, meta_path)
    (out / PROJECTOR_CONFIG).write_text(projector_config(tables), encoding="utf-8")
    return written


def projector_config(tables: dict[str, pd.DataFrame]) -> str:
    """``projector_config.pbtxt`` for the files of :func:`write_projector_files`.

    One ``embeddings { tensor_name tensor_shape tensor_path metadata_path }`` block per
    field, paths relative to the folder (TensorBoard resolves them against its
    ``--logdir``).

    Examples
    --------
    >>> t = pd.DataFrame({"category": ["a", "b"], "emb_0": [0.5, 1.0]})
    >>> print(projector_config({'say "hi"': t}), end="")
    embeddings {
      tensor_name: "say \\"hi\\""
      tensor_shape: 2
      tensor_shape: 1
      tensor_path: "say__hi__vectors.tsv"
      metadata_path: "say__hi__metadata.tsv"
    }
    """
    blocks = []
    for field, stem in zip(tables, _file_stems(tables), strict=True):
        rows, width = vectors(tables[field]).shape
        blocks.append(
            "embeddings {\n"
            f"  tensor_name: {_pbtxt_string(str(field))}\n"
            f"  tensor_shape: {rows}\n"
            f"  tensor_shape: {width}\n"
            f"  tensor_path: {_pbtxt_string(f'{stem}_vectors.tsv')}\n"
            f"  metadata_path: {_pbtxt_string(f'{stem}_metadata.tsv')}\n"
            "}\n"
        )
    return "".join(blocks)


def write_csv_files(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> dict[str, Path]:
    """Write one ``<field>.csv`` per field (the whole table, formula-guarded text).

    ``fields.json`` (``CSV_MANIFEST``) beside them names the full field of each file.

    Returns
    -------
    dict of str to Path
        ``field -> path``; file names as in :func:`write_projector_files`.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for field, stem in zip(tables, _file_stems(tables), strict=True):
        path = out / f"{stem}.csv"
        path.write_bytes(to_csv_bytes(tables[field]))
        written[field] = path
    (out / CSV_MANIFEST).write_text(_csv_manifest(tables), encoding="utf-8")
    return written


def csv_zip(tables: dict[str, pd.DataFrame]) -> bytes:
    """The files of :func:`write_csv_files` as one zip archive (for a download)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for field, stem in zip(tables, _file_stems(tables), strict=True):
            archive.writestr(f"{stem}.csv", to_csv_bytes(tables[field]))
        archive.writestr(CSV_MANIFEST, _csv_manifest(tables))
    return buffer.getvalue()


def _csv_manifest(tables: dict[str, pd.DataFrame]) -> str:
    """``{"<stem>.csv": "<field>"}``: the full field name of every CSV file."""
    stems = _file_stems(tables)
    files = {f"{stem}.csv": str(field) for field, stem in zip(tables, stems, strict=True)}
    return json.dumps(files, indent=2, ensure_ascii=False) + "\n"


def projector_zip(tables: dict[str, pd.DataFrame]) -> bytes:
    """The files of :func:`write_projector_files` as one zip archive (for a download).

    Parameters
    ----------
    tables : dict of str to pd.DataFrame
        Embedding table per field.

    Returns
    -------
    bytes
        A zip holding ``<field>_vectors.tsv`` and ``<field>_metadata.tsv`` per field,
        and ``projector_config.pbtxt``.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for field, stem in zip(tables, _file_stems(tables), strict=True):
            vectors, metadata = to_projector_tsv(tables[field])
            archive.writestr(f"{stem}_vectors.tsv", vectors)
            archive.writestr(f"{stem}_metadata.tsv", metadata)
        archive.writestr(PROJECTOR_CONFIG, projector_config(tables))
    return buffer.getvalue()


def to_csv_bytes(
    frame: pd.DataFrame, *, encoding: str = "utf-8-sig", guard_formulas: bool = True
) -> bytes:
    """A data frame as CSV bytes for a download button.

    Parameters
    ----------
    frame : pd.DataFrame
        Any table (index not written).
    encoding : str, default="utf-8-sig"
        UTF-8 with a byte-order mark by default, so spreadsheet programs detect the
        encoding of non-ASCII category names.
    guard_formulas : bool, default=True
        Guard text cells and column names against formula injection
        (``formula_guard.guard_frame``): category and column names are user data.

    Returns
    -------
    bytes
    """
    if guard_formulas:
        frame = guard_frame(frame)
    return frame.to_csv(index=False).encode(encoding)


# --------------------------------------------------------------------------- helpers


def _numeric(table: pd.DataFrame, name: str) -> np.ndarray:
    if name not in table.columns:
        return np.full(len(table), np.nan)
    return pd.to_numeric(table[name], errors="coerce").to_numpy(np.float64)


def _pbtxt_string(text: str) -> str:
    """A protobuf text-format string literal (UTF-8 kept as is)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


def _escape(name: str) -> str:
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], name)


def _lines(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def short_stem(stem: str, name: object) -> str:
    """``stem`` if at most ``MAX_STEM`` characters, else its start and 8 hex digits of a
    hash of ``name``, so names that share a long beginning keep different files."""
    if len(stem) <= MAX_STEM:
        return stem
    digest = hashlib.sha256(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{stem[: MAX_STEM - 9]}_{digest}"


def file_stem(name: object) -> str:
    """A file-name stem for a field: characters other than letters, digits, ``.``, ``_``,
    ``-`` become ``_``; a long name is shortened (``short_stem``).

    Examples
    --------
    >>> file_stem("price/usd")
    'price_usd'
    >>> len(file_stem("x" * 5000))
    100
    """
    base = re.sub(r"[^A-Za-z0-9._-]", "_", str(name)).strip(".") or "field"
    return short_stem(base, name)


def _file_stems(tables: dict[str, pd.DataFrame]) -> list[str]:
    stems: list[str] = []
    seen: set[str] = set()
    for field in tables:
        base = file_stem(field)
        stem, i = base, 2
        while stem.lower() in seen:  # case-insensitive file systems
            stem, i = f"{base}_{i}", i + 1
        seen.add(stem.lower())
        stems.append(stem)
    return stems
