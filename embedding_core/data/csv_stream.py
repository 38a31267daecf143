"""CSV files read in batches, the way ``read_csv`` reads them, or refused with its messages.

``sniff_csv`` reads the first bytes of a file (unpacked when gzip-compressed, whatever
its name) and finds its ``CsvLayout``: encoding, delimiter, column names and where the
data rows start, with the refusals of ``read_csv`` (empty, binary, a workbook or an
image, JSON, duplicate column names, a cut-short download). ``csv_batches`` then
streams the rows through pyarrow's parser as text frames.

What matches ``read_csv``: gzip by magic bytes, UTF-8 with or without BOM, UTF-16 with
a BOM (Excel's "Unicode text"), cp1252 (latin-1 where it fails), the odd lines of a
mostly UTF-8 file decoded as cp1252 on their own, an Excel ``sep=;`` first line, a title
line above the header (skipped, with ``read_csv``'s note in ``CsvLayout.notes``), ``\\r``,
``\\n`` or ``\\r\\n`` line ends, quoted fields with delimiters or line breaks, empty cells
and ``__NA__`` missing, rows entirely empty left out, a line with fewer fields than the
header read with its last cells empty (pandas' parser reads on from there), header names
stripped. Whether a file is cp1252 or mostly UTF-8 is chosen from its first 64 kB; a
file whose later lines would make ``read_csv`` choose otherwise, and so read other text,
is refused once read, with the lines that are not UTF-8.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from embedding_core.data.charset import LineDecoder, mixed_note, reject_binary, utf16_order
from embedding_core.data.csv_commas import CommaColumns
from embedding_core.data.csv_reader import (
    _LINE_END,
    _SNIFF_CHARS,
    DEFAULT_MAX_COLUMNS,
    DELIMITERS,
    _empty_error,
    _header,
    _parser_error,
    _sniff_delimiter,
    _title_lines,
    _title_note,
)
from embedding_core.data.csv_text import (
    Unpacked,
    Utf8Text,
    line_numbers,
    open_text,
    utf16_error,
    whole_lines,
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
_BLOCK_BYTES = 1 << 22
_BLOCK_ROWS = 1 << 17  # rows of a block read by pandas' parser (past a short line)
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# Excel writes "sep=;" as the first line of CSVs meant for another locale.
_SEP_LINE = re.compile(r"\A\ufeff?[ \t]*sep=(.)[ \t]*(?:\r\n|\r|\n)", re.IGNORECASE)


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
    notes : tuple of str
        What the reader did that the user should know (a title line skipped), as in
        ``read_csv``'s ``attrs["notes"]``.
    """

    columns: tuple[str, ...]
    delimiter: str = ","
    encoding: str = "utf8"
    compressed: bool = False
    data_start: int = 0
    header_lines: int = 1
    notes: tuple[str, ...] = ()


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
    notes: tuple[str, ...] = ()
    try:
        fields, end = _header_record(text, start, delimiter)
        line = _LINE_END.split(text[start:].lstrip(" \t\r\n\ufeff"), maxsplit=1)[0]
        one_field = bool(line) and delimiter not in line  # read_csv counts delimiters
        title = _title(text, start, complete, label) if one_field else None
        if title is not None:
            start, delimiter, note = title
            notes += (note,)
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
        notes=notes,
    )


def csv_batches(
    path: Path,
    layout: CsvLayout,
    columns: Sequence[str],
    batch_rows: int,
    notes: list[str] | None = None,
) -> Iterator[pd.DataFrame]:
    """Frames of at most ``batch_rows`` rows of ``columns``, all text, empty cells ``NaN``.

    As ``read_csv`` does: rows that are entirely empty are left out, a line with fewer
    fields than the header has its last cells empty, and a column of numbers written
    with commas is plain number text (``CommaColumns``; its note goes to ``notes``).

    Raises
    ------
    DataError
        A line has more fields than the header, a double quote is never closed, the
        file is cut short or cannot be read, or it mixes text encodings in a way
        ``read_csv`` would read otherwise.
    """
    commas = CommaColumns(
        layout.delimiter,
        lambda names: (block for block, _ in _text_batches(path, layout, names)),
        file_label(path),
        [] if notes is None else notes,
    )
    for block, may_hold_commas in _text_batches(path, layout, columns, notes):
        # a block at a time: a comma is seen before its rows go
        block = commas.rewrite(block, may_hold_commas)
        for first in range(0, len(block), batch_rows):
            yield block.iloc[first : first + batch_rows].reset_index(drop=True)


def _text_batches(
    path: Path,
    layout: CsvLayout,
    columns: Sequence[str],
    notes: list[str] | None = None,
) -> Iterator[tuple[pd.DataFrame, bool]]:
    """``csv_batches``' rows in blocks (pyarrow's, or ``_BLOCK_ROWS`` rows), numbers with
    commas as written, and whether a value may hold a comma (False: the text read has no
    comma, or no double quote when commas separate the fields); ``notes`` receives
    ``read_csv``'s note on lines read as cp1252."""
    wanted = list(dict.fromkeys(columns))
    # the last column is read always: a quote left open there swallows the rest
    read = list(dict.fromkeys([*wanted, layout.columns[-1]]))
    again = yield from _arrow_batches(path, layout, wanted, read, 0, notes)
    if again is not None:  # a row may be empty in every column: read them all from there
        every = list(layout.columns)
        yield from _arrow_batches(path, layout, wanted, every, again, notes)


def _arrow_batches(
    path: Path,
    layout: CsvLayout,
    wanted: list[str],
    read: list[str],
    skip: int,
    notes: list[str] | None,
) -> Generator[tuple[pd.DataFrame, bool], None, int | None]:
    """``csv_batches``' frames from row ``skip`` on, parsing the columns ``read``; returns
    the rows read when a row is empty in every column read but not all were (else None)."""
    import pyarrow as pa

    label = file_label(path)
    bad_rows: list[tuple[int, int, int | None, str]] = []

    def on_invalid_row(row: Any) -> str:  # a pyarrow.csv.InvalidRow
        bad_rows.append((row.expected_columns, row.actual_columns, row.number, row.text))
        return "error"

    rows, end_value = 0, None
    try:
        with _open_utf8(path, layout, label) as stream:
            for batch in _arrow_reader(stream, layout, read, on_invalid_row):
                n = batch.num_rows
                if n:
                    end_value = batch.column(layout.columns[-1])[-1].as_py()
                rows += n
                batch = batch.slice(max(0, skip - rows + n))
                empty = _empty_rows(batch)
                if empty is not None and len(read) < len(layout.columns):
                    return rows - n
                if empty is not None:
                    batch = batch.filter(pa.compute.invert(empty))
                if batch.num_rows:
                    yield _text_frame(batch.select(wanted)), stream.seen
            if _quote_runs_to_the_end(end_value, stream.tail):
                raise DataError(
                    f'A double quote (") opened in the last column of row {rows:,} of {label} '
                    "is never closed (the value runs to the end of the file): check the "
                    "quoting of that row."
                )
            _check_encoding(path, layout, stream, notes)
    except pa.ArrowInvalid as exc:
        if str(exc).startswith("Empty CSV file"):
            return None  # a header and no data rows
        if not bad_rows:
            raise _unreadable(label, exc) from exc
        if bad_rows[0][1] > bad_rows[0][0] or _quote_open(bad_rows[0][3]):
            raise _row_error(bad_rows[0], layout, label) from exc
        skip = max(rows, skip)
        yield from _short_row_batches(path, layout, wanted, skip, notes)
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable(label, exc) from exc
    return None


def _short_row_batches(
    path: Path,
    layout: CsvLayout,
    wanted: list[str],
    skip: int,
    notes: list[str] | None,
) -> Iterator[tuple[pd.DataFrame, bool]]:
    """``csv_batches``' frames from row ``skip`` on, read by pandas' parser (``read_csv``'s),
    which leaves the last cells of a short line empty; pyarrow's refuses such a line."""
    label = file_label(path)
    positions = [layout.columns.index(c) for c in wanted]
    with _open_utf8(path, layout, label) as stream:
        try:
            reader = pd.read_csv(
                stream,
                sep=layout.delimiter,
                header=None,
                names=list(range(len(layout.columns))),
                index_col=False,
                dtype=str,
                keep_default_na=False,
                na_values=["", *MISSING_TOKENS],
                skip_blank_lines=True,
                encoding="utf-8",
                chunksize=_BLOCK_ROWS,
                engine="c",
            )
            with reader:
                for chunk in reader:
                    dropped = min(skip, len(chunk))
                    chunk, skip = chunk.iloc[dropped:].dropna(how="all"), skip - dropped
                    if len(chunk):
                        frame = chunk.iloc[:, positions].astype("str").reset_index(drop=True)
                        frame.columns = pd.Index(wanted)
                        yield frame, True
        except pd.errors.ParserError as exc:
            raise _parser_error(exc, layout.delimiter, label, layout.header_lines) from exc
        _check_encoding(path, layout, stream, notes)


def _empty_rows(batch: Any) -> Any:
    """The mask of the rows of ``batch`` empty in every column, or None if there is none."""
    import pyarrow.compute as pc

    empty = None
    for column in batch.columns:
        if column.null_count == 0:
            return None  # (the common case: one dense column, no row to drop)
        null = pc.is_null(column)
        empty = null if empty is None else pc.and_(empty, null)
    return empty if empty is not None and pc.any(empty).as_py() else None


def _check_encoding(
    path: Path, layout: CsvLayout, stream: Utf8Text, notes: list[str] | None
) -> None:
    """Refuse a file read line by line that ``read_csv`` would decode otherwise (or the
    other way round: which it does depends on the lines past the head); else add its note
    on the lines read as cp1252 to ``notes``."""
    decoder = stream.decoder
    if decoder is None or not (decoder.mixed or decoder.mismatch()):
        return
    label = file_label(path)
    lines = line_numbers(path, layout.compressed, decoder.starts[:3])
    if not decoder.mismatch():
        if notes is not None:
            notes.append(mixed_note(lines, len(decoder.starts), label))
        return
    shown = ", ".join(f"{n:,}" for n in lines)
    more = len(decoder.starts) - len(lines)
    raise DataError(
        f"{capitalised(label)} mixes text encodings (lines {shown}"
        f"{f' and {more:,} more' if more else ''} are not UTF-8, others are) in a way only a "
        "reading of the whole file settles: read it in memory, or save it as UTF-8."
    )


def _quote_runs_to_the_end(value: bytes | None, tail: bytes) -> bool:
    """Whether the last value spans lines though the file does not end with a quote: pyarrow
    read a quote never closed as a value that runs to the end (``read_csv`` refuses it)."""
    has_break = value is not None and (b"\n" in value or b"\r" in value)
    return has_break and not tail.rstrip(b" \t\r\n").endswith(b'"')


def _arrow_reader(
    stream: BinaryIO, layout: CsvLayout, read: list[str], on_invalid_row: Callable[[Any], str]
) -> Iterator[Any]:
    """pyarrow's streaming reader of the columns ``read`` (as bytes; ``_text_frame`` decodes
    them)."""
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
            include_columns=read,
            column_types=dict.fromkeys(read, pa.binary()),
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
            stream = Unpacked(fh, label) if compressed else fh
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
            raise utf16_error(label) from exc
    try:  # incremental: a character cut at the end of the head is not an error
        return codecs.getincrementaldecoder("utf-8")().decode(head, complete), "utf8"
    except UnicodeDecodeError:  # cp1252 whole or line by line, as the head says (read_csv)
        lines = head[: (len(head) if complete else whole_lines(head)) or len(head)]
        decoder = LineDecoder()
        text = bytes(decoder.decode(lines)).decode("utf-8")
        if not decoder.mismatch():
            return text, "utf8"  # mostly UTF-8
        return bytes(LineDecoder(whole=True).decode(lines)).decode("utf-8"), "cp1252"


def _delimiter(text: str, complete: bool) -> tuple[str, int]:
    """The delimiter (an Excel ``sep=`` line's, else sniffed) and where the header may start."""
    sep_line = _SEP_LINE.match(text)
    if sep_line and sep_line.group(1) in DELIMITERS:
        return sep_line.group(1), sep_line.end()
    return _sniff_delimiter(text.lstrip("\ufeff"), complete=complete), 0


def _title(text: str, start: int, complete: bool, label: str) -> tuple[int, str, str] | None:
    """Title lines above the header, found as ``read_csv`` finds them: where the header
    starts, its delimiter and the note; None when there is none."""
    bom = int(text.startswith("\ufeff", start))
    sample = text[start + bom : start + bom + _SNIFF_CHARS]
    title = _title_lines(sample, complete and len(text) - start - bom <= _SNIFF_CHARS)
    if title is None:
        return None
    k, delimiter, width = title
    ends = _LINE_END.finditer(text, start + bom)
    header = [next(ends) for _ in range(k)][-1].end()
    return header, delimiter, _title_note(sample, k, delimiter, width, label)


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
def _open_utf8(path: Path, layout: CsvLayout, label: str) -> Utf8Text:
    """The file as UTF-8 bytes (unpacked, decoded), from its first data row."""
    watch = b'"' if layout.delimiter == "," else b","  # what a value with a comma needs
    return open_text(path, layout.compressed, layout.encoding, layout.data_start, label, watch)


def _text_frame(batch: Any) -> pd.DataFrame:
    """A batch of byte strings (UTF-8: ``_Utf8`` made it so) as a frame of text."""
    import pyarrow as pa

    arrays = [column.cast(pa.string()) for column in batch.columns]
    return pa.Table.from_arrays(arrays, names=batch.schema.names).to_pandas()


# ----------------------------------------------------------------------- messages


def _unreadable(label: str, exc: BaseException) -> DataError:
    detail = printable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 200)
    return DataError(f"{capitalised(label)} could not be read as CSV ({detail}): check the file.")


def _quote_open(text: str) -> bool:
    """Whether pyarrow's text of a bad row holds a double quote never closed."""
    return '"' in text and ("\n" in text or "\r" in text or text.count('"') % 2 == 1)


def _row_error(row: tuple[int, int, int | None, str], layout: CsvLayout, label: str) -> DataError:
    """The message for the first line pyarrow could not split into the header's fields."""
    expected, seen, number, text = row
    line = f"line {number + layout.header_lines}" if number is not None else "a line"
    if _quote_open(text):
        return DataError(
            f'A double quote (") opened on {line} of {label} is never closed: '
            "check the quoting of that line."
        )
    return DataError(
        f"{capitalised(line)} of {label} has {seen} fields but the header has {expected} "
        f"(read as {_DELIMITER_NAMES[layout.delimiter]}-separated): "
        "check the delimiter and that text containing the delimiter is in double quotes."
    )
