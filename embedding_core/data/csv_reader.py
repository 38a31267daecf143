"""Read a user's CSV into a frame of strings, or say clearly why it cannot be read.

Every column comes back as text (pandas ``str`` dtype), so IDs and zip codes keep
their leading zeros; only empty cells and the explicit missing markers of
``MISSING_TOKENS`` (``__NA__``) become missing (``NaN``). Deciding which columns are
numbers is the job of the profile and of the validation step. The one rewrite: a column
whose every value is a number written with decimal commas ("1.234,50") or thousands
separators ("12,345"), unambiguously (``values.comma_numbers``), becomes plain number
text ("1234.50"). That, and the other liberties taken (a title line above the header
skipped, a few lines of a UTF-8 file read as cp1252, unnamed columns named), are told
in one sentence each in the frame's ``attrs["notes"]``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from embedding_core.data.charset import encoded_bytes, reject_binary
from embedding_core.data.encoding import MISSING_TOKENS
from embedding_core.data.values import DECIMAL_COMMA, THOUSANDS_COMMA, comma_numbers
from embedding_core.errors import DataError
from embedding_core.text import NAME_LIMIT, capitalised, printable

__all__ = ["read_csv", "DELIMITERS", "DEFAULT_MAX_BYTES", "DEFAULT_MAX_COLUMNS"]

#: Largest accepted size, measured after decompression.
DEFAULT_MAX_BYTES = 200_000_000
#: Most columns accepted; checked on the header line before anything is parsed.
DEFAULT_MAX_COLUMNS = 5_000
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF_CHARS = 64_000
_SNIFF_ROWS = 50
_MAX_TITLE_LINES = 3  # lines above the header skipped as a title, at most
_TITLE_CONSISTENCY = 0.9  # share of the rows below a title that agree on their fields
_LINE_END = re.compile(r"\r\n|\r|\n")
_LINE_END_BYTES = re.compile(rb"\r\n|\r|\n")
# '{"a": 1}', '[{"a": 1}]', '[[1, 2]]' or '["a"]', not a header such as "[id],name"
_JSON = re.compile(r'\A\ufeff?\s*(?:\{\s*["}]|\[\s*[\[{"\]])')
_CHUNK_CELLS = 2_000_000  # parse this many cells at a time: bounds the parser's Python objects
# Excel writes "sep=;" as the first line of CSVs meant for another locale.
_SEP_LINE = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*sep=(.)[ \t]*\r?\n", re.IGNORECASE)
_QUOTED = re.compile(rb'"(?:[^"]|"")*"?')
_TEXT = re.compile(rb"[^ \t\r\n]")


def read_csv(
    source: str | Path | bytes | BinaryIO,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int | None = None,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    name: str | None = None,
) -> pd.DataFrame:
    """Read a CSV file into a frame whose columns are all strings.

    Parameters
    ----------
    source : str, Path, bytes or binary file-like
        A path, the raw bytes, or an open binary file (for example Streamlit's
        ``UploadedFile``). Gzip-compressed content is recognised by its magic bytes.
    max_bytes : int, default=200_000_000
        Largest accepted size in bytes, measured after decompression.
    max_rows : int or None, default=None
        Largest accepted number of data rows; ``None`` means no limit. Parsing stops
        as soon as the limit is passed.
    max_columns : int, default=5_000
        Largest accepted number of columns, checked on the header line before any
        parsing (a line of a million empty fields is refused in milliseconds).
    name : str or None, default=None
        File name used in messages; taken from the path or the file object if not given.

    Returns
    -------
    pandas.DataFrame
        One column per header field (names stripped of surrounding whitespace), all of
        pandas ``str`` dtype, empty cells as ``NaN``. Rows that are entirely empty are
        dropped. ``attrs["notes"]`` lists, one sentence each, what the reader did that
        the user should know: columns of numbers read from decimal commas or thousands
        separators, lines of a UTF-8 file read as cp1252, a title line above the header
        skipped, header cells without a name.

    Raises
    ------
    DataError
        The file is empty, has a header but no rows, is not text (an image, a workbook,
        random bytes) or is JSON, has duplicate column names, has a row with more fields
        than the header, or is above the size, row or column limit.

    Examples
    --------
    >>> df = read_csv(b"zip;city\\n01234;Nancy\\n")
    >>> df["zip"].tolist()
    ['01234']
    """
    label = _display_name(source, name)
    raw = _read_bytes(source, max_bytes, label)
    if raw[:2] == _GZIP_MAGIC:
        raw = _gunzip(raw, max_bytes, label)
    if not _TEXT.search(raw, len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0):
        raise _empty_error(label)  # (a search, not a strip: no copy of a big file)
    reject_binary(raw, label)
    raw, encoding, notes = encoded_bytes(raw, label)
    delimiter = None
    sep_line = _SEP_LINE.match(raw)
    if sep_line and sep_line.group(1).decode("latin-1") in DELIMITERS:
        delimiter = sep_line.group(1).decode("latin-1")
        raw = raw[sep_line.end() :]
    sample = raw[: _SNIFF_CHARS * 4].decode(encoding, errors="ignore")[:_SNIFF_CHARS]
    if not sample.strip():
        raise _empty_error(label)
    if _JSON.match(sample):
        raise DataError(
            f"{capitalised(label)} looks like JSON, not CSV: save the table as CSV with a header "
            "row (in pandas: read_json, then to_csv)."
        )
    complete = len(raw) <= _SNIFF_CHARS
    delimiter = delimiter or _sniff_delimiter(sample, complete=complete)
    n_columns = _count_header_fields(raw, delimiter, max_columns, label)
    title = _skip_title(raw, sample, complete, label) if n_columns == 1 else None
    if title is not None:
        raw, delimiter, note = title
        notes.append(note)
        n_columns = _count_header_fields(raw, delimiter, max_columns, label)
    frame = _parse_arrow(raw, encoding, delimiter, n_columns, max_rows)
    if frame is None:
        frame = _parse(raw, encoding, delimiter, n_columns, max_rows, label)
    cells = list(frame.columns)
    line = _first_line(raw)
    if any(token.encode("utf-8") in line for token in MISSING_TOKENS):
        cells = _written_header(raw, encoding, delimiter)  # a column named "__NA__"
    names = _header(cells, label)
    frame.columns = pd.Index(names)
    notes += _unnamed_note(cells, names, label)
    if raw.find(b",") >= 0 and (delimiter != "," or raw.find(b'"') >= 0):
        notes += _plain_numbers(frame, delimiter)  # no comma in any value: nothing to do
    frame.attrs["notes"] = notes
    return frame


def _plain_numbers(frame: pd.DataFrame, delimiter: str) -> list[str]:
    """Rewrite columns of numbers written with commas as plain number text, in place.

    Returns one note per way of writing found, naming the columns and an example.
    """
    found: dict[str, list[str]] = {}
    examples: dict[str, str] = {}
    for i, name in enumerate(frame.columns):
        column = frame.iloc[:, i]
        plain = comma_numbers(column, delimiter)
        if plain is None:
            continue
        text, style = plain
        found.setdefault(style, []).append(name)
        if style not in examples:
            first = int(column.str.contains(",", regex=False, na=False).argmax())
            examples[style] = _example(column.iloc[first], text.iloc[first])
        frame.isetitem(i, text)
    return _number_notes(found, examples)


def _example(written: str, plain: str) -> str:
    return f"{printable(written, 40)!r} as {plain}"


def _number_notes(found: dict[str, list[str]], examples: dict[str, str]) -> list[str]:
    """One note per way of writing numbers (``found``: its columns), with an example."""
    written = {DECIMAL_COMMA: "decimal commas", THOUSANDS_COMMA: "thousands separators"}
    notes = []
    for style, names in found.items():
        quoted = [repr(printable(name, NAME_LIMIT)) for name in names]
        shown = ", ".join(quoted[:5]) + (f" and {len(names) - 5:,} more" if len(names) > 5 else "")
        notes.append(f"Read {shown} as numbers written with {written[style]} ({examples[style]}).")
    return notes


def _display_name(source: object, name: str | None) -> str:
    if name:
        return f"'{printable(name, NAME_LIMIT)}'"
    if isinstance(source, (str, Path)):
        return f"'{printable(Path(source).name, NAME_LIMIT)}'"
    file_name = getattr(source, "name", None)
    if isinstance(file_name, str) and file_name:
        return f"'{printable(Path(file_name).name, NAME_LIMIT)}'"
    return "the file"


def _empty_error(label: str) -> DataError:
    return DataError(
        f"{capitalised(label)} is empty: choose a CSV file with a header row and data rows."
    )


def _too_big(label: str, max_bytes: int, unpacked: bool = False) -> DataError:
    where = " once unpacked" if unpacked else ""
    return DataError(
        f"{capitalised(label)} is larger than the {_human_size(max_bytes)} limit{where}: "
        "upload a sample of its rows or raise the size limit."
    )


def _human_size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:g} MB"
    if n >= 1_000:
        return f"{n / 1_000:g} kB"
    return f"{n} bytes"


def _read_bytes(source: str | Path | bytes | BinaryIO, max_bytes: int, label: str) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"{capitalised(label)} was not found: check the path ({path}).")
        if path.stat().st_size > max_bytes:  # even packed it is over the limit
            raise _too_big(label, max_bytes)
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    elif hasattr(source, "read"):
        if hasattr(source, "seek"):
            try:
                source.seek(0)
            except (OSError, ValueError):
                pass
        data = source.read(max_bytes + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
    else:
        raise TypeError(
            f"Expected a path, bytes or a binary file object. Received: {type(source).__name__}"
        )
    if len(data) > max_bytes:
        raise _too_big(label, max_bytes)
    return data


def _gunzip(raw: bytes, max_bytes: int, label: str) -> bytes:
    decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    parts: list[bytes] = []
    size = 0
    data = raw
    try:
        while data:
            chunk = decoder.decompress(data, max_bytes + 1 - size)
            parts.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise _too_big(label, max_bytes, unpacked=True)
            if decoder.unconsumed_tail:
                data = decoder.unconsumed_tail
            elif decoder.eof and decoder.unused_data[:2] == _GZIP_MAGIC:
                # Concatenated gzip members (what `cat a.gz b.gz` produces).
                data = decoder.unused_data
                decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            else:
                break
    except zlib.error as exc:
        raise DataError(
            f"{capitalised(label)} looks gzip-compressed but cannot be unpacked ({exc}): "
            "check that the download finished."
        ) from exc
    if not decoder.eof:
        raise DataError(
            f"{capitalised(label)} looks gzip-compressed but is cut short: "
            "check that the download finished."
        )
    return b"".join(parts)


def _count_header_fields(raw: bytes, delimiter: str, max_columns: int, label: str) -> int:
    """Fields of the header line, counted on the bytes; refuses more than ``max_columns``."""
    line = _first_line(raw)
    sep = delimiter.encode("ascii")
    count = line.count(sep) + 1
    if count > max_columns and b'"' in line:
        count = _QUOTED.sub(b"", line).count(sep) + 1  # delimiters inside quotes do not count
    if count > max_columns:
        raise DataError(
            f"{capitalised(label)} has {count:,} columns (read as {_DELIMITER_NAMES[delimiter]}-"
            f"separated), more than the limit of {max_columns:,}: keep the columns you need "
            "and upload again."
        )
    return count


def _first_line(raw: bytes) -> bytes:
    """The first line that is not blank, without its line end."""
    # searches bounded by the first line: a strip or a search to the end would copy or
    # scan the whole file (160 MB: seconds for the reader, under load)
    first = _TEXT.search(raw)
    start = first.start() if first else len(raw)
    newline = raw.find(b"\n", start)
    end = newline if newline >= 0 else len(raw)
    carriage = raw.find(b"\r", start, end)
    return raw[start : carriage if carriage >= 0 else end]


def _sniff_delimiter(text: str, complete: bool = False) -> str:
    """Pick the candidate delimiter that splits the first rows most consistently."""
    return _best_split(text, complete)[0]


def _best_split(text: str, complete: bool = False) -> tuple[str, float, int, int]:
    """The delimiter that splits the first rows most consistently, the share of rows
    with as many fields as the first, that number of fields, and the rows looked at.

    Only delimiters that split the first row in two or more count; none: ``(",", 0, 0, 0)``.
    """
    sample = text[:_SNIFF_CHARS]
    if not complete and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # do not judge a row cut in half
    sample = sample.replace("\r\n", "\n").replace("\r", "\n")  # old Mac files end lines in \r
    best: tuple[str, float, int, int] = (",", 0.0, 0, 0)
    for delimiter in DELIMITERS:
        rows = []
        reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
        try:
            for row in reader:
                if row:
                    rows.append(len(row))
                if len(rows) >= _SNIFF_ROWS:
                    break
        except csv.Error:
            continue
        if not rows or rows[0] < 2:
            continue
        consistency = sum(n == rows[0] for n in rows) / len(rows)
        if (consistency, rows[0]) > best[1:3]:
            best = (delimiter, consistency, rows[0], len(rows))
    return best


def _title_lines(sample: str, complete: bool) -> tuple[int, str, int] | None:
    """Lines above the header that look like a title: how many, the delimiter below them
    and the number of fields of the header.

    A title is one field a line ("Claims export 2026"), at most ``_MAX_TITLE_LINES`` of
    them, above rows that agree on two fields or more; None when there is none.
    """
    lines = _LINE_END.split(sample)
    for k in range(1, min(_MAX_TITLE_LINES, len(lines) - 1) + 1):
        delimiter, consistency, width, rows = _best_split("\n".join(lines[k:]), complete)
        if width >= 2 and rows >= 2 and consistency >= _TITLE_CONSISTENCY:
            fields = [next(csv.reader([line], delimiter=delimiter), []) for line in lines[:k]]
            if all(len(f) <= 1 for f in fields) and any(line.strip() for line in lines[:k]):
                return k, delimiter, width
    return None


def _skip_title(
    raw: bytes, sample: str, complete: bool, label: str
) -> tuple[bytes, str, str] | None:
    """``raw`` without the title lines above its header, the delimiter and a note; or None."""
    title = _title_lines(sample, complete)
    if title is None:
        return None
    k, delimiter, width = title
    ends = _LINE_END_BYTES.finditer(raw)
    offset = [next(ends) for _ in range(k)][-1].end()
    return raw[offset:], delimiter, _title_note(sample, k, delimiter, width, label)


def _title_note(sample: str, k: int, delimiter: str, width: int, label: str) -> str:
    """The note telling that the first ``k`` lines of ``sample`` were skipped as a title."""
    text = next(line for line in _LINE_END.split(sample)[:k] if line.strip())
    lines = "line 1" if k == 1 else f"lines 1 to {k}"
    name = _DELIMITER_NAMES[delimiter]
    return (
        f"Skipped {lines} of {label} ({printable(text.strip(), 60)!r}) as a title above the "
        f"header: one field, above rows of {width} {name}-separated fields; if it is the "
        f"header, put the values that hold a {name} in double quotes."
    )


_FIELDS_ERROR = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_QUOTE_ERROR = re.compile(r"EOF inside string starting at row (\d+)")


def _parse_arrow(
    raw: bytes, encoding: str, delimiter: str, n_columns: int, max_rows: int | None
) -> pd.DataFrame | None:
    """``_parse``'s frame from pyarrow's multi-threaded parser, or None to let ``_parse`` do it.

    About 2x less CPU than pandas' parser on a 1M-row file, on both cores. Only for
    text it reads exactly as ``_parse`` does (a test compares the two on random text):
    UTF-8, at least two columns, no double quote (pyarrow accepts a quote left open at
    the end), no tab delimiter (pandas skips lines of blanks, pyarrow reads them), no
    line ended by a lone carriage return (the two split such lines differently).
    Anything it refuses or that needs a message (short or long rows, a bad header, too
    many or no rows) goes to ``_parse``, which says what is wrong.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if encoding not in ("utf-8", "utf-8-sig") or delimiter == "\t" or n_columns < 2:
        return None
    if raw.find(b'"') >= 0 or raw.count(b"\r") != raw.count(b"\r\n"):
        return None  # a quote, or a line ended by a bare carriage return (old Mac files)
    buffer = pa.py_buffer(raw)
    if raw.startswith(codecs.BOM_UTF8):
        buffer = buffer.slice(len(codecs.BOM_UTF8))
    names = [f"c{i}" for i in range(n_columns)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(buffer),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=["", *MISSING_TOKENS],
                strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows < 2 or (max_rows is not None and table.num_rows - 1 > max_rows):
        return None
    frame = table.to_pandas()
    header = _cells(frame.iloc[0])
    frame = frame.iloc[1:].dropna(how="all")
    if frame.empty:
        return None
    frame.columns = pd.Index(header)
    return frame.reset_index(drop=True)


def _parse(
    raw: bytes, encoding: str, delimiter: str, n_columns: int, max_rows: int | None, label: str
) -> pd.DataFrame:
    chunk_rows = max(1_000, _CHUNK_CELLS // max(n_columns, 1))
    header: list[str] | None = None
    parts: list[pd.DataFrame] = []
    n_rows = 0
    try:
        reader = pd.read_csv(
            io.BytesIO(raw),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_values=["", *MISSING_TOKENS],
            skip_blank_lines=True,
            encoding=encoding,
            chunksize=chunk_rows,
            engine="c",
        )
        with reader:
            for chunk in reader:
                if header is None:
                    header = _cells(chunk.iloc[0])
                    chunk = chunk.iloc[1:]
                chunk = chunk.dropna(how="all")
                n_rows += len(chunk)
                if max_rows is not None and n_rows > max_rows:
                    raise DataError(
                        f"{capitalised(label)} has more than {max_rows:,} rows, the limit: "
                        "upload a sample of the rows or raise the row limit."
                    )
                parts.append(chunk.astype("str"))
    except pd.errors.EmptyDataError as exc:
        raise _empty_error(label) from exc
    except pd.errors.ParserError as exc:
        raise _parser_error(exc, delimiter, label) from exc
    if header is None:
        raise _empty_error(label)
    if n_rows == 0:
        shown = ", ".join(h.strip() for h in header[:5]) + (", ..." if len(header) > 5 else "")
        raise DataError(
            f"{capitalised(label)} has a header row ({printable(shown, NAME_LIMIT)}) "
            "but no data rows: "
            "choose a file with at least one row of data."
        )
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    frame.columns = pd.Index(header)
    return frame.reset_index(drop=True)


def _parser_error(exc: Exception, delimiter: str, label: str, offset: int = 0) -> DataError:
    """``DataError`` for pandas' ``exc``; ``offset``: lines of the file before what pandas read."""
    match = _FIELDS_ERROR.search(str(exc))
    if match:
        expected, seen = match.group(1), match.group(3)
        line = int(match.group(2)) + offset
        return DataError(
            f"Line {line} of {label} has {seen} fields but the header has {expected} "
            f"(read as {_DELIMITER_NAMES[delimiter]}-separated): check the delimiter "
            "and that text containing the delimiter is in double quotes."
        )
    match = _QUOTE_ERROR.search(str(exc))
    if match:
        line = int(match.group(1)) + 1 + offset
        return DataError(
            f'A double quote (") opened on line {line} of {label} is never closed: '
            "check the quoting of that line."
        )
    return DataError(f"{capitalised(label)} could not be read as CSV ({printable(exc, 200)}).")


def _cells(row: pd.Series) -> list[str]:
    """The header row's cells as text; empty (or a missing marker) as ""."""
    return ["" if pd.isna(v) else str(v) for v in row]


def _written_header(raw: bytes, encoding: str, delimiter: str) -> list[str]:
    """The header's cells exactly as written, missing markers such as ``__NA__`` included."""
    row = pd.read_csv(
        io.BytesIO(raw),
        sep=delimiter,
        header=None,
        nrows=1,
        dtype=str,
        na_filter=False,
        skip_blank_lines=True,
        encoding=encoding,
        engine="c",
    )
    return _cells(row.iloc[0])


def _header(row: Sequence[object], label: str) -> list[str]:
    """Column names from the header row's cells.

    Names are stripped of surrounding whitespace; an empty cell becomes ``column_<i>``
    (with a suffix when the user wrote that name elsewhere). Duplicates are refused.
    """
    names = [_name(v) for v in row]
    counts = Counter(n for n in names if n)
    duplicates = [n for n, k in counts.items() if k > 1]
    if duplicates:
        shown = ", ".join(repr(printable(d, NAME_LIMIT)) for d in duplicates[:5])
        more = f" and {len(duplicates) - 5:,} more" if len(duplicates) > 5 else ""
        verb = "appear" if len(duplicates) > 1 else "appears"
        raise DataError(
            f"{capitalised(label)} has duplicate column names: {shown}{more} {verb} more "
            "than once; "
            "rename the columns so that each name is unique."
        )
    taken = set(names)
    for i in (i for i, n in enumerate(names) if not n):
        name, k = f"column_{i + 1}", 2
        while name in taken:  # "column_2" is a name the user wrote: "column_2_2"
            name, k = f"column_{i + 1}_{k}", k + 1
        names[i] = name
        taken.add(name)
    return names


def _name(cell: object) -> str:
    """A header cell as a name: stripped of whitespace (and a BOM); "" if empty or missing."""
    return "" if pd.isna(cell) else str(cell).lstrip("\ufeff").strip()


def _unnamed_note(row: Sequence[object], names: list[str], label: str) -> list[str]:
    """A note naming the columns whose header cell is empty, or []."""
    unnamed = [i for i, v in enumerate(row) if not _name(v)]
    if not unnamed:
        return []
    where = ", ".join(str(i + 1) for i in unnamed[:5])
    given = ", ".join(repr(printable(names[i], NAME_LIMIT)) for i in unnamed[:5])
    more = f" and {len(unnamed) - 5:,} more" if len(unnamed) > 5 else ""
    if len(unnamed) == 1:
        return [f"Column {where} of {label} has no name in the header: it is called {given}."]
    return [
        f"Columns {where}{more} of {label} have no name in the header: they are called "
        f"{given}{more}."
    ]
