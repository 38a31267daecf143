"""CSV files read in batches, the way ``read_csv`` reads them, or refused with its messages.

``sniff_csv`` reads the first bytes of a file (unpacked when gzip-compressed, whatever
its name) and finds its ``CsvLayout``: encoding, delimiter, column names and where the
data rows start, with the refusals of ``read_csv`` (empty, binary, a workbook or an
image, JSON, duplicate column names, a cut-short download). ``csv_batches`` then
streams the rows through pyarrow's parser as text frames.

What matches ``read_csv``: gzip by magic bytes, UTF-8 with or without BOM, UTF-16 with
a BOM (Excel's "Unicode text"), cp1252 (Latin-1 for its five undefined bytes), an
Excel ``sep=;`` first line, ``\\r``, ``\\n`` or ``\\r\\n`` line ends, quoted fields with
delimiters or line breaks, empty cells and ``__NA__`` missing, header names stripped.
Two differences a single pass cannot avoid: the encoding is chosen from the first
64 kB, so a value that is not UTF-8 further on is read as cp1252 on its own (``read_csv``
would read the whole file as cp1252); and a line with fewer fields than the header is
refused (``read_csv`` leaves its last cells empty).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from embedding_core.data.charset import reject_binary, utf16_order
from embedding_core.data.csv_reader import (
    DEFAULT_MAX_COLUMNS,
    DELIMITERS,
    _empty_error,
    _header,
    _sniff_delimiter,
)
from embedding_core.data.encoding import MISSING_TOKENS
from embedding_core.errors import DataError
from embedding_core.text import NAME_LIMIT, capitalised, printable

__all__ = ["CsvLayout", "sniff_csv", "csv_batches", "file_label"]

_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF_BYTES = 64_000
# A header line is read whole, up to this many bytes (names of 256 bytes on average at the
# column limit); past it the table has too many columns or absurd names.
_MAX_HEADER_BYTES = _SNIFF_BYTES + 256 * (DEFAULT_MAX_COLUMNS + 1)
_READ_BYTES = 1 << 20
_BLOCK_BYTES = 1 << 22
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# Excel writes "sep=;" as the first line of CSVs meant for another locale.
_SEP_LINE = re.compile(r"\A\ufeff?[ \t]*sep=(.)[ \t]*(?:\r\n|\r|\n)", re.IGNORECASE)
# cp1252, with the five bytes it leaves undefined read as Latin-1 (as read_csv falls back)
_CP1252 = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256))


@dataclass(frozen=True)
class CsvLayout:
    """How one CSV file is read, found from its first bytes by ``sniff_csv``.

    Attributes
    ----------
    columns : tuple of str
        Header names, stripped; empty ones named ``column_<i>``.
    delimiter : str
    encoding : {"utf8", "cp1252", "utf-16"}
    compressed : bool
        Gzip content (recognised by its magic bytes, not its name).
    data_start : int
        Bytes of UTF-8 text before the first data row (BOM, ``sep=`` line, header).
    header_lines : int
        Lines before the first data row (for line numbers in messages).
    """

    columns: tuple[str, ...]
    delimiter: str = ","
    encoding: str = "utf8"
    compressed: bool = False
    data_start: int = 0
    header_lines: int = 1


def file_label(path: Path) -> str:
    """How a file is named in messages: its name, quoted and printable."""
    return f"'{printable(path.name, NAME_LIMIT)}'"


def sniff_csv(path: Path) -> CsvLayout:
    """The ``CsvLayout`` of the CSV file at ``path``.

    Raises
    ------
    DataError
        The file is empty, not text (an image, a workbook, random bytes), JSON, a
        gzip that is cut short or corrupt, UTF-16 that cannot be decoded, has no
        header row, duplicate column names, or a header line too long to be one.
    """
    label = file_label(path)
    head, compressed, complete = _read_head(path, label)
    bom = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
    if not head[bom:].strip(b" \t\r\n\f"):
        raise _empty_error(label)
    reject_binary(head, label)
    if len(head) > _MAX_HEADER_BYTES:
        raise _header_too_long(label, head)
    text, encoding = _decode_head(head, complete, label)
    if _looks_like_json(text):
        raise DataError(
            f"{label} is not a CSV file; it looks like JSON: save the data as CSV "
            "(a header row of column names, then one line per row)."
        )
    delimiter, start = _delimiter(text, complete)
    try:
        fields, end = _header_record(text, start, delimiter)
    except csv.Error as exc:  # a field longer than the csv module allows
        raise _header_too_long(label, head) from exc
    at_end = end == len(text)
    open_quote = at_end and _quote_left_open(text[start:end], delimiter)
    cut = at_end and not complete and not text.endswith(("\n", "\r"))
    _check_header_record(fields, open_quote, cut, label, head)
    return CsvLayout(
        columns=tuple(_header(pd.Series(fields, dtype=object), label)),
        delimiter=delimiter,
        encoding=encoding,
        compressed=compressed,
        data_start=len(text[:end].encode("utf-8")),
        header_lines=len(io.StringIO(text[:end], newline="").readlines()),
    )


def csv_batches(
    path: Path, layout: CsvLayout, columns: Sequence[str], batch_rows: int
) -> Iterator[pd.DataFrame]:
    """Frames of at most ``batch_rows`` rows of ``columns``, all text, empty cells ``NaN``.

    Raises
    ------
    DataError
        A line has more (or fewer) fields than the header, a double quote is never
        closed, or the file is cut short or cannot be read.
    """
    import pyarrow as pa

    label = file_label(path)
    bad_rows: list[tuple[int, int, int | None, str]] = []

    def on_invalid_row(row: Any) -> str:  # a pyarrow.csv.InvalidRow
        bad_rows.append((row.expected_columns, row.actual_columns, row.number, row.text))
        return "error"

    wanted = list(dict.fromkeys(columns))
    last = layout.columns[-1]  # read always: a quote left open there swallows the rest
    rows, end_value = 0, None
    try:
        with _open_utf8(path, layout, label) as stream:
            reader = _arrow_reader(stream, layout, [*wanted, last], on_invalid_row)
            for batch in reader:
                if batch.num_rows:
                    rows, end_value = rows + batch.num_rows, batch.column(last)[-1].as_py()
                for first in range(0, batch.num_rows, batch_rows):
                    yield _text_frame(batch.slice(first, batch_rows).select(wanted))
            if _quote_runs_to_the_end(end_value, stream.tail):
                raise DataError(
                    f'A double quote (") opened in the last column of row {rows:,} of {label} '
                    "is never closed (the value runs to the end of the file): check the "
                    "quoting of that row."
                )
    except pa.ArrowInvalid as exc:
        if str(exc).startswith("Empty CSV file"):
            return  # a header and no data rows
        if bad_rows:
            raise _row_error(bad_rows[0], layout, label) from exc
        raise _unreadable(label, exc) from exc
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable(label, exc) from exc


def _quote_runs_to_the_end(value: bytes | None, tail: bytes) -> bool:
    """Whether the last value spans lines though the file does not end with a quote: pyarrow
    read a quote never closed as a value that runs to the end (``read_csv`` refuses it)."""
    has_break = value is not None and (b"\n" in value or b"\r" in value)
    return has_break and not tail.rstrip(b" \t\r\n").endswith(b'"')


def _arrow_reader(
    stream: BinaryIO,
    layout: CsvLayout,
    columns: Sequence[str],
    on_invalid_row: Callable[[Any], str],
) -> Iterator[object]:
    """pyarrow's streaming reader of ``columns`` (as bytes; ``_text_frame`` decodes them)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    return pacsv.open_csv(
        stream,
        read_options=pacsv.ReadOptions(
            column_names=list(layout.columns),
            block_size=_BLOCK_BYTES,
            use_threads=False,  # serial: invalid rows come with their line number
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=layout.delimiter,
            newlines_in_values=True,
            invalid_row_handler=on_invalid_row,
        ),
        convert_options=pacsv.ConvertOptions(
            include_columns=list(dict.fromkeys(columns)),
            column_types=dict.fromkeys(columns, pa.binary()),
            null_values=["", *MISSING_TOKENS],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )


# ----------------------------------------------------------------------- the head
def _read_head(path: Path, label: str) -> tuple[bytes, bool, bool]:
    """The first bytes (unpacked), whether gzip, and whether they are the whole file."""
    try:
        with path.open("rb") as fh:
            compressed = fh.read(2) == _GZIP_MAGIC
            fh.seek(0)
            stream = _Unpacked(fh, label) if compressed else fh
            head = stream.read(_SNIFF_BYTES)
            # the whole header line, however long (a cut one would name the wrong columns)
            while len(head) <= _MAX_HEADER_BYTES and not _has_line_end(head):
                more = stream.read(_SNIFF_BYTES * 16)
                if not more:
                    break
                head += more
            complete = not stream.read(1)
    except OSError as exc:
        raise DataError(f"Cannot read {label} ({exc.strerror or exc}): check the file.") from exc
    return head, compressed, complete


def _has_line_end(head: bytes) -> bool:
    start = len(head) - len(head.lstrip(b" \t\r\n"))  # blank lines before the header
    return b"\n" in head[start:] or b"\r" in head[start:]


def _decode_head(head: bytes, complete: bool, label: str) -> tuple[str, str]:
    """The head as text, and the encoding the file is read with."""
    bom = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    utf16 = "utf-16" if bom else utf16_order(head)  # without a mark: by its NUL bytes
    if utf16 is not None:
        try:
            return codecs.getincrementaldecoder(utf16)().decode(head, complete), utf16
        except UnicodeDecodeError as exc:
            raise _utf16_error(label) from exc
    try:  # incremental: a character cut at the end of the head is not an error
        return codecs.getincrementaldecoder("utf-8")().decode(head, complete), "utf8"
    except UnicodeDecodeError:
        return codecs.charmap_decode(head, "strict", _CP1252)[0], "cp1252"


def _delimiter(text: str, complete: bool) -> tuple[str, int]:
    """The delimiter (an Excel ``sep=`` line's, else sniffed) and where the header may start."""
    sep_line = _SEP_LINE.match(text)
    if sep_line and sep_line.group(1) in DELIMITERS:
        return sep_line.group(1), sep_line.end()
    return _sniff_delimiter(text.lstrip("\ufeff"), complete=complete), 0


def _header_record(text: str, start: int, delimiter: str) -> tuple[list[str] | None, int]:
    """The header's fields (the first non-blank record after ``start``) and where it ends."""
    lines = io.StringIO(text[start:], newline="")  # splits at \r, \n and \r\n alike
    consumed = start

    def counted() -> Iterator[str]:
        nonlocal consumed
        for line in lines:
            consumed += len(line)
            yield line

    for fields in csv.reader(counted(), delimiter=delimiter):
        if len(fields) > 1 or (fields and fields[0].strip(" \t\ufeff")):
            return fields, consumed  # (read_csv skips blank lines only)
    return None, consumed


def _check_header_record(
    fields: list[str] | None, open_quote: bool, cut: bool, label: str, head: bytes
) -> None:
    """Refuse a header that is missing, has a quote never closed, or runs past the head
    (``cut``: it reaches the end of the bytes read, unfinished, and the file goes on)."""
    if fields is None and not cut:
        raise DataError(f"{capitalised(label)} has no header row: add one naming the columns.")
    if open_quote:
        raise DataError(
            f'A double quote (") opened on line 1 of {label} is never closed: check the '
            "quoting of the header row."
        )
    if fields is None or cut:
        raise _header_too_long(label, head)


def _quote_left_open(record: str, delimiter: str) -> bool:
    """Whether ``record`` ends inside a quoted field."""
    try:
        list(csv.reader(io.StringIO(record, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _looks_like_json(text: str) -> bool:
    """Text that opens a JSON array or object (``[{"a": 1}]``, ``{"rows": ...}``)."""
    body = text.lstrip("\ufeff \t\r\n")
    after = body[1:].lstrip()[:1]
    return body[:1] in ("[", "{") and after in ('"', "{", "[", "]", "}", "")


def _header_too_long(label: str, head: bytes) -> DataError:
    """For a header line longer than ``_MAX_HEADER_BYTES``: how many columns it has."""
    line = head.lstrip(b" \t\r\n")
    complete = _has_line_end(line)
    line = line.splitlines()[0] if complete else line
    fields = max(line.count(d.encode("ascii")) for d in DELIMITERS) + 1
    if fields > DEFAULT_MAX_COLUMNS and complete:
        return DataError(
            f"{label} has {fields:,} columns, more than the {DEFAULT_MAX_COLUMNS:,} supported: "
            "keep the columns you need."
        )
    if fields > DEFAULT_MAX_COLUMNS:
        return DataError(
            f"{label} has more than the {DEFAULT_MAX_COLUMNS:,} columns supported ({fields:,} in "
            f"the first {len(line):,} bytes of its header line): keep the columns you need."
        )
    return DataError(
        f"{label} has a header line longer than {_MAX_HEADER_BYTES:,} bytes: check that the "
        "file is a CSV with a header row of column names."
    )


# --------------------------------------------------------------------- the rows
class _Unpacked(io.RawIOBase):
    """A gzip stream whose damage is a ``DataError`` (cut short, corrupt) with ``read_csv``'s
    words; concatenated members are read one after the other, as ``gzip`` does."""

    def __init__(self, raw: BinaryIO, label: str) -> None:
        super().__init__()
        self._raw, self._label = raw, label
        self._gzip = gzip.GzipFile(fileobj=raw, mode="rb")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            return self._gzip.readinto(buffer)
        except EOFError as exc:
            raise DataError(
                f"{capitalised(self._label)} looks gzip-compressed but is cut short: "
                "check that the download finished."
            ) from exc
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise DataError(
                f"{capitalised(self._label)} looks gzip-compressed but cannot be unpacked ({exc}): "
                "check that the download finished."
            ) from exc

    def close(self) -> None:
        self._gzip.close()
        self._raw.close()
        super().close()


class _Utf8(io.RawIOBase):
    """A binary stream's text as UTF-8 bytes, decoded chunk by chunk by ``decode``."""

    def __init__(self, raw: BinaryIO, decode: Callable[[bytes, bool], str]) -> None:
        super().__init__()
        self._raw, self._decode = raw, decode
        self._buffer, self._done = b"", False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._buffer and not self._done:
            chunk = self._raw.read(_READ_BYTES)
            self._done = not chunk
            self._buffer = self._decode(chunk, self._done).encode("utf-8")
        n = min(len(buffer), len(self._buffer))
        buffer[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Tail(io.RawIOBase):
    """A binary stream that keeps its last bytes (``tail``): how the file ends."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw, self.tail = raw, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        if n:
            self.tail = (self.tail + bytes(buffer[max(0, n - 16) : n]))[-16:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def _open_utf8(path: Path, layout: CsvLayout, label: str) -> _Tail:
    """The file as UTF-8 bytes (unpacked, decoded), positioned at its first data row."""
    try:
        stream: BinaryIO = path.open("rb")
    except OSError as exc:
        raise DataError(f"Cannot read {label} ({exc.strerror or exc}): check the file.") from exc
    if layout.compressed:
        stream = io.BufferedReader(_Unpacked(stream, label), _READ_BYTES)
    decode = _decoder(layout.encoding, label)
    if decode is not None:
        stream = io.BufferedReader(_Utf8(stream, decode), _READ_BYTES)
    if not layout.compressed and decode is None:
        stream.seek(layout.data_start)
        return _Tail(stream)
    left = layout.data_start
    while left > 0:
        skipped = len(stream.read(min(left, _READ_BYTES)))
        if not skipped:
            break
        left -= skipped
    return _Tail(stream)


def _decoder(encoding: str, label: str) -> Callable[[bytes, bool], str] | None:
    if encoding == "utf8":
        return None  # pyarrow reads UTF-8; values that are not are decoded by _text_frame
    if encoding == "cp1252":
        return lambda chunk, final: codecs.charmap_decode(chunk, "strict", _CP1252)[0]
    decoder = codecs.getincrementaldecoder(encoding)()

    def decode(chunk: bytes, final: bool) -> str:
        try:
            return decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            raise _utf16_error(label) from exc

    return decode


def _text_frame(batch: object) -> pd.DataFrame:
    """A batch of byte strings as a frame of text; a value that is not UTF-8 is cp1252."""
    import pyarrow as pa

    arrays = []
    for column in batch.columns:  # type: ignore[attr-defined]
        try:
            arrays.append(column.cast(pa.string()))
        except pa.ArrowInvalid:
            values = [None if v is None else _decode_value(v) for v in column.to_pylist()]
            arrays.append(pa.array(values, pa.string()))
    names = batch.schema.names  # type: ignore[attr-defined]
    return pa.Table.from_arrays(arrays, names=names).to_pandas()


def _decode_value(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return codecs.charmap_decode(value, "strict", _CP1252)[0]


# ----------------------------------------------------------------------- messages


def _utf16_error(label: str) -> DataError:
    return DataError(
        f"{capitalised(label)} starts like UTF-16 text but cannot be decoded: save it as UTF-8 CSV."
    )


def _unreadable(label: str, exc: BaseException) -> DataError:
    detail = printable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 200)
    return DataError(f"{capitalised(label)} could not be read as CSV ({detail}): check the file.")


def _row_error(row: tuple[int, int, int | None, str], layout: CsvLayout, label: str) -> DataError:
    """The message for the first line pyarrow could not split into the header's fields."""
    expected, seen, number, text = row
    line = f"line {number + layout.header_lines}" if number is not None else "a line"
    how = f"read as {_DELIMITER_NAMES[layout.delimiter]}-separated"
    if '"' in text and ("\n" in text or "\r" in text or text.count('"') % 2):
        return DataError(
            f'A double quote (") opened on {line} of {label} is never closed: '
            "check the quoting of that line."
        )
    if seen > expected:
        return DataError(
            f"{capitalised(line)} of {label} has {seen} fields but the header has {expected} "
            f"({how}): "
            "check the delimiter and that text containing the delimiter is in double quotes."
        )
    return DataError(
        f"{capitalised(line)} of {label} has {seen} fields but the header has {expected} ({how}): "
        "a table read in batches needs every field on every line; add the missing delimiters "
        "(empty fields) to that line, or check the delimiter."
    )
