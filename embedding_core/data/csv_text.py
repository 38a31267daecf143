"""A CSV file's bytes as UTF-8 text, a piece at a time, for pyarrow's and pandas' parsers.

``open_text`` unpacks gzip (``Unpacked``: damage is a ``DataError`` in ``read_csv``'s
words), decodes UTF-16, and passes other files on whole lines at a time through a
``charset.LineDecoder``, which decodes the lines that are not UTF-8 as ``read_csv`` does.
A UTF-8 file is passed on as it is read, without a copy of its lines.
"""

from __future__ import annotations

import codecs
import gzip
import io
import zlib
from collections import deque
from pathlib import Path
from typing import BinaryIO

from embedding_core.data.charset import LineDecoder, _line_ends
from embedding_core.errors import DataError
from embedding_core.text import capitalised

__all__ = ["Unpacked", "Utf8Text", "open_text", "whole_lines", "line_numbers", "utf16_error"]

READ_BYTES = 1 << 22  # as pyarrow's blocks: one piece a block, most often


class Unpacked(io.RawIOBase):
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


class Utf8Text(io.RawIOBase):
    """A binary stream's text as UTF-8 bytes from its ``skip``-th byte on: UTF-16 decoded,
    or whole lines at a time through a ``LineDecoder`` (lines that are not UTF-8 decoded as
    ``read_csv`` does). ``tail``: the last bytes read (how the file ends); ``seen``: whether
    the bytes ``watch`` were in the text read (one search a read, until they are)."""

    def __init__(
        self, raw: BinaryIO, encoding: str, label: str, skip: int, watch: bytes = b""
    ) -> None:
        super().__init__()
        self._raw, self._label, self._skip, self._watch = raw, label, skip, watch
        self.seen = not watch  # whether ``watch`` was in the text read
        utf16 = encoding.startswith("utf-16")
        self.decoder = None if utf16 else LineDecoder(whole=encoding == "cp1252")
        self._utf16 = codecs.getincrementaldecoder(encoding)() if self.decoder is None else None
        self._rest, self._out, self._done = b"", deque[memoryview](), False
        self.tail = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all that are left if ``size`` is negative)."""
        parts: list[memoryview] = []
        want = size if size is not None and size >= 0 else float("inf")
        while want > 0 and (self._out or not self._done):
            if not self._out:
                chunk = self._raw.read(READ_BYTES)
                self._done = not chunk
                self._out.extend(memoryview(out) for out in self._decode(chunk) if len(out))
                self._skip_start()
                continue
            out = self._out.popleft()
            if len(out) > want:
                self._out.appendleft(out[int(want) :])
                out = out[: int(want)]
            parts.append(out)
            want -= len(out)
        data = bytes(parts[0]) if len(parts) == 1 else b"".join(parts)
        if data:
            self.tail = (self.tail + data[-16:])[-16:]
            self.seen = self.seen or data.find(self._watch) >= 0
        return data

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _skip_start(self) -> None:
        """Drop the first ``skip`` bytes of text (what comes before the data rows)."""
        while self._skip and self._out:
            out = self._out.popleft()
            if len(out) > self._skip:
                self._out.appendleft(out[self._skip :])
            self._skip = max(0, self._skip - len(out))

    def _decode(self, chunk: bytes) -> list[bytes | memoryview]:
        """The UTF-8 of ``chunk``: whole lines (the rest of the last one waits), without
        copying the lines of a UTF-8 chunk but its first and last."""
        if self._utf16 is not None:
            try:
                return [self._utf16.decode(chunk, self._done).encode("utf-8")]
            except UnicodeDecodeError as exc:
                raise utf16_error(self._label) from exc
        decode = self.decoder.decode  # type: ignore[union-attr]
        if self._done:
            return [decode(self._rest)] if self._rest else []
        first, cut = _first_line_end(chunk), whole_lines(chunk)
        if not first:  # no line end: the line goes on
            self._rest += chunk
            return []
        head, self._rest = self._rest + chunk[:first], chunk[cut:]
        return [decode(head), decode(memoryview(chunk)[first:cut], chunk.isascii())]

    def close(self) -> None:
        self._raw.close()
        super().close()


def _first_line_end(data: bytes) -> int:
    """Bytes of ``data`` up to its first line end (0 if none; a ``\\r`` ending ``data``
    waits for the next bytes)."""
    newline = data.find(b"\n") + 1
    carriage = data.find(b"\r", 0, newline - 2 if newline else len(data) - 1) + 1
    return carriage or newline


def whole_lines(data: bytes) -> int:
    """Bytes of ``data`` up to its last line end (0 if none); a ``\\r`` that ends ``data``
    waits for the next bytes (they may start with the ``\\n`` of a ``\\r\\n``)."""
    newline = data.rfind(b"\n") + 1
    carriage = data.rfind(b"\r", newline, len(data) - 1) + 1
    return max(newline, carriage)


def open_text(
    path: Path, compressed: bool, encoding: str, skip: int, label: str, watch: bytes = b""
) -> Utf8Text:
    """The file at ``path`` as UTF-8 text (unpacked, decoded) from its ``skip``-th byte of
    text on; ``encoding`` as ``CsvLayout.encoding``, ``watch`` as ``Utf8Text``'s."""
    try:
        stream: BinaryIO = path.open("rb")
    except OSError as exc:
        raise DataError(f"Cannot read {label} ({exc.strerror or exc}): check the file.") from exc
    if compressed:
        stream = io.BufferedReader(Unpacked(stream, label), READ_BYTES)
    # decoded from the first byte: the head counts in what LineDecoder decides
    return Utf8Text(stream, encoding, label, skip, watch)


def line_numbers(path: Path, compressed: bool, starts: list[int]) -> list[int]:
    """The numbers of the lines that start at the byte offsets ``starts`` (sorted)."""
    numbers: list[int] = []
    line, at, rest = 1, 0, b""
    with path.open("rb") as raw:
        stream = Unpacked(raw, path.name) if compressed else raw
        while len(numbers) < len(starts):
            chunk = stream.read(READ_BYTES)
            data, rest = (
                (rest + chunk, b"") if not chunk.endswith(b"\r") else (rest + chunk[:-1], b"\r")
            )
            numbers += [
                line + _line_ends(data, 0, start - at)
                for start in starts[len(numbers) :]
                if start <= at + len(data)
            ]
            line, at = line + _line_ends(data, 0, len(data)), at + len(data)
            if not chunk:
                break
    return numbers


def utf16_error(label: str) -> DataError:
    return DataError(
        f"{capitalised(label)} starts like UTF-16 text but cannot be decoded: save it as UTF-8 CSV."
    )
