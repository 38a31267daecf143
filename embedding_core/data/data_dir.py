"""Tables on the server: an allow-listed data folder, and a sample of a table's first rows.

Files too big to upload can be put in one folder on the server, named by the
``EMBEDDING_CORE_DATA_DIR`` environment variable. ``list_tables`` lists the CSV and
Parquet files and the folders of shards in it; ``resolve_table`` turns a user's choice
back into a path and refuses anything outside the folder, including symbolic links
that lead out of it. Nothing outside the folder is ever listed or read.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from embedding_core.data.stream import CSV_SUFFIXES, PARQUET_SUFFIXES, open_table
from embedding_core.errors import DataError
from embedding_core.text import NAME_LIMIT, printable

__all__ = ["DATA_DIR_ENV", "data_dir", "list_tables", "resolve_table", "read_sample"]

DATA_DIR_ENV = "EMBEDDING_CORE_DATA_DIR"
#: Most entries listed (files and folders), and how deep folders are searched.
MAX_ENTRIES = 500
MAX_DEPTH = 3


def data_dir() -> Path | None:
    """The allow-listed data folder (``EMBEDDING_CORE_DATA_DIR``), or None when unset."""
    value = os.environ.get(DATA_DIR_ENV, "").strip()
    if not value:
        return None
    root = Path(value).expanduser().resolve()
    return root if root.is_dir() else None


def _is_table(path: Path) -> bool:
    return path.name.lower().endswith(PARQUET_SUFFIXES + CSV_SUFFIXES)


def _inside(root: Path, path: Path) -> bool:
    return path == root or path.is_relative_to(root)


def list_tables(root: Path) -> list[str]:
    """Tables under ``root``, as paths relative to it: files, then folders holding tables.

    Hidden entries and links leading outside ``root`` are skipped; at most
    ``MAX_ENTRIES`` entries, ``MAX_DEPTH`` levels deep.
    """
    root = root.resolve()
    files: list[str] = []
    folders: list[str] = []
    for current, dirs, names in os.walk(root, followlinks=False):
        here = Path(current)
        depth = len(here.relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")) and depth < MAX_DEPTH)
        tables = [n for n in sorted(names) if not n.startswith((".", "_")) and _is_table(here / n)]
        tables = [n for n in tables if _inside(root, (here / n).resolve())]
        if tables and here != root:
            folders.append(here.relative_to(root).as_posix() + "/")
        files.extend((here / n).relative_to(root).as_posix() for n in tables)
        if len(files) + len(folders) >= MAX_ENTRIES:
            break
    return (files + folders)[:MAX_ENTRIES]


def resolve_table(root: Path, choice: str) -> Path:
    """The path of ``choice`` (as ``list_tables`` gives it) under ``root``.

    Raises
    ------
    DataError
        ``choice`` points outside the data folder (``..``, an absolute path, a link that
        leads out) or does not exist.
    """
    root = root.resolve()
    path = (root / choice).resolve()
    if not _inside(root, path):
        raise DataError(
            f"'{choice}' is outside the server's data folder: choose a file or folder inside it."
        )
    if not path.exists():
        raise DataError(f"'{choice}' is not in the server's data folder any more: pick again.")
    return path


def read_sample(path: Path, rows: int) -> tuple[pd.DataFrame, int | None]:
    """The first ``rows`` rows of a table as text (as ``read_csv`` gives), and its row count.

    The count is exact for Parquet (from the files' metadata) and ``None`` for CSV
    (known only after a full pass, which training makes anyway).

    Raises
    ------
    DataError
        The table cannot be read (not a CSV or Parquet file, cut short, badly quoted,
        lines with the wrong number of fields...) or has no data rows; the message says
        which file and what to do.
    """
    source = open_table(path)
    parts: list[pd.DataFrame] = []
    notes = list(source.notes)
    got = 0
    batches = source.batches(list(source.columns), batch_rows=min(rows, 65_536), notes=notes)
    for _, _, frame in batches:
        parts.append(frame.iloc[: rows - got])
        got += len(parts[-1])
        if got >= rows:
            break
    if not parts:
        names = ", ".join(source.columns[:5]) + (", ..." if len(source.columns) > 5 else "")
        raise DataError(
            f"{source.label} has a header row ({printable(names, NAME_LIMIT)}) but no data rows: "
            "choose a table with at least one row of data."
        )
    sample = pd.concat(parts, ignore_index=True)
    sample = sample.astype("str").where(sample.notna())
    sample.attrs["notes"] = notes
    total = None
    if source.format == "parquet":
        import pyarrow.parquet as pq

        total = sum(pq.ParquetFile(f).metadata.num_rows for f in source.files)
    return sample, total
