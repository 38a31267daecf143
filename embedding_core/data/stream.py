"""Tables bigger than memory: CSV and Parquet files, folders and globs of shards, in batches.

``open_table`` resolves what a user points at (one file, a folder, or a glob such as
``data/part-*.parquet``) into a ``TableSource``; ``TableSource.batches`` then yields
pandas frames of a bounded number of rows, one file after the other, so the whole
table is never in memory. Scanning is done by ``pyarrow.dataset`` (its fragments are
the files), which reads Parquet column by column and parses CSV in C++ threads.

CSV files are read the way ``read_csv`` reads them (``csv_stream``), so that a streamed
run and an in-memory run see the same values: every column is text, empty cells and
``__NA__`` are missing, each file's delimiter, encoding and ``sep=`` line are found from
its first bytes, header names are stripped, gzip is unpacked on the fly; every file of
a table must have the same columns.

A path that exists is taken as it is, even when its name holds glob characters
(``d[1].csv``); only a path that does not exist is a glob pattern.

``split_mask`` is the deterministic validation split used for streams: a row goes to
validation when a hash of (file name, row number in the file, seed) falls below the
validation fraction, so no shuffle of the whole table is needed and every worker of
a distributed run agrees on it without talking to the others.

``TableSource.split_batches`` is the one loop every pass over a table runs (the
vocabulary pass and the encoding pass of streamed training): batches with their
validation mask and which rows have a target, at most ``max_rows`` rows, a status line
now and then, and a stop check at every batch.
"""

from __future__ import annotations

import glob as globlib
import hashlib
import os
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from embedding_core.data.csv_reader import DEFAULT_MAX_COLUMNS
from embedding_core.data.csv_stream import CsvLayout, csv_batches, file_label, sniff_csv
from embedding_core.errors import DataError, TrainingCancelled
from embedding_core.text import NAME_LIMIT, printable

__all__ = [
    "TableSource",
    "RowBatch",
    "open_table",
    "is_streaming_source",
    "files_note",
    "split_mask",
    "PARQUET_SUFFIXES",
    "CSV_SUFFIXES",
    "MAX_COLUMNS",
    "BATCH_ROWS",
]

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")
#: Tables with more columns than this are refused before any per-column work.
MAX_COLUMNS = DEFAULT_MAX_COLUMNS
#: Rows per batch handed to callers (bounds the memory of one step of a scan).
BATCH_ROWS = 131_072
_PARQUET_MAGIC = b"PAR1"
_SPLIT_BUCKETS = 1 << 20
#: Seconds between two status lines of a pass.
_STATUS_SECONDS = 2.0


@dataclass(frozen=True)
class RowBatch:
    """A batch of ``TableSource.split_batches``.

    Attributes
    ----------
    file : int
        Position of its file in ``TableSource.files``.
    frame : pandas.DataFrame
        The rows (the requested columns).
    valid : ndarray of bool
        Validation rows (``split_mask``).
    labelled : ndarray of bool
        Rows with a target value (the others are left out of training and validation).
    """

    file: int
    frame: pd.DataFrame
    valid: np.ndarray
    labelled: np.ndarray


@dataclass(frozen=True)
class TableSource:
    """One table stored as one or more files of the same format.

    Attributes
    ----------
    files : tuple of pathlib.Path
        The shards, sorted by path.
    format : {"csv", "parquet"}
    columns : tuple of str
        Column names (the first file's; every file must have the used ones).
    layouts : tuple of CsvLayout
        CSV only: how each file is read (its delimiter, encoding, header).
    """

    files: tuple[Path, ...]
    format: Literal["csv", "parquet"]
    columns: tuple[str, ...]
    layouts: tuple[CsvLayout, ...] = ()

    @property
    def delimiter(self) -> str:
        """CSV only: the first file's field separator."""
        return self.layouts[0].delimiter if self.layouts else ","

    @property
    def encoding(self) -> str:
        """CSV only: the first file's text encoding (``utf8``, ``cp1252`` or ``utf-16``)."""
        return self.layouts[0].encoding if self.layouts else "utf8"

    @property
    def notes(self) -> tuple[str, ...]:
        """CSV only: what the reader did that the user should know (a title line skipped),
        one sentence each, as ``read_csv``'s ``attrs["notes"]``."""
        return tuple(note for layout in self.layouts for note in layout.notes)

    @property
    def names(self) -> tuple[str, ...]:
        """The files' paths relative to their common folder (their identity in splits
        and vocabulary files: the same on every host that mounts the data elsewhere)."""
        if len(self.files) == 1:
            return (self.files[0].name,)
        root = Path(os.path.commonpath([str(f.resolve()) for f in self.files]))
        return tuple(f.resolve().relative_to(root).as_posix() for f in self.files)

    @property
    def label(self) -> str:
        """How the source is named in messages."""
        if len(self.files) == 1:
            return file_label(self.files[0])
        return f"{len(self.files)} {self.format} files"

    def shard(self, index: int, count: int) -> TableSource:
        """The files worker ``index`` of ``count`` reads (every ``count``-th file).

        Raises
        ------
        DataError
            Fewer files than workers: some worker would have nothing to read.
        """
        if count < 1 or not 0 <= index < count:
            raise ValueError(f"Expected 0 <= index < count. Received: index={index}, count={count}")
        if len(self.files) < count:
            raise DataError(
                f"{self.label} cannot be shared by {count} workers: split the data into at "
                f"least {count} files (one or more per worker)."
            )
        return replace(self, files=self.files[index::count], layouts=self.layouts[index::count])

    def check_columns(self, columns: Sequence[str]) -> None:
        """Raise ``DataError`` naming the columns the table does not have."""
        unknown = [c for c in dict.fromkeys(columns) if c not in self.columns]
        if unknown:
            known = ", ".join(f"'{c}'" for c in self.columns[:8])
            more = ", ..." if len(self.columns) > 8 else ""
            raise DataError(
                f"{', '.join(repr(c) for c in unknown)} not in {self.label}; "
                f"choose among {known}{more}."
            )

    def batches(
        self,
        columns: Sequence[str],
        *,
        batch_rows: int = BATCH_ROWS,
        only: Collection[int] | None = None,
        notes: list[str] | None = None,
    ) -> Iterator[tuple[int, int, pd.DataFrame]]:
        """Yield ``(file_number, first_row, frame)`` for every batch, file by file.

        ``frame`` holds ``columns`` only (CSV: all text, empty cells ``NaN``; Parquet:
        the stored types); ``first_row`` is the position of its first row in its file.
        ``only``: read just these file numbers (positions in ``files``). ``notes``
        receives, as they are found, notes such as ``read_csv``'s on columns of numbers
        written with commas (read as plain numbers).
        """
        self.check_columns(columns)
        cols = list(dict.fromkeys(columns))
        if self.format == "csv":
            for number, (path, layout) in enumerate(zip(self.files, self.layouts, strict=True)):
                if only is None or number in only:
                    yield from self._csv_batches(number, path, layout, cols, batch_rows, notes)
            return
        yield from self._parquet_batches(cols, batch_rows, only)

    def _csv_batches(
        self,
        number: int,
        path: Path,
        layout: CsvLayout,
        cols: list[str],
        batch_rows: int,
        notes: list[str] | None,
    ) -> Iterator[tuple[int, int, pd.DataFrame]]:
        missing = [c for c in cols if c not in layout.columns]
        if missing:
            raise DataError(
                f"{file_label(path)} has no column {', '.join(repr(c) for c in missing)}: "
                "every file must have the same columns."
            )
        first = 0
        for frame in csv_batches(path, layout, cols, batch_rows, notes):
            yield number, first, frame
            first += len(frame)

    def _parquet_batches(
        self, cols: list[str], batch_rows: int, only: Collection[int] | None
    ) -> Iterator[tuple[int, int, pd.DataFrame]]:
        import pyarrow as pa
        import pyarrow.dataset as ds

        paths = [str(f) for f in self.files]
        dataset = ds.dataset(paths, format=ds.ParquetFileFormat())
        for number, fragment in enumerate(dataset.get_fragments()):
            if only is not None and number not in only:
                continue
            name = file_label(Path(fragment.path))
            missing = [c for c in cols if c not in fragment.physical_schema.names]
            if missing:
                raise DataError(
                    f"{name} has no column {', '.join(repr(c) for c in missing)}: "
                    "every file must have the same columns."
                )
            first = 0
            try:
                batches = fragment.to_batches(
                    columns=cols, batch_size=batch_rows, batch_readahead=1, use_threads=True
                )
                for batch in batches:
                    if batch.num_rows == 0:
                        continue
                    frame = pa.Table.from_batches([batch]).to_pandas()
                    yield number, first, frame
                    first += batch.num_rows
            except (pa.ArrowException, OSError) as exc:
                raise DataError(
                    f"{name} could not be read as Parquet ({str(exc).splitlines()[0]}): "
                    "check the file."
                ) from exc

    def split_batches(
        self,
        columns: Sequence[str],
        target: str,
        *,
        valid_fraction: float,
        seed: int,
        max_rows: int | None = None,
        only: Collection[int] | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_status: Callable[[str], None] | None = None,
        label: str = "reading",
        notes: list[str] | None = None,
    ) -> Iterator[RowBatch]:
        """One pass over the table: ``RowBatch`` objects with their split and target masks.

        Parameters
        ----------
        columns : sequence of str
            Columns to read (``target`` is added when absent).
        target : str
            The target column; rows where it is missing are marked in ``labelled``.
        valid_fraction, seed : float, int
            The validation split (``split_mask``).
        max_rows : int, optional
            Stop after this many rows (the first ones, counted over the files read).
        only : collection of int, optional
            Read just these file numbers.
        should_stop : callable, optional
            Checked before every batch; when it returns True the pass raises
            ``TrainingCancelled``.
        on_status : callable, optional
            Receives ``"<label>: N rows read (R rows/s)"`` every few seconds and
            ``"<label>: N rows in S s (R rows/s)"`` at the end.
        label : str
            Names the pass in the status lines.
        notes : list of str, optional
            Receives the notes of the reading (as ``batches``).

        Raises
        ------
        TrainingCancelled
            ``should_stop`` returned True.
        """
        from embedding_core.data.values import target_missing

        names = self.names
        rows_read = 0
        t0 = last = time.perf_counter()
        for number, first, frame in self.batches([*columns, target], only=only, notes=notes):
            if should_stop is not None and should_stop():
                raise TrainingCancelled(
                    "Training was stopped while the data was being read; no model was kept."
                )
            if max_rows is not None and rows_read >= max_rows:
                break
            if max_rows is not None and rows_read + len(frame) > max_rows:
                frame = frame.iloc[: max_rows - rows_read]
            rows_read += len(frame)
            valid = split_mask(
                names[number], first, len(frame), valid_fraction=valid_fraction, seed=seed
            )
            yield RowBatch(number, frame, valid, ~target_missing(frame[target]))
            now = time.perf_counter()
            if on_status is not None and now - last > _STATUS_SECONDS:
                last = now
                rate = rows_read / (now - t0)
                on_status(f"{label}: {rows_read:,} rows read ({rate:,.0f} rows/s)")
        if on_status is not None:
            seconds = time.perf_counter() - t0
            on_status(
                f"{label}: {rows_read:,} rows in {seconds:.1f} s "
                f"({rows_read / max(seconds, 1e-9):,.0f} rows/s)"
            )


def is_streaming_source(spec: str | Path, *, csv_above_bytes: int) -> bool:
    """Whether ``spec`` should be streamed rather than read into memory.

    Folders, globs and Parquet files always stream; a single CSV streams when it is
    larger than ``csv_above_bytes`` on disk.
    """
    text = str(spec)
    path = Path(text)
    if path.is_dir():
        return True
    if path.is_file():
        return _file_kind(path) == "parquet" or path.stat().st_size > csv_above_bytes
    return globlib.has_magic(text)


def open_table(spec: str | Path) -> TableSource:
    """Resolve a file, a folder or a glob of CSV or Parquet shards into a ``TableSource``.

    Parameters
    ----------
    spec : str or Path
        A CSV (optionally gzip) or Parquet file; a folder (every ``.parquet``/``.pq``
        or ``.csv``/``.tsv``/``.txt`` file below it, recursively); or a glob pattern.

    Raises
    ------
    DataError
        Nothing matches, files of both formats are mixed, a file is unreadable, or the
        table has more than ``MAX_COLUMNS`` columns.
    """
    files = _resolve_files(spec)
    kinds = {_file_kind(f) for f in files}
    if len(kinds) > 1:
        raise DataError(
            f"'{spec}' mixes CSV and Parquet files: point at one format (for example "
            "a glob such as data/*.parquet)."
        )
    kind = kinds.pop()
    if kind == "parquet":
        source = TableSource(tuple(files), "parquet", _parquet_columns(files[0]))
    else:
        source = _csv_source(files)
    if len(source.columns) > MAX_COLUMNS:
        raise DataError(
            f"{source.label} has {len(source.columns):,} columns, more than the "
            f"{MAX_COLUMNS:,} supported: keep the columns you need."
        )
    return source


def files_note(spec: str | Path, source: TableSource) -> str | None:
    """A line naming the files a folder or a glob pattern matched; None for one file."""
    if len(source.files) < 2:
        return None
    names = [printable(n, NAME_LIMIT) for n in source.names]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5:,} more" if len(names) > 5 else "")
    return (
        f"'{printable(str(spec), NAME_LIMIT)}' matches {len(names):,} files, "
        f"read as one table: {shown}."
    )


def split_mask(
    file_name: str, first_row: int, n_rows: int, *, valid_fraction: float, seed: int
) -> np.ndarray:
    """Which rows of a batch go to validation (``True``), from a hash of their position.

    ``file_name`` is the file's entry in ``TableSource.names``. The hash of (file name,
    row number in the file, seed) is uniform, so about
    ``valid_fraction`` of the rows of every file are chosen, the same ones on every run
    and on every worker, whatever the batch boundaries.
    """
    key = int.from_bytes(
        hashlib.blake2b(f"{file_name}\0{seed}".encode(), digest_size=8).digest(),
        "little",
    )
    rows = np.arange(first_row, first_row + n_rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = rows * np.uint64(0x9E3779B97F4A7C15) + np.uint64(key)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    bucket = (z % np.uint64(_SPLIT_BUCKETS)).astype(np.int64)
    return bucket < int(round(valid_fraction * _SPLIT_BUCKETS))


# ----------------------------------------------------------------- resolving files
def _is_table_file(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and name.endswith(PARQUET_SUFFIXES + CSV_SUFFIXES)


def _resolve_files(spec: str | Path) -> list[Path]:
    text = str(spec)
    if not text.strip():
        raise DataError("No data given: point --data at a CSV or Parquet file, folder or glob.")
    path = Path(text)
    if path.is_file():  # taken as it is, even with glob characters in its name
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if _is_table_file(p))
        what = f"the folder '{text}'"
    elif globlib.has_magic(text):
        files = sorted(Path(p) for p in globlib.glob(text, recursive=True) if Path(p).is_file())
        what = f"the pattern '{text}'"
    else:
        raise DataError(f"Cannot read {text}: no such file or folder.")
    files = [f for f in files if not f.name.startswith((".", "_"))]
    if not files:
        raise DataError(
            f"No CSV or Parquet file matches {what}: check the path "
            "(files must end in .csv, .csv.gz, .tsv, .txt, .parquet or .pq)."
        )
    return files


def _file_kind(path: Path) -> Literal["csv", "parquet"]:
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise DataError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    return "parquet" if head == _PARQUET_MAGIC else "csv"


def _parquet_columns(path: Path) -> tuple[str, ...]:
    import pyarrow.parquet as pq

    try:
        return tuple(pq.read_schema(path).names)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's to fix
        raise DataError(
            f"'{path.name}' looks like Parquet but cannot be read ({type(exc).__name__}): "
            "check that the file is complete."
        ) from exc


def _csv_source(files: list[Path]) -> TableSource:
    """Each file's layout; refuses a file whose columns differ from the first file's."""
    layouts = tuple(sniff_csv(f) for f in files)
    first = layouts[0].columns
    for path, layout in zip(files[1:], layouts[1:], strict=True):
        if set(layout.columns) != set(first):
            lacks = [c for c in first if c not in layout.columns]
            extra = [c for c in layout.columns if c not in first]
            what = "; ".join(
                part
                for part in (
                    _names("lacks", lacks),
                    _names("has", extra),
                )
                if part
            )
            raise DataError(
                f"{file_label(path)} does not have the columns of {file_label(files[0])} "
                f"({what}): every file of a table needs the same header; move the other "
                "files away or point at the files that belong together."
            )
    return TableSource(tuple(files), "csv", first, layouts)


def _names(verb: str, names: list[str]) -> str:
    if not names:
        return ""
    shown = ", ".join(repr(printable(n, NAME_LIMIT)) for n in names[:5])
    return f"{verb} {shown}{', ...' if len(names) > 5 else ''}"
